"""A catalogue of bad inputs (issue: reliability): each one gets its clear error or quarantine reason, and
every batch's rows add up (rows in = loaded + quarantined + duplicates). Runs on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from include.netralitas.ingest.pipeline import BatchResult, ingest_case_reports, ingest_national_releases
from include.netralitas.settings import hmac_key

HEADER = "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"
GOOD = "82.04,{n}/PL,2024-11-01,PILKADA-2024,Pemkab Halsel,199001012015031001,Ani,pelaksana,lainnya,diproses"


def csv_text(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def bad(field: str, value: str) -> str:
    row = dict(zip(HEADER.split(","), GOOD.format(n=2).split(","), strict=True))
    row[field] = value
    return ",".join(row.values())


def xlsx(rows: list[list[object]], *, merged: str | None = None, sheets: int = 1) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    for extra in range(sheets - 1):
        book.active.title = f"Catatan{extra}"
        book.active.append(["tidak ada data di sini"])
        book.create_sheet(f"S{extra}")
        book.active = len(book.worksheets) - 1
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if merged:
        sheet.merge_cells(merged)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Case:
    name: str
    file_name: str
    content: bytes
    status: str  # loaded | quarantined (nothing loaded) | empty (no rows) | rejected
    rows: tuple[int, int, int, int]  # in, loaded, quarantined, duplicates
    reason: str = ""  # in the batch error or one quarantine reason / rule

    def expected(self) -> str:
        n_in, loaded, quarantined, duplicates = self.rows
        text = f"{self.status}; rows in {n_in} = loaded {loaded} + quarantined {quarantined} + duplicates {duplicates}"
        return text + (f"; reason: {self.reason}" if self.reason else "")


CASES = [
    Case("empty file", "82.04_a.csv", b"", "rejected", (0, 0, 0, 0), "empty"),
    Case("header only", "82.04_a.csv", csv_text(), "empty", (0, 0, 0, 0)),
    Case("a required column missing", "82.04_a.csv", csv_text("82.04,1", header="kode_kantor,nomor_kasus"),
         "rejected", (1, 0, 1, 0), "required column(s) missing"),
    Case("unknown extra columns", "82.04_a.csv", csv_text(GOOD.format(n=1) + ",x", header=HEADER + ",catatan"),
         "loaded", (1, 1, 0, 0)),
    Case("duplicated header", "82.04_a.csv", csv_text(GOOD.format(n=1) + ",x", header=HEADER + ",status"),
         "rejected", (1, 0, 1, 0), "duplicated header status"),
    Case("title rows above the header", "82.04_a.csv", b"LAPORAN BAWASLU\n\n" + csv_text(GOOD.format(n=1)),
         "loaded", (1, 1, 0, 0)),
    Case("wrong delimiter", "82.04_a.csv", csv_text(GOOD.format(n=1)).replace(b",", b"|"), "rejected", (1, 0, 1, 0),
         "required column(s) missing"),
    Case("Windows-1252 bytes in a file declared UTF-8", "82.04_a.csv",
         b"\xef\xbb\xbf" + csv_text(GOOD.format(n=1).replace("Ani", "Sit\xed")).decode().encode("cp1252"),
         "loaded", (1, 1, 0, 0)),
    Case("UTF-16 'Unicode text' export", "82.04_a.txt",
         csv_text(GOOD.format(n=1)).decode().replace(",", "\t").encode("utf-16"), "loaded", (1, 1, 0, 0)),
    Case("BOM", "82.04_a.csv", b"\xef\xbb\xbf" + csv_text(GOOD.format(n=1)), "loaded", (1, 1, 0, 0)),
    Case("Excel serial date", "82.04_a.csv", csv_text(GOOD.format(n=1), bad("tanggal_temuan", "45597")),
         "loaded", (2, 1, 1, 0), "bukan tanggal yang sah"),
    Case("31/02/2024", "82.04_a.csv", csv_text(GOOD.format(n=1), bad("tanggal_temuan", "31/02/2024")),
         "loaded", (2, 1, 1, 0), "bukan tanggal yang sah"),
    Case("a future date", "82.04_a.csv", csv_text(GOOD.format(n=1), bad("tanggal_temuan", "2099-01-01")),
         "loaded", (2, 1, 1, 0), "masa depan"),
    Case("NIP as an Excel number", "82.04_a.csv", csv_text(GOOD.format(n=1), bad("nip", "1.99E+17")),
         "loaded", (2, 1, 1, 0), "nip bukan 18 digit"),
    Case("NIP with 17 digits", "82.04_a.csv", csv_text(GOOD.format(n=1), bad("nip", "19900101201503100")),
         "loaded", (2, 1, 1, 0), "nip bukan 18 digit"),
    Case("NIP with letters", "82.04_a.csv", csv_text(GOOD.format(n=1), bad("nip", "19900101201503100O")),
         "loaded", (2, 1, 1, 0), "nip bukan 18 digit"),
    Case("unknown kode_kantor", "82.04_a.csv", csv_text(GOOD.format(n=1), bad("kode_kantor", "99.99")),
         "loaded", (2, 1, 1, 0), "kode_kantor tidak ada"),
    Case("unknown instansi", "82.04_a.csv", csv_text(GOOD.format(n=1), bad("instansi", "Pemkab Atlantis")),
         "loaded", (2, 1, 1, 0), "instansi tidak dikenal"),
    Case("ambiguous instansi", "82.04_a.csv", csv_text(GOOD.format(n=1), bad("instansi", "Bima")),
         "loaded", (2, 1, 1, 0), "Pemerintah Kabupaten Bima, Pemerintah Kota Bima"),
    Case("duplicate nomor_kasus with conflicting status", "82.04_a.csv",
         csv_text(GOOD.format(n=1), GOOD.format(n=1).replace("diproses", "sanksi")), "quarantined", (2, 0, 2, 0),
         "lebih dari sekali"),
    Case("exact duplicate rows", "82.04_a.csv", csv_text(GOOD.format(n=1), GOOD.format(n=1)), "loaded",
         (2, 1, 0, 1)),
    Case("XLSX with several sheets and merged title cells", "82.04_a.xlsx",
         xlsx([["LAPORAN", None, None], [], HEADER.split(","), GOOD.format(n=1).split(",")], merged="A1:C1",
              sheets=3), "loaded", (1, 1, 0, 0)),
    Case("XLSX with #REF! cells", "82.04_a.xlsx",
         xlsx([HEADER.split(","), GOOD.format(n=1).split(","), bad("jabatan", "#REF!").split(",")]),
         "loaded", (2, 1, 1, 0), "jabatan bukan kode"),
    Case("truncated XLSX", "82.04_a.xlsx", xlsx([HEADER.split(",")])[:300], "rejected", (0, 0, 0, 0),
         "not a readable XLSX"),
    Case("encrypted XLSX (an OLE container)", "82.04_a.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,
         "rejected", (0, 0, 0, 0), "not a readable XLSX"),
    Case("truncated JSON", "82.04_a.json", b'{"rows": [{"kode_kantor": "82.04"', "rejected", (0, 0, 0, 0),
         "invalid JSON"),
    Case("JSON NaN", "82.04_a.json", b'{"rows": [{"nip": NaN}]}', "rejected", (0, 0, 0, 0), "NaN"),
    Case("JSON duplicate keys", "82.04_a.json", b'{"rows": [{"nip": "1", "nip": "2"}]}', "rejected",
         (0, 0, 0, 0), "duplicate key"),
    Case("embedded newline in a quoted field", "82.04_a.csv",
         csv_text(GOOD.format(n=1).replace("Ani", '"Ani\nLestari"')), "loaded", (1, 1, 0, 0)),
    Case("unbalanced quote", "82.04_a.csv", csv_text(GOOD.format(n=1).replace("Ani", '"Ani'), GOOD.format(n=2)),
         "rejected", (0, 0, 0, 0), "unreadable CSV"),
    Case("a very long line", "82.04_a.csv", csv_text(bad("nama_terlapor", "x" * 150_000)), "rejected",
         (0, 0, 0, 0), "over the limit"),
    Case("SQL, script and formula text in every text field", "82.04_a.csv",
         csv_text(",".join(["'; DROP TABLE core.case_current; --", "<script>alert(1)</script>", "=cmd|' /C calc'!A0",
                            "'; DROP TABLE x; --", "<script>", "=cmd|'", "<b>", "=1+1", "<script>", "=HYPERLINK()"])),
         "quarantined", (1, 0, 1, 0), "kode_kantor tidak ada"),
]  # fmt: skip


def drop_name(index: int, case: Case) -> str:
    """The case's file under a name of its own in the shared drop: its office and its extension kept."""
    stem, _, extension = case.file_name.rpartition(".")
    return f"{stem}{index:02d}.{extension}"


@dataclass(frozen=True)
class CatalogueRun:
    """The whole catalogue dropped at once and ingested in one run, on one database."""

    results: dict[str, BatchResult]  # by case name
    batches: dict[str, dict]  # landing.batch rows by batch id
    reasons: dict[str, list[str]]  # "kolom aturan alasan" of audit.quarantine by batch id
    core_rows: int  # core.case_current: nothing reaches core without a build
    left_in_drop: list[str]


@pytest.fixture(scope="module")
def catalogue_run(migrated_copy, tmp_path_factory):
    """`catalogue_run(database)`: every case's file in one drop (each under its own name), ingested once per
    database, as the pipeline takes a week's drop: one run, one validation pass over all batches, each batch
    staged (or rejected) on its own. Each case's test reads its own batch."""
    from dataclasses import replace

    from include.netralitas.warehouse.database import Warehouse
    from tests.reliability import harness

    runs: dict[str, CatalogueRun] = {}

    def run(database: str) -> CatalogueRun:
        if database not in runs:
            url = migrated_copy(database)
            # the settings fixture's: an ephemeral GX context, no settle interval, the tests' key
            settings = replace(harness.settings_for(tmp_path_factory.mktemp("catalogue") / "var", url), gx_dir=None,
                               settle_seconds=0)  # fmt: skip
            folder = settings.case_report_drop
            folder.mkdir(parents=True)
            names = {case.name: drop_name(i, case) for i, case in enumerate(CASES)}
            for case in CASES:
                (folder / names[case.name]).write_bytes(case.content)
            wh = Warehouse(url)
            by_file = {r.file_name: r for r in ingest_case_reports(wh, settings, harness.KEY)}
            with wh.session() as conn:
                batches = {b["batch_id"]: dict(b) for b in conn.execute(text("SELECT * FROM landing.batch")).mappings()}
                reasons: dict[str, list[str]] = {}
                for batch_id, *rest in conn.execute(
                    text("SELECT batch_id, kolom, aturan, alasan FROM audit.quarantine")
                ):
                    reasons.setdefault(batch_id, []).append(" ".join(map(str, rest)))
                core_rows = conn.execute(text("SELECT COUNT(*) FROM core.case_current")).scalar_one()
            wh.engine.dispose()
            results = {name: by_file[file_name] for name, file_name in names.items() if file_name in by_file}
            runs[database] = CatalogueRun(
                results, batches, reasons, core_rows, sorted(p.name for p in folder.iterdir())
            )
        return runs[database]

    return run


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("database", ["duckdb", "postgresql"])
def test_bad_case_report(reliability, catalogue_run, database, case: Case):
    reliability.case(case.name, "input", case.expected(), f"case report {case.file_name}")
    run = catalogue_run(database)
    result = run.results[case.name]  # one result for the case's file
    assert result.status == case.status, result.error
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == case.rows
    batch = run.batches[result.batch_id]  # its one manifest row
    reasons = run.reasons.get(result.batch_id, [])
    given = [r for r in [batch["error"] or "", *reasons] if r]
    reason = next((r for r in given if case.reason and case.reason in r), given[0] if given else "")
    rows = f"{result.rows_in}/{result.rows_loaded}/{result.rows_quarantined}/{result.rows_duplicate}"
    reliability.observe(f"{result.status}; rows {rows}" + (f"; reason: {reason[:140]}" if reason else ""))
    assert batch["rows_in"] == batch["rows_loaded"] + batch["rows_quarantined"] + batch["rows_duplicate"]
    if case.reason:
        assert case.reason in (batch["error"] or "") or any(case.reason in r for r in reasons), reasons
    assert run.core_rows == 0
    assert not run.left_in_drop  # nothing left behind, nothing lost: the raw files are in the landing zone


def test_the_same_file_renamed_is_one_batch(reliability, warehouse, settings):
    reliability.case("the same file renamed", "input", "already_loaded: one batch, not two")
    folder = settings.case_report_drop
    folder.mkdir(parents=True)
    (folder / "82.04_a.csv").write_bytes(csv_text(GOOD.format(n=1)))
    ingest_case_reports(warehouse, settings, hmac_key(settings))
    (folder / "82.04_renamed.csv").write_bytes(csv_text(GOOD.format(n=1)))
    [again] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    reliability.observe(again.status)
    assert again.status == "already_loaded"


RELEASE_COUNTS = ["-3", "2.5", "1.234", "dua"]
OTHER_INPUTS = [
    "the same file renamed", *[f"national release jumlah {j}" for j in RELEASE_COUNTS],
    "HTML release without a table", "a file over the size limit",
]  # fmt: skip


@pytest.mark.parametrize("jumlah", RELEASE_COUNTS)
def test_bad_release_counts(reliability, warehouse, settings, jumlah):
    reliability.case(f"national release jumlah {jumlah}", "input", "row quarantined (bilangan bulat); rows 2/1/1")
    folder = settings.national_release_drop
    folder.mkdir(parents=True)
    (folder / "r.csv").write_text(f"instansi,jumlah\nKemenag,4\nPemkab Halsel,{jumlah}\n")
    meta = {"penerbit": "BKN", "judul": "R", "tanggal_data": "2024-11-15", "pemilihan": "SEMUA"}
    (folder / "r.meta.json").write_text(json.dumps(meta))
    [result] = ingest_national_releases(warehouse, settings)
    with warehouse.session() as conn:
        reasons = conn.execute(text("SELECT alasan FROM audit.quarantine")).scalars().all()
    reason = next((r for r in reasons if "bilangan bulat" in r), reasons[0] if reasons else "")
    reliability.observe(f"rows {result.rows_in}/{result.rows_loaded}/{result.rows_quarantined}; reason: {reason}")
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    assert any("bilangan bulat" in r for r in reasons), reasons


def test_an_html_release_without_a_table(reliability, warehouse, settings):
    reliability.case("HTML release without a table", "input", "rejected: no table")
    folder = settings.national_release_drop
    folder.mkdir(parents=True)
    (folder / "r.html").write_text("<html><body><p>Data menyusul</p></body></html>")
    meta = {"penerbit": "BKN", "judul": "R", "tanggal_data": "2024-11-15", "pemilihan": "SEMUA"}
    (folder / "r.meta.json").write_text(json.dumps(meta))
    [result] = ingest_national_releases(warehouse, settings)
    reliability.observe(f"{result.status}: {result.error}")
    assert result.status == "rejected"
    assert "no table" in result.error


def test_an_oversized_file_is_rejected_without_reading_it(reliability, warehouse, settings, monkeypatch):
    from include.netralitas.ingest import pipeline as ingest

    reliability.case("a file over the size limit", "input", "rejected without reading it: over the limit")
    monkeypatch.setattr(ingest, "MAX_FILE_BYTES", 1000)
    folder = settings.case_report_drop
    folder.mkdir(parents=True)
    (folder / "82.04_big.csv").write_bytes(csv_text(*[GOOD.format(n=i) for i in range(50)]))
    [result] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    reliability.observe(f"{result.status}: {result.error}")
    assert result.status == "rejected"
    assert "over the limit of 1000 bytes" in result.error


def test_the_catalogue_holds_at_least_25_bad_inputs():
    assert len(CASES) >= 25
