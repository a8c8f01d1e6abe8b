"""The CSV fast path (Arrow's reader) gives exactly what pandas' parser gives: the same frame (columns,
dtypes, values, `baris`, `_catatan`) or the same rejection, for well-formed files and for every file it
declines."""

import codecs
import shutil

import pandas as pd
import pytest

from include.netralitas.ingest import readers
from include.netralitas.ingest.readers import BatchRejected, read_case_report, read_national_release
from include.netralitas.sample.generator import generate_sample

HEADER = "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"
ROW = "82.04,001/PL,2024-11-01,PILKADA-2024,Pemkab Halsel,199001012015031001,Ani,pelaksana,lainnya,diproses"
ROW2 = "82.04,002/PL,2024-11-02,PILKADA-2024,Pemkab Halsel,,Budi,pelaksana,lainnya,diproses"


def rows(*lines: str, header: str = HEADER, end: str = "\n") -> str:
    return end.join([header, *lines]) + end


def semicolons(text: str) -> str:
    return text.replace(",", ";")


# (name, content as text or bytes, whether the fast path reads it)
CASES = [
    ("plain", rows(ROW, ROW2), True),
    ("crlf", rows(ROW, ROW2, end="\r\n"), True),
    ("lone carriage returns", rows(ROW, ROW2, end="\r"), True),
    ("blank lines between and trailing", rows(ROW, "", ROW2, "", "", end="\r\n") + "\r\n\n", True),
    ("cr cr lf", rows(ROW, ROW2, end="\r\r\n"), True),
    ("no final line break", rows(ROW, ROW2).rstrip("\n"), True),
    ("utf-8 bom", codecs.BOM_UTF8 + rows(ROW).encode(), True),
    ("utf-8 bom twice", codecs.BOM_UTF8 * 2 + rows(ROW).encode(), False),
    ("semicolons", semicolons(rows(ROW, ROW2, end="\r\n")), True),
    ("tabs", rows(ROW, ROW2).replace(",", "\t"), True),
    ("tabs with a line of a space and a tab", rows(ROW, " " + "\t" * 9, ROW2).replace(",", "\t"), True),
    ("header only", HEADER + "\n", True),
    ("header only without a line break", HEADER, True),
    ("blank cells and cells of spaces", rows(",,,,,,,,,", " , ,  ,\t,,,,,,  ", ROW), True),
    ("surrounding spaces", rows(ROW.replace(",", " , ")), True),
    ("an 18-digit nip and leading zeros", rows(ROW.replace("199001012015031001", "000001012015031001")), True),
    (
        "quoted fields with delimiters and doubled quotes",
        rows(ROW.replace("Pemkab Halsel", '"Pemkab ""Halsel"", Maluku"'), '"82.04","",' + ROW2.split(",", 2)[2]),
        True,
    ),
    ("quoted header", rows(ROW, header=",".join(f'"{c}"' for c in HEADER.split(","))), True),
    ("quoted semicolons", semicolons(rows(ROW)).replace("Pemkab Halsel", '"Pemkab; Halsel"'), True),
    ("quoted field over two lines", rows(ROW.replace("Pemkab Halsel", '"Pemkab\nHalsel"'), ROW2), False),
    ("quoted field over two crlf lines", rows(ROW.replace("Ani", '"Ani\r\nB"'), ROW2, end="\r\n"), False),
    ("text after a closing quote", rows(ROW.replace("Ani", '"Ani"x')), False),
    ("a quote inside a field", rows(ROW.replace("Ani", 'An"i')), False),
    ("spaces around a quoted field", rows(ROW.replace("Ani", ' "Ani" ')), False),
    ("an unclosed quote", rows(ROW.replace("Ani", '"Ani'), ROW2), False),
    ("non-ascii names", rows(ROW.replace("Ani", "Siti Nurhayatí"), ROW2.replace("Budi", "Ñoman Ūtama")), True),
    ("fullwidth digits", rows(ROW.replace("82.04", "８２.０４").replace("2024", "２０２４")), True),
    ("invisible characters", rows(ROW.replace("Ani", "A\u200bni\u00ad"), ROW2.replace("Budi", "\u200b")), True),
    ("nbsp around a cell", rows(ROW.replace("Ani", "\u00a0Ani\u3000")), True),
    ("bidi override", rows(ROW.replace("Ani", "\u202eAni"), ROW2.replace("Budi", "Bu\u2066di")), True),
    ("c1 control", rows(ROW.replace("Ani", "A\x85ni\x9f")), True),
    ("defects in two columns of a row", rows(ROW.replace("Ani", "\u202eAni").replace("Pemkab", "P\x85"), ROW2), True),
    ("a c1 line break at the end of the header", rows(ROW + "\x85", header=HEADER + "\x85"), True),
    ("unicode line separators in a cell", rows(ROW.replace("Ani", "A\u2028n\u2029i")), True),
    ("ascii control characters", rows(ROW.replace("Ani", "A\x07ni"), ROW2.replace("Budi", "\x1bBudi")), False),
    ("a nul byte", rows(ROW.replace("Ani", "A\x00ni")), False),
    ("vertical tab and form feed", rows(ROW.replace("Ani", "A\x0bn\x0ci")), False),
    ("a short row", rows(ROW, "82.04,003/PL,2024-11-03"), False),
    ("a long row", rows(ROW, ROW2 + ",extra"), False),
    ("a line of spaces", rows(ROW, "   ", ROW2), False),
    ("title rows above the header", "Laporan Kasus\n\n" + rows(ROW), False),
    ("a blank first line", "\n" + rows(ROW), False),
    ("missing required columns", "kode_kantor,nomor_kasus\n82.04,1\n", True),
    ("a duplicated header", rows(ROW + ",x", header=HEADER + ",STATUS "), True),
    ("a header cell left blank", rows(ROW + ",x", ROW2 + ",y", header=HEADER + ","), True),
    ("the reader's own notes column", rows(ROW + ",x", header=HEADER + ",_catatan"), False),
    ("the reader's own row column", rows(ROW + ",x", header=HEADER + ",Baris"), True),
    ("extra and reordered columns", rows(",".join(reversed((ROW + ",x").split(","))),
                                         header=",".join(reversed((HEADER + ",Catatan Kantor").split(",")))), True),
    ("windows-1252", semicolons(rows(ROW.replace("Ani", "Sití Nurhayati"), end="\r\n")).encode("cp1252"), True),
    ("utf-16", rows(ROW.replace("Ani", "Sití"), ROW2).encode("utf-16"), True),
]  # fmt: skip


def _read(path, reader):
    try:
        return reader(path), None
    except BatchRejected as exc:
        return None, (str(exc), exc.rows)
    except ValueError as exc:  # a file with a `baris` column (the reader's row numbers) fails alike
        return None, (type(exc).__name__, str(exc))


def both_paths(monkeypatch, path, reader=read_case_report):
    """The result through the fast path (and whether it read the file), then with the fast path turned off."""
    fast_csv, taken = readers._fast_csv, []

    def spy(*args, **kwargs):
        frame = fast_csv(*args, **kwargs)
        taken.append(frame is not None)
        return frame

    with monkeypatch.context() as patch:
        patch.setattr(readers, "_fast_csv", spy)
        fast = _read(path, reader)
    with monkeypatch.context() as patch:
        patch.setattr(readers, "_fast_csv", lambda *args, **kwargs: None)
        usual = _read(path, reader)
    return fast, usual, any(taken)


def assert_same(fast, usual):
    (fast_frame, fast_error), (usual_frame, usual_error) = fast, usual
    assert fast_error == usual_error
    if usual_frame is None:
        assert fast_frame is None
        return
    if isinstance(usual_frame, tuple):  # read_national_release: (metadata, frame)
        assert fast_frame[0] == usual_frame[0]
        fast_frame, usual_frame = fast_frame[1], usual_frame[1]
    pd.testing.assert_frame_equal(fast_frame, usual_frame, check_exact=True)
    assert fast_frame.columns.tolist() == usual_frame.columns.tolist()
    assert fast_frame.columns.dtype == usual_frame.columns.dtype
    assert fast_frame.dtypes.tolist() == usual_frame.dtypes.tolist()
    notes = [fast_frame[readers.NOTES_COLUMN].tolist(), usual_frame[readers.NOTES_COLUMN].tolist()]
    assert notes[0] == notes[1]
    assert [list(n or ()) for n in notes[0]] == [list(n or ()) for n in notes[1]]  # in the columns' order


@pytest.mark.parametrize(("content", "fast"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_the_fast_path_reads_as_pandas_does(tmp_path, monkeypatch, content, fast):
    path = tmp_path / "82.04_x.csv"
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    fast_result, usual_result, taken = both_paths(monkeypatch, path)
    assert taken == fast
    assert_same(fast_result, usual_result)


def test_the_cases_cover_notes_nips_and_blanks(tmp_path, monkeypatch):
    """The comparison above is not between two empty answers: the fast path's own frame keeps every digit of
    a NIP, makes blanks missing and notes a control character as a defect."""
    path = tmp_path / "82.04_y.csv"
    path.write_text(rows(ROW.replace("Ani", "\u202eAni"), ROW2.replace("Budi", "  A\u200bni  ")), encoding="utf-8")
    (frame, _), _, taken = both_paths(monkeypatch, path)
    assert taken
    assert frame["baris"].tolist() == [1, 2]
    assert frame["nip"].tolist() == ["199001012015031001", None]
    assert frame["nama_terlapor"].tolist() == ["Ani", "Ani"]
    assert frame["_catatan"].tolist()[1] is None
    note = frame["_catatan"].tolist()[0]["nama_terlapor"]
    assert note.defect
    assert "U+202E" in note.text


def test_the_sample_generator_files_read_alike(tmp_path, monkeypatch):
    generate_sample(tmp_path / "drop", total_cases=600)
    paths = sorted((tmp_path / "drop" / "case-reports").glob("*.csv"))[::4]  # a quarter keeps the test quick
    heads = [path.read_bytes()[:200] for path in paths]
    assert any(head.startswith(codecs.BOM_UTF8) for head in heads)  # the generator's Excel styles are all here
    assert any(b";" in head and not head.startswith(codecs.BOM_UTF8) for head in heads)  # Windows-1252
    assert any(b"," in head and b";" not in head for head in heads)
    taken = 0
    for path in paths:
        fast, usual, fast_taken = both_paths(monkeypatch, path)
        assert_same(fast, usual)
        taken += fast_taken
    assert taken == len(paths)
    (release,) = (tmp_path / "drop" / "national-releases").glob("*.csv")
    fast, usual, fast_taken = both_paths(monkeypatch, release, read_national_release)
    assert fast_taken
    assert_same(fast, usual)
    # the same release file read as a case report is rejected alike
    shutil.copy(release, tmp_path / "release.csv")
    fast, usual, _ = both_paths(monkeypatch, tmp_path / "release.csv")
    assert fast[1] is not None
    assert_same(fast, usual)
