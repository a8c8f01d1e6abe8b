"""National releases that no input can break (issue: ingestion that no input can break, class 3).

Counts and ranks follow one rule (contracts.py: ASCII digits, no sign or separator, bounded); each bad value
is quarantined with its reason, never a crash, and a good release queued behind a bad one loads in the same
run. Releases of one penerbit, tanggal_data and pemilihan with other figures are a conflict: the release
landed last wins as a whole, whatever the files' times, and the conflict is visible. Runs on DuckDB and
PostgreSQL; every batch's rows add up (rows in = loaded + quarantined + duplicates).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from include.netralitas.contracts import MAX_RELEASE_COUNT, MAX_RELEASE_RANK
from include.netralitas.ingest.pipeline import ingest_national_releases
from include.netralitas.warehouse.build import build_warehouse
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import ops  # noqa: E402

ELECTION = "PILKADA-2024"
META = {"penerbit": "BKN", "judul": "Rekap BKN", "tanggal_data": "2024-11-15", "pemilihan": ELECTION}
# The good release queued behind each bad one: another publisher, so that it supersedes nothing.
GOOD_META = {"penerbit": "KASN", "judul": "Rekap KASN", "tanggal_data": "2024-11-15", "pemilihan": ELECTION}
GOOD_ROWS = [("Kemendikbud", "6", "1"), ("Pemkab Halbar", "2", "2")]


def release_csv(rows: list[tuple[str, ...]], header: tuple[str, ...] = ("instansi", "jumlah", "peringkat")) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # quotes `1,234` as CSV must
    writer.writerows([header, *rows])
    return out.getvalue()


def drop_release(settings, name: str, rows: list[tuple[str, ...]], meta: dict, *, mtime: int | None = None) -> None:
    folder = settings.national_release_drop
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.csv").write_text(release_csv(rows), encoding="utf-8")
    (folder / f"{name}.meta.json").write_text(json.dumps(meta))
    if mtime is not None:
        os.utime(folder / f"{name}.csv", (mtime, mtime))


def manifest(wh) -> dict[str, tuple[int, int, int, int]]:
    """file name -> (rows in, loaded, quarantined, duplicates), from landing.batch; each must add up."""
    with wh.session() as conn:
        rows = conn.execute(
            text("SELECT file_name, rows_in, rows_loaded, rows_quarantined, rows_duplicate FROM landing.batch")
        ).all()
    counts = {name: (int(i), int(n), int(q), int(d)) for name, i, n, q, d in rows}
    for name, (rows_in, loaded, quarantined, duplicate) in counts.items():
        assert rows_in == loaded + quarantined + duplicate, name
    return counts


def fmt(counts: tuple[int, ...]) -> str:
    return "/".join(map(str, counts))


def quarantined(wh) -> list[tuple[str, int, str, str]]:
    with wh.session() as conn:
        rows = conn.execute(
            text(
                "SELECT b.file_name, q.baris, q.kolom, q.alasan FROM audit.quarantine AS q"
                " JOIN landing.batch AS b ON b.batch_id = q.batch_id ORDER BY b.file_name, q.baris, q.kolom"
            )
        ).all()
    return [tuple(r) for r in rows]


# --- one rule for counts and ranks ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BadNumber:
    id: str
    column: str  # jumlah | peringkat
    value: str
    reason: str  # a part of the quarantine reason

    def row(self) -> tuple[str, str, str]:
        return ("Pemkab Halsel", self.value, "2") if self.column == "jumlah" else ("Pemkab Halsel", "3", self.value)


BOUND = {"jumlah": f"di luar batas wajar 0 sampai {MAX_RELEASE_COUNT}", "peringkat": f"1 sampai {MAX_RELEASE_RANK}"}
THOUSANDS = "pemisah ribuan"
NON_ASCII = "digit non-ASCII"
BAD_NUMBERS = [
    case
    for column in ("jumlah", "peringkat")
    for case in (
        BadNumber(f"release {column} negative", column, "-7", f"{column} negatif"),
        BadNumber(f"release {column} negative with a minus sign", column, "\u22127", f"{column} negatif"),
        BadNumber(
            f"release {column} above the bound",
            column,
            str((MAX_RELEASE_COUNT if column == "jumlah" else MAX_RELEASE_RANK) + 1),
            BOUND[column],
        ),
        BadNumber(f"release {column} beyond 32-bit", column, "3000000000", BOUND[column]),
        BadNumber(f"release {column} beyond 64-bit", column, "99999999999999999999", BOUND[column]),
        BadNumber(f"release {column} of 30 digits", column, "9" * 30, BOUND[column]),
        BadNumber(f"release {column} thousands separator dot", column, "1.234", THOUSANDS),
        BadNumber(f"release {column} thousands separator comma", column, "1,234", THOUSANDS),
        BadNumber(f"release {column} thousands separator space", column, "1 234", THOUSANDS),
        BadNumber(f"release {column} Arabic-Indic digits", column, "\u0661\u0662", NON_ASCII),
        BadNumber(f"release {column} Devanagari digits", column, "\u0967\u0968", NON_ASCII),
        BadNumber(f"release {column} decimal", column, "2.5", f"{column} bukan bilangan bulat"),
    )
] + [BadNumber("release peringkat zero", "peringkat", "0", BOUND["peringkat"])]


@pytest.mark.parametrize("case", BAD_NUMBERS, ids=lambda c: c.id)
def test_a_bad_count_or_rank_is_quarantined_and_the_next_release_loads(reliability, warehouse, settings, case):
    reliability.case(
        case.id,
        "input",
        f"row quarantined ({case.reason}); rows 2/1/1/0; the good release behind it 2/2/0/0, built",
        f"national release {case.column} {case.value!r}",
    )
    drop_release(settings, "bad", [("Kemenag", "4", "1"), case.row()], META, mtime=1_732_000_000)
    drop_release(settings, "good", GOOD_ROWS, GOOD_META, mtime=1_732_000_100)  # queued behind the bad one
    results = {r.file_name: r for r in ingest_national_releases(warehouse, settings)}
    counts = manifest(warehouse)
    reasons = quarantined(warehouse)
    reliability.observe(
        f"rows {fmt(counts['bad.csv'])}; good {fmt(counts['good.csv'])}; reason: {reasons[0][3] if reasons else ''}"
    )
    assert {name: r.status for name, r in results.items()} == {"bad.csv": "loaded", "good.csv": "loaded"}
    assert counts == {"bad.csv": (2, 1, 1, 0), "good.csv": (2, 2, 0, 0)}
    [(file_name, baris, kolom, alasan)] = reasons  # one reason, not one per rule that the value breaks
    assert (file_name, baris, kolom) == ("bad.csv", 2, case.column)
    assert case.reason in alasan
    build_warehouse(warehouse)  # nothing staged can overflow core's INTEGER columns
    with warehouse.session() as conn:
        facts = conn.execute(text("SELECT instansi_kode, jumlah, peringkat_rilis FROM core.national_release_fact"))
        assert sorted(tuple(f) for f in facts) == [("82.01", 2, 2), ("KEMENAG", 4, 1), ("KEMENDIKBUD", 6, 1)]


def test_plain_numbers_with_leading_zeros_load_as_their_value(reliability, warehouse, settings):
    reliability.case(
        "release counts at the bounds and with leading zeros",
        "input",
        "loaded: 0042 as 42, 0 and the bounds themselves; rows 4/4/0/0",
    )
    rows = [
        ("Kemenag", "0042", "2"),
        ("Pemkab Halsel", str(MAX_RELEASE_COUNT), "1"),
        ("Pemkab Halbar", "0", str(MAX_RELEASE_RANK)),
        ("Kemendikbud", "0000000000000000000000000000007", ""),  # 31 characters, 1 significant digit
    ]
    drop_release(settings, "edges", rows, META)
    [result] = ingest_national_releases(warehouse, settings)
    counts = manifest(warehouse)
    reliability.observe(f"rows {fmt(counts['edges.csv'])}")
    assert counts == {"edges.csv": (4, 4, 0, 0)}
    assert quarantined(warehouse) == []
    with warehouse.session() as conn:
        staged = conn.execute(
            text("SELECT instansi_kode, jumlah, peringkat_rilis FROM staging.national_release_row ORDER BY baris")
        ).all()
    assert [tuple(r) for r in staged] == [
        ("KEMENAG", 42, 2),
        ("82.04", MAX_RELEASE_COUNT, 1),
        ("82.01", 0, MAX_RELEASE_RANK),
        ("KEMENDIKBUD", 7, None),
    ]


# --- conflicting releases ---------------------------------------------------------------------------------------
CONFLICT_META = {"penerbit": "BAWASLU", "judul": "Rekap", "tanggal_data": "2024-11-15", "pemilihan": ELECTION}


def ops_out(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert ops.main(list(argv)) == 0
    return capsys.readouterr().out


def national_rows(wh) -> dict[str, tuple[int, str]]:
    """instansi_kode -> (n_rilis, rilis_batch_id) in mart.national_ranking for the election."""
    with wh.session() as conn:
        rows = conn.execute(
            text("SELECT instansi_kode, n_rilis, rilis_batch_id FROM mart.national_ranking WHERE pemilihan = :e"),
            {"e": ELECTION},
        ).all()
    return {kode: (n, batch) for kode, n, batch in rows}


def test_the_release_landed_last_wins_a_conflict_whatever_the_file_times(reliability, warehouse, settings, capsys):
    reliability.case(
        "conflicting national releases",
        "input",
        "the release landed last wins as a whole (not the newer file time); the conflict is in "
        "audit.release_conflict and `ops.py releases --conflicts`",
        "two releases of one penerbit, tanggal_data and pemilihan with other figures, landed in two runs; "
        "the later one's file is older",
    )
    first = [("Kemenag", "4", "2"), ("Pemkab Halsel", "9", "1")]
    second = [("Kemenag", "7", "1"), ("Pemkab Halbar", "3", "2")]  # Halsel no longer listed, Halbar added
    drop_release(settings, "rekap-awal", first, CONFLICT_META, mtime=1_732_900_000)
    [landed_first] = ingest_national_releases(warehouse, settings)
    # a correction that lands later, although its file time is older (a copy that kept its mtime)
    drop_release(settings, "rekap-koreksi", second, {**CONFLICT_META, "judul": "Rekap (koreksi)"}, mtime=1_732_000_000)
    [landed_second] = ingest_national_releases(warehouse, settings)
    counts = manifest(warehouse)
    assert counts == {"rekap-awal.csv": (2, 2, 0, 0), "rekap-koreksi.csv": (2, 2, 0, 0)}
    build_warehouse(warehouse)

    ranked = national_rows(warehouse)
    winner, loser = landed_second.batch_id, landed_first.batch_id
    assert ranked["KEMENAG"] == (7, winner)
    assert ranked["82.01"] == (3, winner)
    assert "82.04" not in ranked  # superseded as a whole: the earlier release's Halsel figure counts no more
    assert loser not in {batch for _, batch in ranked.values()}

    with warehouse.session() as conn:
        conflicts = conn.execute(
            text(
                "SELECT penerbit, pemenang_batch_id, digantikan_batch_id, instansi_berbeda, instansi_pemenang,"
                " instansi_digantikan FROM audit.release_conflict"
            )
        ).all()
    reliability.observe(f"ranking from the later-landed release; conflicts: {[tuple(c)[3:] for c in conflicts]}")
    assert [tuple(c) for c in conflicts] == [("BAWASLU", winner, loser, 3, 2, 2)]  # Kemenag, Halsel, Halbar

    out = ops_out(capsys, "releases", "--conflicts")
    header, row = out.splitlines()
    assert header.split()[:4] == ["penerbit", "tanggal_data", "pemilihan", "instansi_berbeda"]
    assert row.split()[:4] == ["BAWASLU", "2024-11-15", ELECTION, "3"]
    assert "rekap-koreksi.csv" in row
    assert "rekap-awal.csv" in row
    listing = ops_out(capsys, "releases")
    decisions = {line.split()[-1]: line for line in listing.splitlines()[1:]}
    assert "berlaku" in decisions["rekap-koreksi.csv"]
    assert "digantikan (konflik)" in decisions["rekap-awal.csv"]
    assert winner in decisions["rekap-awal.csv"]
    assert ops_out(capsys, "releases", "--penerbit", "kasn").strip() == "no national release"


def test_an_identical_re_release_is_no_conflict(reliability, warehouse, settings, capsys):
    reliability.case(
        "identical national re-release",
        "input",
        "no conflict: the same figures in another file; the ranking keeps its figures",
        "the same release again as another file (other title, rows in another order), in the same run",
    )
    rows = [("Kemenag", "4", "2"), ("Pemkab Halsel", "9", "1")]
    drop_release(settings, "rekap", rows, CONFLICT_META, mtime=1_732_000_000)
    drop_release(settings, "rekap-lagi", rows[::-1], {**CONFLICT_META, "judul": "Rekap (unggah ulang)"},
                 mtime=1_732_000_100)  # fmt: skip
    results = {r.file_name: r for r in ingest_national_releases(warehouse, settings)}
    assert manifest(warehouse) == {"rekap.csv": (2, 2, 0, 0), "rekap-lagi.csv": (2, 2, 0, 0)}
    build_warehouse(warehouse)
    with warehouse.session() as conn:
        conflicts = conn.execute(text("SELECT COUNT(*) FROM audit.release_conflict")).scalar_one()
        superseded = conn.execute(
            text("SELECT digantikan_batch_id, instansi_berbeda FROM audit.release_supersession")
        ).all()
    reliability.observe(f"conflicts: {conflicts}; superseded without difference: {len(superseded)}")
    assert conflicts == 0
    # landed in one run, in name order: "rekap-lagi.csv" sorts (and lands) before "rekap.csv"
    assert [tuple(s) for s in superseded] == [(results["rekap-lagi.csv"].batch_id, 0)]
    ranked = national_rows(warehouse)
    assert {k: n for k, (n, _) in ranked.items()} == {"KEMENAG": 4, "82.04": 9}
    assert ops_out(capsys, "releases", "--conflicts").strip() == "no conflicting national releases"
    assert "digantikan (identik)" in ops_out(capsys, "releases")


def test_a_later_release_with_every_row_quarantined_supersedes_nothing(reliability, warehouse, settings):
    reliability.case(
        "national release with every row quarantined, landed later",
        "input",
        "supersedes nothing: the earlier release's figures stay in force; rows 2/0/2/0",
    )
    drop_release(settings, "rekap", [("Kemenag", "4", "2"), ("Pemkab Halsel", "9", "1")], CONFLICT_META)
    [good] = ingest_national_releases(warehouse, settings)
    drop_release(settings, "rekap-rusak", [("Kemenag", "1.234", ""), ("Pemkab Halsel", "-1", "")], CONFLICT_META)
    ingest_national_releases(warehouse, settings)
    counts = manifest(warehouse)
    reliability.observe(f"rows {fmt(counts['rekap-rusak.csv'])}")
    assert counts == {"rekap.csv": (2, 2, 0, 0), "rekap-rusak.csv": (2, 0, 2, 0)}
    build_warehouse(warehouse)
    assert national_rows(warehouse) == {"KEMENAG": (4, good.batch_id), "82.04": (9, good.batch_id)}
    with warehouse.session() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM audit.release_supersession")).scalar_one() == 0


RELEASE_INPUTS = [
    *(c.id for c in BAD_NUMBERS),
    "release counts at the bounds and with leading zeros",
    "conflicting national releases",
    "identical national re-release",
    "national release with every row quarantined, landed later",
]
