"""The publication's pages from synthetic snapshots: trend order, province pages and their sentences,
dates written one way, licence and attribution, the week index, escaping."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest

from include.netralitas.publish.pages import (
    LICENCE,
    REGIONS,
    province_facts,
    render_html,
    render_index,
    render_pages,
    tanggal,
    waktu,
)
from include.netralitas.publish.ranking import trend_rows
from include.netralitas.publish.render import render_datapackage, render_json
from include.netralitas.reference.catalogue import REGIONS_DIR


def _rows() -> pd.DataFrame:
    rows = [
        ("PILKADA-2020", 1, "082", "Kementerian Agama", None, 23, pd.NA, "naik 1"),
        ("PILKADA-2020", 7, "82.04", "Pemerintah Kabupaten Halmahera Selatan", "Maluku Utara", 9, 1, "baru"),
        ("SEMUA", 1, "082", "Kementerian Agama", None, 162, pd.NA, "tetap"),
    ]
    return pd.DataFrame(
        [
            {"pemilihan": p, "peringkat": r, "instansi_kode": k, "instansi": n, "provinsi": prov,
             "jumlah_pelanggaran": j, "peringkat_provinsi": pp, "perubahan": m, "n_rilis": pd.NA,
             "tanggal_rilis": None, "r_setelah": pd.NA, "r_total": j}
            for p, r, k, n, prov, j, pp, m in rows
        ]
    )  # fmt: skip


MALUT = {
    "kode": "82",
    "nama": "Maluku Utara",
    "baris": [
        {"pemilihan": "PILKADA-2020", "instansi_kode": "82.04", "instansi": "Pemerintah Kabupaten Halmahera Selatan",
         "jumlah_pelanggaran": 9, "peringkat": 7, "peringkat_provinsi": 1},
        {"pemilihan": "PILKADA-2020", "instansi_kode": "82.01", "instansi": "Pemerintah Kabupaten Halmahera Barat",
         "jumlah_pelanggaran": 2, "peringkat": 31, "peringkat_provinsi": 2},
        {"pemilihan": "PILKADA-2024", "instansi_kode": "82.01", "instansi": "Pemerintah Kabupaten Halmahera Barat",
         "jumlah_pelanggaran": 4, "peringkat": 12, "peringkat_provinsi": 1},
    ],
}  # fmt: skip
SOURCE = {"penerbit": "BAWASLU", "judul": "Rekapitulasi Pilkada 2024", "pemilihan": "PILKADA-2024",
          "tanggal_data": "2024-11-15", "batch_id": "b"}  # fmt: skip


def _header(**meta) -> dict:
    metadata = {
        "batas_waktu": "2024-12-01T23:59:59+07:00",
        "dibuat_pada": "2024-12-01T17:30:00+00:00",  # Monday 00.30 WIB
        "pemilihan": ["PILKADA-2020", "SEMUA"],
        "sumber": [SOURCE],
        "tren": {"082": {"PEMILU-2019": 14, "PEMILU-2024": 46, "PILKADA-2018": 10, "PILKADA-2020": 23,
                         "PILKADA-2024": 69}},
        **meta,
    }  # fmt: skip
    # stored as the snapshot stores it: sorted keys
    return {"minggu": "2024-W48", "versi_metodologi": "2", "metadata_json": json.dumps(metadata, sort_keys=True)}


def _cell(page: str, label: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(rf'<td data-label="{label}"[^>]*>(.*?)</td>', page)]


def test_dates_are_indonesian_and_shown_in_jakarta_time():
    assert tanggal("2024-11-15") == "15 November 2024"
    assert tanggal("2024-12-01T17:30:00+00:00") == "2 Desember 2024"  # already Monday in Jakarta
    assert waktu("2024-12-01T23:59:59+07:00") == "1 Desember 2024 pukul 23.59 WIB"


def test_an_older_trend_is_rendered_in_chronological_order_not_in_key_order():
    codes, values = trend_rows(json.loads(_header()["metadata_json"]))
    assert codes == ["PILKADA-2018", "PEMILU-2019", "PILKADA-2020", "PEMILU-2024", "PILKADA-2024"]
    assert values == {"082": [10, 14, 23, 46, 69]}
    page = render_html(_rows(), _header()).decode()
    assert _cell(page, "Tren")[0] == "10 · 14 · 23 · 46 · 69"
    assert "Pilkada 2018 · Pemilu 2019 · Pilkada 2020 · Pemilu 2024 · Pilkada 2024" in page


def test_the_trend_of_methodology_v2_keeps_its_own_election_order():
    tren = {"pemilihan": ["PEMILU-2019", "PILKADA-2020"], "nilai": {"082": [5, 18]}}
    page = render_html(_rows(), _header(tren=tren)).decode()
    assert _cell(page, "Tren")[0] == "5 · 18"
    assert "<small>Tren: jumlah pelanggaran di Pemilu 2019 · Pilkada 2020.</small>" in page


def test_every_date_on_the_page_is_written_one_way_with_licence_and_sources():
    page = render_html(_rows(), _header()).decode()
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.DOTALL)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "an ISO date on the page"
    assert "BAWASLU: Rekapitulasi Pilkada 2024 (data per 15 November 2024)" in text
    assert "sampai 1 Desember 2024 pukul 23.59 WIB" in text
    assert "Pembaruan terakhir: 2 Desember 2024 pukul 00.30 WIB" in text
    # the licence the data package declares, and the reference regions' attribution
    declared = json.loads(render_datapackage(_header()))["licenses"]
    assert [(d["name"], d["path"]) for d in declared] == [(LICENCE["name"], LICENCE["path"])]
    assert f'<a href="{LICENCE["path"]}">{LICENCE["title"]}</a> ({LICENCE["name"]})' in page
    readme = (REGIONS_DIR / "README.md").read_text()
    assert f"`idn-area-data` {REGIONS['version']}" in readme
    assert "ODbL" in readme
    assert f'<a href="{REGIONS["path"]}">idn-area-data</a> {REGIONS["version"]}' in page
    assert "Kementerian Dalam Negeri" in text
    assert page.count("<main>") == 1
    assert page.count("<h1>") == 1
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_one_page_per_province_with_ranks_and_a_sentence_to_quote():
    header = _header(provinsi=[MALUT])
    pages = render_pages(_rows(), header)
    assert list(pages) == ["index.html", "provinsi/82.html"]
    week, province = pages["index.html"].decode(), pages["provinsi/82.html"].decode()
    assert '<li><a href="provinsi/82.html">Maluku Utara</a></li>' in week
    assert '<a href="provinsi/82.html">Maluku Utara</a></td>' in week  # the province cell links to it
    sentences = re.findall(r"<li>(Pemerintah .*?)</li>", province)
    assert sentences == [
        "Pemerintah Kabupaten Halmahera Selatan: peringkat 7 nasional, peringkat 1 di Maluku Utara"
        " (Pilkada 2020, data per 1 Desember 2024)",
        "Pemerintah Kabupaten Halmahera Barat: peringkat 31 nasional, peringkat 2 di Maluku Utara"
        " (Pilkada 2020, data per 1 Desember 2024)",
        "Pemerintah Kabupaten Halmahera Barat: peringkat 12 nasional, peringkat 1 di Maluku Utara"
        " (Pilkada 2024, data per 1 Desember 2024)",
    ]
    assert re.findall(r"<h2[^>]*>(.*?)</h2>", province)[:2] == ["Pilkada 2020", "Pilkada 2024"]
    assert _cell(province, "Peringkat nasional") == ["7", "31", "12"]
    assert _cell(province, "Peringkat provinsi") == ["1", "2", "1"]
    # the same facts in ranking.json
    doc = json.loads(render_json(_rows(), header))
    assert [(p["kode"], p["nama"], p["halaman"]) for p in doc["provinsi"]] == [
        ("82", "Maluku Utara", "provinsi/82.html")
    ]
    assert [r["kalimat"] for r in doc["provinsi"][0]["baris"]] == sentences
    assert doc["provinsi"][0]["baris"][0]["peringkat"] == 7


def test_a_snapshot_without_provinces_renders_no_province_page():
    assert list(render_pages(_rows(), _header())) == ["index.html"]
    assert "provinsi" not in json.loads(render_json(_rows(), _header()))  # a week frozen before keeps its bytes


def test_province_names_are_escaped_and_codes_cannot_name_another_file():
    hostile = {**MALUT, "nama": "<script>x</script>"}
    page = render_pages(_rows(), _header(provinsi=[hostile]))["provinsi/82.html"].decode()
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    with pytest.raises(ValueError, match="two digits"):
        province_facts(json.loads(_header(provinsi=[{**MALUT, "kode": "../82"}])["metadata_json"]))


def test_the_week_index_lists_each_week_with_its_dates_and_files():
    page = render_index(["2024-W01", "2024-W48"]).decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<main>" in page
    assert "<style>" in page
    rows = re.findall(r"<tr><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>", page)
    assert [html.unescape(re.sub(r"<[^>]+>", "", r[0])) for r in rows] == ["Minggu 2024-W48", "Minggu 2024-W01"]
    assert [r[1] for r in rows] == ["25 November 2024 – 1 Desember 2024", "1 Januari 2024 – 7 Januari 2024"]
    for name in ("index.html", "ranking.csv", "ranking.json", "datapackage.json"):
        assert f'href="2024-W48/{name}"' in rows[0][2]


def test_the_methodology_paragraph_follows_the_week_s_version():
    v2 = render_html(_rows(), _header()).decode()
    v1 = render_html(_rows(), {**_header(), "versi_metodologi": "1"}).decode()
    assert "tidak pernah lebih kecil dari jumlah angka tiap pemilihan" in v2
    assert "tidak pernah lebih kecil" not in v1
    assert "Versi 1." in v1


def test_a_preview_says_so_and_links_the_index_above_the_preview_folder():
    preview = render_pages(_rows(), _header(), preview=True)["index.html"].decode()
    published = render_pages(_rows(), _header())["index.html"].decode()
    assert "<strong>Pratinjau:</strong> minggu 2024-W48 belum berakhir" in preview
    assert '<a href="../../index.html">Semua minggu</a>' in preview
    assert "Pratinjau" not in published
    assert '<a href="../index.html">Semua minggu</a>' in published
