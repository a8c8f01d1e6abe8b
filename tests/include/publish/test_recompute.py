"""Every published number recomputed (issue 17): a scenario of cases and national releases is ranked here by an
independent implementation of methodology v2 (product.md §4), and the week's ranking.csv, ranking.json, page
(table and trend) and datapackage, and the mart views, must all say the same, on DuckDB and on PostgreSQL."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import text

from include.netralitas.contracts import PEMILIHAN, PEMILIHAN_LABELS
from include.netralitas.publish.publication import publish_week
from include.netralitas.warehouse.build import build_warehouse
from include.netralitas.weeks import WIB, IsoWeek

WEEK = IsoWeek.parse("2024-W48")  # cut-off Sunday 2024-12-01
CUTOFF = WEEK.sunday


@dataclass(frozen=True)
class Case:
    instansi: str
    pemilihan: str
    tanggal: date
    status: str = "diproses"


@dataclass(frozen=True)
class Release:
    batch: str
    penerbit: str
    pemilihan: str  # an election or SEMUA
    tanggal: date
    jumlah: dict[str, int]


def _cases(instansi: str, pemilihan: str, n: int, tanggal: date, status: str = "diproses") -> list[Case]:
    return [Case(instansi, pemilihan, tanggal, status)] * n


# Kementerian Agama has cases in every election (the page once printed them in alphabetical order of the codes);
# Halmahera Barat (82.01) is named only by KASN's release (18 for Pilkada 2020); a SEMUA release lists Kemenag
# with 100, and Kemenag's cases after its date count on top; a stopped case and a case after the cut-off do not
# count; Halmahera Selatan's old Bawaslu figure is superseded by BKN's newer one.
CASES = [
    *_cases("KEMENAG", "PILKADA-2018", 10, date(2018, 6, 1)),
    *_cases("KEMENAG", "PEMILU-2019", 14, date(2019, 3, 1)),
    *_cases("KEMENAG", "PILKADA-2020", 23, date(2020, 11, 1)),
    *_cases("KEMENAG", "PEMILU-2024", 46, date(2024, 1, 20)),
    *_cases("KEMENAG", "PILKADA-2024", 69, date(2024, 11, 1)),
    *_cases("82.04", "PILKADA-2020", 4, date(2020, 11, 20)),
    *_cases("82.04", "PILKADA-2024", 8, date(2024, 11, 5)),
    *_cases("82.04", "PILKADA-2024", 3, date(2024, 11, 22)),
    *_cases("82.04", "PILKADA-2024", 1, date(2024, 11, 6), status="dihentikan"),
    *_cases("82", "PILKADA-2024", 2, date(2024, 11, 25)),
    *_cases("82.71", "PILKADA-2024", 10, date(2024, 11, 12)),
    *_cases("82.71", "PILKADA-2024", 5, date(2024, 12, 2)),  # after the cut-off
    *_cases("73.71", "PEMILU-2019", 7, date(2019, 2, 1)),
]
RELEASES = [
    Release("kasn-2020", "KASN", "PILKADA-2020", date(2020, 12, 31), {"82.01": 18, "82.04": 3, "KEMENAG": 20}),
    Release("bawaslu-2024", "BAWASLU", "PILKADA-2024", date(2024, 10, 31), {"82.04": 12}),
    Release("bkn-2024", "BKN", "PILKADA-2024", date(2024, 11, 15), {"82": 9, "82.04": 7, "KEMENAG": 4}),
    Release("bkn-semua", "BKN", "SEMUA", date(2024, 10, 1), {"KEMENAG": 100, "82.04": 2}),
    Release("bkn-late", "BKN", "PILKADA-2024", date(2024, 12, 5), {"82.71": 99}),  # after the cut-off
]


def _competition(figures: dict[str, int]) -> dict[str, int]:
    ordered = sorted(figures.values(), reverse=True)
    return {kode: ordered.index(n) + 1 for kode, n in figures.items()}


def oracle(cutoff: date, jenis: dict[str, str], provinsi: dict[str, str]) -> dict:
    """Methodology v2 written independently of the SQL: {election: {kode: figure}}, ranks and the trend."""
    counted = [c for c in CASES if c.status != "dihentikan" and c.tanggal <= cutoff]
    releases = [r for r in RELEASES if r.tanggal <= cutoff]

    def newest(kode: str, pemilihan: str) -> Release | None:
        listing = [r for r in releases if r.pemilihan == pemilihan and kode in r.jumlah]
        return max(listing, key=lambda r: r.tanggal, default=None)

    kodes = {c.instansi for c in counted} | {k for r in releases for k in r.jumlah}
    figures: dict[str, dict[str, int]] = {e: {} for e in (*PEMILIHAN, "SEMUA")}
    for kode in kodes:
        for e in PEMILIHAN:
            r_total = sum(1 for c in counted if c.instansi == kode and c.pemilihan == e)
            release = newest(kode, e)
            figure = r_total
            if release is not None:
                after = sum(
                    1 for c in counted if c.instansi == kode and c.pemilihan == e and c.tanggal > release.tanggal
                )
                figure = max(release.jumlah[kode] + after, r_total)
            figures[e][kode] = figure
        summed = sum(figures[e][kode] for e in PEMILIHAN)
        release = newest(kode, "SEMUA")
        if release is not None:
            after = sum(1 for c in counted if c.instansi == kode and c.tanggal > release.tanggal)
            summed = max(summed, release.jumlah[kode] + after)
        figures["SEMUA"][kode] = summed
    ranked = {e: {k: n for k, n in block.items() if n > 0} for e, block in figures.items()}
    ranks = {e: _competition(block) for e, block in ranked.items()}
    province_ranks = {}
    for e, block in ranked.items():
        for prov in {provinsi[k] for k in block if jenis[k] != "pusat"}:
            within = {k: n for k, n in block.items() if jenis[k] != "pusat" and provinsi[k] == prov}
            province_ranks.update({(e, k): r for k, r in _competition(within).items()})
    trend = {k: [figures[e][k] for e in PEMILIHAN] for k in kodes}
    return {"figures": ranked, "ranks": ranks, "province_ranks": province_ranks, "trend": trend}


def _load(conn) -> None:
    received = datetime(2024, 11, 20, tzinfo=UTC)
    conn.execute(
        text(
            "INSERT INTO core.case_current (kode_kantor, nomor_kasus, batch_id, baris, received_at, tanggal_temuan,"
            " pemilihan, instansi_kode, jabatan, jenis_pelanggaran, status) VALUES ('82.04', :nomor, 'b', :n,"
            " :received, :tanggal, :pemilihan, :instansi, 'pelaksana', 'lainnya', :status)"
        ),
        [
            {"nomor": f"{n}/PL", "n": n, "received": received, "tanggal": c.tanggal, "pemilihan": c.pemilihan,
             "instansi": c.instansi, "status": c.status}
            for n, c in enumerate(CASES, start=1)
        ],
    )  # fmt: skip
    for r in RELEASES:
        conn.execute(
            text("INSERT INTO core.national_release VALUES (:b, :p, :j, :t, :e, :r)"),
            {"b": r.batch, "p": r.penerbit, "j": f"Rilis {r.penerbit}", "t": r.tanggal, "e": r.pemilihan,
             "r": received},
        )  # fmt: skip
        conn.execute(
            text("INSERT INTO core.national_release_fact VALUES (:b, :i, :j, NULL)"),
            [{"b": r.batch, "i": k, "j": v} for k, v in r.jumlah.items()],
        )


class _Page(HTMLParser):
    """The week page's sections: each election's heading and its table rows, as cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[tuple[str, list[list[str]]]] = []
        self._in: str | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._in, self._heading = "h2", ""
        elif tag == "tr" and ("class", "peringkat") in attrs:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "h2" and self._in == "h2":
            self.sections.append((self._heading.strip(), []))
            self._in = None
        elif tag == "td" and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.sections[-1][1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._in == "h2":
            self._heading += data
        elif self._cell is not None:
            self._cell.append(data)


@pytest.fixture
def published(warehouse, tmp_path):
    build_warehouse(warehouse)
    with warehouse.begin() as conn:
        _load(conn)
    with warehouse.session() as conn:
        rows = conn.execute(text("SELECT kode, jenis, nama, nama_provinsi FROM core.instansi")).all()
    names = {kode: nama for kode, _, nama, _ in rows}
    jenis = {kode: j for kode, j, _, _ in rows}
    provinsi = {kode: p for kode, _, _, p in rows}
    publication = publish_week(warehouse, tmp_path, WEEK)
    return publication, names, jenis, provinsi


def test_every_published_figure_and_the_trend_equal_an_independent_recomputation(published):
    publication, names, jenis, provinsi = published
    expected = oracle(CUTOFF, jenis, provinsi)
    top = {
        e: sorted(
            ((rank, names[k], k) for k, rank in expected["ranks"][e].items() if rank <= 10),
            key=lambda t: (t[0], t[1], t[2]),
        )
        for e in expected["ranks"]
    }
    elections = [e for e in (*PEMILIHAN, "SEMUA") if top[e]]

    # ranking.csv: every row, elections in chronological order, SEMUA last
    with publication.ranking_csv.open(newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    wanted = [(e, str(rank), names[k], str(expected["figures"][e][k])) for e in elections for rank, _, k in top[e]]
    assert [(r["pemilihan"], r["peringkat"], r["instansi"], r["jumlah_pelanggaran"]) for r in csv_rows] == wanted
    for row in csv_rows:
        kode = next(k for k, n in names.items() if n == row["instansi"])
        province_rank = expected["province_ranks"].get((row["pemilihan"], kode))
        assert row["peringkat_provinsi"] == ("" if province_rank is None else str(province_rank))

    # ranking.json: the same rows and the trend of every ranked instansi, elections in chronological order
    doc = json.loads(publication.ranking_json.read_bytes())
    assert [
        (r["pemilihan"], str(r["peringkat"]), r["instansi"], str(r["jumlah_pelanggaran"])) for r in doc["baris"]
    ] == (wanted)
    assert doc["tren"]["pemilihan"] == list(PEMILIHAN)
    ranked_kodes = {k for e in elections for _, _, k in top[e]}
    assert doc["tren"]["nilai"] == {k: expected["trend"][k] for k in sorted(ranked_kodes)}
    assert doc["versi_metodologi"] == "2"

    # the page: each election's table (rank, name, figure) and the trend cell in chronological order
    page = _Page()
    page.feed(publication.index_html.read_text())
    tables = [(heading, rows) for heading, rows in page.sections if rows]
    assert [heading for heading, _ in tables] == [PEMILIHAN_LABELS[e] for e in elections]
    for (_, rows), e in zip(tables, elections, strict=True):
        assert [(r[0], r[1], r[3]) for r in rows] == [
            (str(rank), names[k], str(expected["figures"][e][k])) for rank, _, k in top[e]
        ]
        for r, (_, _, k) in zip(rows, top[e], strict=True):
            assert [int(n) for n in r[-1].split(" · ")] == expected["trend"][k]

    # the cases named in the issue, in words
    kemenag = expected["trend"]["KEMENAG"]
    assert kemenag == [10, 14, 23, 46, 69]  # KASN's 20 for Pilkada 2020 is below its 23 cases
    assert expected["figures"]["PILKADA-2020"]["82.01"] == 18  # only KASN names it
    assert expected["trend"]["82.01"][PEMILIHAN.index("PILKADA-2020")] == 18
    assert expected["figures"]["SEMUA"]["82.01"] == 18  # in the all-elections block
    for kode, figure in expected["figures"]["SEMUA"].items():
        assert figure >= sum(expected["trend"][kode])  # never below the sum of the elections' figures


def test_the_mart_views_say_what_the_methodology_says_today(published, warehouse):
    _, _, jenis, provinsi = published
    today = oracle(datetime.now(WIB).date(), jenis, provinsi)  # the views' today is the date in WIB
    with warehouse.session() as conn:
        ranking = conn.execute(
            text(
                "SELECT pemilihan, instansi_kode, peringkat, jumlah_pelanggaran, jumlah_pemilihan"
                " FROM mart.national_ranking"
            )
        ).all()
        trend = conn.execute(
            text("SELECT instansi_kode, pemilihan, jumlah_pelanggaran FROM mart.instansi_trend ORDER BY urutan")
        ).all()
    assert {(e, k): (int(rank), int(n)) for e, k, rank, n, _ in ranking} == {
        (e, k): (today["ranks"][e][k], n) for e, block in today["figures"].items() for k, n in block.items()
    }
    for e, k, _, _, summed in ranking:
        if e == "SEMUA":
            assert summed == sum(today["trend"][k])
        else:
            assert summed is None
    by_instansi: dict[str, list[int]] = {}
    for kode, _, n in trend:
        by_instansi.setdefault(kode, []).append(int(n))
    assert by_instansi == today["trend"]


def test_the_datapackage_passes_the_frictionless_validator_and_carries_a_semantic_version(warehouse, tmp_path):
    build_warehouse(warehouse)
    with warehouse.begin() as conn:
        _load(conn)
    first = publish_week(warehouse, tmp_path, IsoWeek.parse("2024-W47"))
    assert json.loads(first.ranking_json.read_text())["versi"] == "1.1.0"
    second = publish_week(warehouse, tmp_path, WEEK)
    corrected = publish_week(warehouse, tmp_path, IsoWeek.parse("2024-W47"), force_reason="koreksi rilis KASN")
    backfilled = publish_week(warehouse, tmp_path, IsoWeek.parse("2020-W53"))
    again = publish_week(warehouse, tmp_path, IsoWeek.parse("2020-W53"))

    def version(publication) -> str:
        return json.loads((publication.folder / "datapackage.json").read_text())["version"]

    # MINOR for each new week (in the order first published), PATCH for a correction; a re-run changes nothing
    assert [version(p) for p in (second, corrected, backfilled, again)] == ["1.2.0", "1.1.1", "1.3.0", "1.3.0"]
    # a week frozen before versions existed (its metadata has none) is corrected as the place it was first
    # published in: 2024-W48 came second (the log's moments as they would be a week apart, not one second)
    moments = {"2024-W47": datetime(2024, 11, 25, tzinfo=UTC), "2024-W48": datetime(2024, 12, 2, tzinfo=UTC),
               "2020-W53": datetime(2024, 12, 3, tzinfo=UTC)}  # fmt: skip
    with warehouse.begin() as conn:
        for week, moment in moments.items():
            conn.execute(
                text("UPDATE audit.publication_log SET dicatat_pada = :t WHERE minggu = :w"), {"t": moment, "w": week}
            )
        frozen = conn.execute(text("SELECT metadata_json FROM mart.publication WHERE minggu = '2024-W48'")).scalar_one()
        legacy = {k: v for k, v in json.loads(frozen).items() if k != "versi"}
        conn.execute(
            text("UPDATE mart.publication SET metadata_json = :m WHERE minggu = '2024-W48'"),
            {"m": json.dumps(legacy, sort_keys=True)},
        )
    assert "version" not in json.loads(
        publish_week(warehouse, tmp_path, WEEK).folder.joinpath("datapackage.json").read_text()
    )
    assert version(publish_week(warehouse, tmp_path, WEEK, force_reason="ralat")) == "1.2.1"
    frictionless = Path(sys.executable).with_name("frictionless")
    for publication in (second, corrected, backfilled):
        package = json.loads((publication.folder / "datapackage.json").read_text())
        assert package["profile"] == "data-package"
        assert package["resources"][0]["schema"]["primaryKey"] == ["pemilihan", "instansi"]
        run = subprocess.run(
            [str(frictionless), "validate", "--json", "datapackage.json"],
            cwd=publication.folder, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        report = json.loads(run.stdout)
        assert report["valid"], run.stdout[-3000:]
        assert run.returncode == 0
        assert report["stats"]["tasks"] >= 1

    # the validator does judge: a duplicate primary key in the CSV is an error it reports
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("datapackage.json", "ranking.json", "chart.png"):
        (broken / name).write_bytes((second.folder / name).read_bytes())
    lines = (second.folder / "ranking.csv").read_text().splitlines()
    (broken / "ranking.csv").write_text("\n".join([*lines, lines[1]]) + "\n")
    run = subprocess.run(
        [str(frictionless), "validate", "--json", "datapackage.json"],
        cwd=broken, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode != 0
    assert "primary-key" in run.stdout


def test_a_week_frozen_before_v2_renders_its_trend_in_chronological_order():
    from include.netralitas.publish.pages import render_html

    metadata = {
        "batas_waktu": "2024-12-01T23:59:59+07:00",
        "dibuat_pada": "2024-12-02T00:00:00+00:00",
        "sumber": [],
        "pemilihan": ["PILKADA-2024"],
        # as frozen by v1: sorted keys, i.e. PEMILU-2019, PEMILU-2024, PILKADA-2018, PILKADA-2020, PILKADA-2024
        "tren": {"KEMENAG": dict(sorted({"PILKADA-2018": 10, "PEMILU-2019": 14, "PILKADA-2020": 23,
                                           "PEMILU-2024": 46, "PILKADA-2024": 69}.items()))},
    }  # fmt: skip
    import pandas as pd

    frame = pd.DataFrame(
        [{"pemilihan": "PILKADA-2024", "peringkat": 1, "instansi_kode": "KEMENAG", "instansi": "Kementerian Agama",
          "provinsi": None, "jumlah_pelanggaran": 69, "peringkat_provinsi": pd.NA, "perubahan": "baru",
          "n_rilis": pd.NA, "tanggal_rilis": None, "r_setelah": pd.NA, "r_total": 69}]
    )  # fmt: skip
    header = {"minggu": "2024-W48", "versi_metodologi": "1", "metadata_json": json.dumps(metadata, sort_keys=True)}
    page = _Page()
    page.feed(render_html(frame, header).decode())
    rows = [rows for _, rows in page.sections if rows][0]
    assert rows[0][-1] == "10 · 14 · 23 · 46 · 69"
