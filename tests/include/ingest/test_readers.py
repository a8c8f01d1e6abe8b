"""Reading files as text: digits survive, Excel's encodings and delimiters are understood, and a file that
cannot be read as its contract is rejected whole with the reason."""

import json
import re

import pytest

from include.netralitas.ingest.readers import BatchRejected, parse_dates, read_case_report, read_national_release

HEADER = "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"


def test_an_18_digit_nip_survives_a_blank_cell(tmp_path):
    path = tmp_path / "82.04_a.csv"
    path.write_text(
        HEADER + "\n"
        "82.04,001/PL,2024-11-01,PILKADA-2024,Pemkab Halsel,199001012015031001,Ani,pelaksana,lainnya,diproses\n"
        "82.04,002/PL,2024-11-02,PILKADA-2024,Pemkab Halsel,,Budi,pelaksana,lainnya,diproses\n"
    )
    frame = read_case_report(path)
    assert frame["nip"].tolist() == ["199001012015031001", None]
    assert frame["baris"].tolist() == [1, 2]


def test_excel_export_windows_1252_semicolons_and_day_first_dates(tmp_path):
    path = tmp_path / "82.04_b.csv"
    row = "82.04;001/PL;03/11/2024;Pilkada 2024;Pemkab Halsel;;Sití Nurhayati;pelaksana;lainnya;sanksi"
    path.write_bytes((HEADER.replace(",", ";") + "\r\n" + row + "\r\n").encode("cp1252"))
    frame = read_case_report(path)
    assert frame.loc[0, "nama_terlapor"] == "Sití Nurhayati"
    assert frame.loc[0, "tanggal_temuan"] == "03/11/2024"
    assert str(parse_dates(frame["tanggal_temuan"]).iloc[0]) == "2024-11-03"


def test_utf8_bom_and_header_case_and_spaces_are_ignored(tmp_path):
    path = tmp_path / "82.04_c.csv"
    header = HEADER.upper().replace(",", " , ")
    path.write_bytes(("\ufeff" + header + "\n82.04,1,2024-11-01,PEMILU-2024,Kemenag,,,JPT,lainnya,diproses\n")
                     .encode("utf-8"))  # fmt: skip
    frame = read_case_report(path)
    assert frame.loc[0, "kode_kantor"] == "82.04"
    assert frame.loc[0, "jabatan"] == "JPT"


def test_json_rows_and_an_empty_json_report(tmp_path):
    path = tmp_path / "82.04_d.json"
    row = dict(zip(HEADER.split(","), ["82.04", "1", "2024-11-01", "PEMILU-2024", "Kemenag", "019", "", "JPT",
                                        "lainnya", "diproses"], strict=True))  # fmt: skip
    path.write_text(json.dumps({"rows": [row]}))
    assert read_case_report(path).loc[0, "nip"] == "019"
    path.write_text("[]")
    assert len(read_case_report(path)) == 0


def test_header_only_is_zero_rows(tmp_path):
    path = tmp_path / "82.04_e.csv"
    path.write_text(HEADER + "\n")
    assert len(read_case_report(path)) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        (
            "kode_kantor,nomor_kasus\n82.04,1\n",
            r"required column\(s\) missing for case-report/v1: tanggal_temuan",
        ),
        (HEADER + ",status\n", "duplicated header status"),
        ("{not json", "invalid JSON"),
    ],
)
def test_unreadable_batches_are_rejected_whole(tmp_path, content, message):
    path = tmp_path / ("82.04_f.json" if content.startswith("{") else "82.04_f.csv")
    path.write_text(content)
    with pytest.raises(BatchRejected, match=message):
        read_case_report(path)


def test_invalid_dates_become_missing():
    parsed = parse_dates(__import__("pandas").Series(["31/02/2024", "2024-02-29", "2024/02/01", None]))
    assert [str(v) if v else None for v in parsed] == [None, "2024-02-29", None, None]


def test_national_release_needs_its_metadata(tmp_path):
    (tmp_path / "rilis.csv").write_text("instansi,jumlah\nKemenag,5\n")
    with pytest.raises(BatchRejected, match="sidecar"):
        read_national_release(tmp_path / "rilis.csv")
    meta = {
        "penerbit": "bawaslu",
        "judul": "Rilis",
        "tanggal_data": "15/11/2024",
        "pemilihan": "Pilkada 2024",
    }
    (tmp_path / "rilis.meta.json").write_text(json.dumps(meta))
    parsed, frame = read_national_release(tmp_path / "rilis.csv")
    assert (parsed.penerbit, parsed.pemilihan, str(parsed.tanggal_data)) == (
        "BAWASLU",
        "PILKADA-2024",
        "2024-11-15",
    )
    assert frame.loc[0, "jumlah"] == "5"
    (tmp_path / "rilis.meta.json").write_text(json.dumps({**meta, "penerbit": "KPU"}))
    with pytest.raises(BatchRejected, match="penerbit"):
        read_national_release(tmp_path / "rilis.csv")


def test_xlsx_header_below_title_rows_on_the_second_sheet_keeps_every_digit(tmp_path):
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Ringkasan"
    book.active.append(["Rekap kasus", None])
    sheet = book.create_sheet("Data")
    sheet.append(["LAPORAN KASUS NETRALITAS ASN"])
    sheet.append(["Bawaslu Kabupaten Halmahera Selatan"])
    sheet.append([])
    sheet.append(HEADER.upper().split(","))
    sheet.append(["82.04", "001/PL", datetime(2024, 11, 3), "Pilkada 2024", "Pemkab Halsel", "199001012015031001",
                  "Ani", "pelaksana", "lainnya", "diproses"])  # fmt: skip
    sheet.append(["82.04", "002/PL", "04/11/2024", "Pilkada 2024", "Kemenag", 199001012015031001, "Budi",
                  "pelaksana", "lainnya", "#REF!"])  # fmt: skip
    sheet.append([None] * 10)
    path = tmp_path / "82.04_x.xlsx"
    book.save(path)
    frame = read_case_report(path)
    assert len(frame) == 2
    assert frame.loc[0, "tanggal_temuan"] == "2024-11-03"
    assert frame.loc[0, "nip"] == "199001012015031001"  # a text cell keeps its 18 digits
    assert frame.loc[1, "nip"] == "1.99001012015031e+17"  # a number cell lost digits: shown as Excel shows it
    assert frame.loc[1, "status"] == "#REF!"  # left to validation, which quarantines it
    assert frame["baris"].tolist() == [1, 2]


def test_unreadable_xlsx_is_rejected(tmp_path):
    path = tmp_path / "82.04_x.xlsx"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(BatchRejected, match="not a readable XLSX"):
        read_case_report(path)


def test_csv_with_title_rows_above_the_header(tmp_path):
    path = tmp_path / "82.04_t.csv"
    path.write_text(
        "Laporan Bawaslu Halsel;;\n\n"
        + HEADER.replace(",", ";")
        + "\n82.04;1;03/11/2024;Pilkada 2024;Kemenag;;;pelaksana;lainnya;sanksi\n"
    )
    frame = read_case_report(path)
    assert frame.loc[0, "status"] == "sanksi"
    assert len(frame) == 1


def test_html_release_page_with_two_tables(tmp_path):
    page = """<html><body><h1>Rilis</h1>
    <table><tr><th>Bulan</th><th>Kegiatan</th></tr><tr><td>November</td><td>Sosialisasi</td></tr></table>
    <table class="data"><thead><tr><th>No</th><th>Instansi</th><th>Provinsi</th><th>Jumlah</th></tr></thead>
    <tbody><tr><td>1</td><td>Kementerian&nbsp;Agama</td><td></td><td>12</td></tr>
    <tr><td>2</td><td>Pemkab <b>Halmahera Selatan</b></td><td>Maluku Utara</td><td>7</td></tr></tbody></table>
    </body></html>"""
    (tmp_path / "rilis.html").write_text(page)
    meta = {"penerbit": "KASN", "judul": "Rilis", "tanggal_data": "2024-11-15", "pemilihan": "PILKADA-2024"}
    (tmp_path / "rilis.meta.json").write_text(json.dumps(meta))
    parsed, frame = read_national_release(tmp_path / "rilis.html")
    assert parsed.penerbit == "KASN"
    assert frame[["instansi", "jumlah", "provinsi"]].values.tolist() == [
        ["Kementerian Agama", "12", None],
        ["Pemkab Halmahera Selatan", "7", "Maluku Utara"],
    ]


def test_html_page_without_the_table_is_rejected(tmp_path):
    (tmp_path / "rilis.html").write_text("<html><body><p>Tidak ada tabel</p></body></html>")
    (tmp_path / "rilis.meta.json").write_text(
        json.dumps({"penerbit": "KASN", "judul": "R", "tanggal_data": "2024-11-15", "pemilihan": "SEMUA"})
    )
    with pytest.raises(BatchRejected, match="no table"):
        read_national_release(tmp_path / "rilis.html")


def test_windows_1252_bytes_behind_a_utf8_bom(tmp_path):
    path = tmp_path / "82.04_bom1252.csv"
    row = "82.04;1;03/11/2024;Pilkada 2024;Kemenag;;Sití;pelaksana;lainnya;sanksi"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER.replace(",", ";") + "\n" + row + "\n").encode("cp1252"))
    frame = read_case_report(path)
    assert frame.loc[0, "kode_kantor"] == "82.04"
    assert frame.loc[0, "nama_terlapor"] == "Sití"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"rows": [{"kode_kantor": "82.04", "kode_kantor": "82.01"}]}', "duplicate key(s) 'kode_kantor'"),
        ('{"rows": [{"kode_kantor": NaN}]}', "NaN is not a JSON value"),
        ('{"rows": [{"kode_kantor": "82.04"', "invalid JSON at line 1"),
    ],
)
def test_json_that_cannot_be_trusted_is_rejected_with_the_reason(tmp_path, content, message):
    path = tmp_path / "82.04_j.json"
    path.write_text(content)
    with pytest.raises(BatchRejected, match=re.escape(message)):
        read_case_report(path)


def test_a_very_long_line_is_rejected_with_a_bound(tmp_path):
    path = tmp_path / "82.04_long.csv"
    path.write_text(HEADER + "\n82.04,1,2024-11-01,PEMILU-2024," + "x" * 200_000 + ",,,JPT,lainnya,diproses\n")
    with pytest.raises(BatchRejected, match="over the limit of 100000"):
        read_case_report(path)
