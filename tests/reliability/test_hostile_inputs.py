"""Inputs that no office should be able to break ingestion with (issue: ingestion that no input can break).

Every case drops its bad file and, queued behind it (its name sorts later), a good file of another office
that must load in the same run. Every batch's rows add up (rows in = loaded + quarantined + duplicates),
no database error ever escapes, and no raw NIP or name reaches the audit tables or the GX project. Runs on
DuckDB and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from include.netralitas.ingest.pipeline import ingest_case_reports, ingest_national_releases
from include.netralitas.settings import hmac_key
from tests.reliability.test_bad_inputs import xlsx as xlsx_bytes

COLUMNS = [
    "kode_kantor", "nomor_kasus", "tanggal_temuan", "pemilihan", "instansi", "nip", "nama_terlapor", "jabatan",
    "jenis_pelanggaran", "status",
]  # fmt: skip
HEADER = ",".join(COLUMNS)
NIP = "199001012015031001"
NAME = "Ani Lestari Wulandari"
GOOD_FILE = "82.05_zz_good.csv"
GOOD_ROW = {
    "kode_kantor": "82.04", "nomor_kasus": "1/PL", "tanggal_temuan": "2024-11-01", "pemilihan": "PILKADA-2024",
    "instansi": "Pemkab Halsel", "nip": NIP, "nama_terlapor": NAME, "jabatan": "pelaksana",
    "jenis_pelanggaran": "lainnya", "status": "diproses",
}  # fmt: skip


def row(**changes: str | None) -> dict:
    return {**GOOD_ROW, **changes}


def csv_bytes(*rows: dict, header: list[str] = COLUMNS) -> bytes:
    lines = [",".join(header)] + [",".join("" if r.get(c) is None else str(r[c]) for c in header) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def good_file() -> bytes:
    return csv_bytes(row(kode_kantor="82.05", nomor_kasus="900/PL", nip="199202022016042002", nama_terlapor="Budi"))


def json_bytes(rows: list[dict]) -> bytes:
    return json.dumps({"rows": rows}).encode()


@dataclass(frozen=True)
class Hostile:
    id: str
    name: str | bytes  # bytes: a file name that is not valid UTF-8
    content: bytes
    status: str
    rows: tuple[int, int, int, int]  # in, loaded, quarantined, duplicates
    reason: str  # in the batch's error or one of its quarantine reasons
    folder: str = "case-reports"

    def expected(self) -> str:
        n_in, loaded, quarantined, duplicates = self.rows
        return (
            f"{self.status}; rows in {n_in} = loaded {loaded} + quarantined {quarantined} + duplicates {duplicates};"
            f" reason: {self.reason}; the good file behind it loads"
        )


def blank(column: str) -> Hostile:
    return Hostile(f"CSV with a blank {column}", "82.04_blank.csv", csv_bytes(row(nomor_kasus="2/PL"),
                   row(**{column: None})), "loaded", (2, 1, 1, 0), f"{column} kosong" if column != "tanggal_temuan"
                   else "tanggal_temuan kosong")  # fmt: skip


REQUIRED = ["kode_kantor", "nomor_kasus", "tanggal_temuan", "pemilihan", "instansi", "jabatan", "jenis_pelanggaran",
            "status"]  # fmt: skip
MERGED = xlsx_bytes(
    [COLUMNS, list(row(nomor_kasus="1/PL").values()), list(row(nomor_kasus="2/PL", status=None).values())],
    merged="J2:J3",
)
FORMULA = xlsx_bytes([COLUMNS, list(row(status='=LOWER("DIPROSES")').values())])

CASES = [
    *[blank(c) for c in REQUIRED],
    Hostile("XLSX with a blank status", "82.04_x.xlsx", xlsx_bytes([COLUMNS, list(row(status=None).values())]),
            "quarantined", (1, 0, 1, 0), "status kosong"),
    Hostile("XLSX with a merged status cell", "82.04_x.xlsx", MERGED, "loaded", (2, 1, 1, 0), "sel gabungan"),
    Hostile("XLSX formula without a cached value", "82.04_x.xlsx", FORMULA, "quarantined", (1, 0, 1, 0),
            "rumus tanpa nilai tersimpan"),
    Hostile("JSON with a key missing in one record", "82.04_x.json",
            json_bytes([row(nomor_kasus="2/PL"), {k: v for k, v in row().items() if k != "status"}]),
            "loaded", (2, 1, 1, 0), "status kosong"),
    Hostile("JSON null in a required field", "82.04_x.json", json_bytes([row(jabatan=None)]), "quarantined",
            (1, 0, 1, 0), "jabatan kosong"),
    Hostile("JSON numbers and booleans as values", "82.04_x.json",
            json_bytes([row(nomor_kasus=17), row(nomor_kasus=18, status=True)]), "loaded", (2, 1, 1, 0),
            "status bukan kode"),
    Hostile("JSON 18-digit NIP sent as a number", "82.04_x.json", json_bytes([row(nip=int(NIP))]), "quarantined",
            (1, 0, 1, 0), "angka JSON"),
    Hostile("JSON nested object as a value", "82.04_x.json", json_bytes([row(instansi={"nama": "Pemkab Halsel"})]),
            "quarantined", (1, 0, 1, 0), "objek/array JSON"),
    Hostile("pathologically nested JSON", "82.04_x.json", b'{"rows": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
            "rejected", (0, 0, 0, 0), "nested deeper"),
    Hostile("API-served rows with numbers and missing keys", "82.04_api_20241125T000000Z.json",
            json_bytes([row(nomor_kasus=31), {k: v for k, v in row(nomor_kasus="32").items() if k != "nip"}]),
            "loaded", (2, 2, 0, 0), "", folder="api-pulls"),
    Hostile("a row of another office", "82.04_x.csv", csv_bytes(row(nomor_kasus="2/PL"), row(kode_kantor="82.06")),
            "loaded", (2, 1, 1, 0), "bukan kantor pengirim"),
    Hostile("a file name without an office code", "laporan.csv", csv_bytes(row()), "rejected", (0, 0, 0, 0),
            "does not begin with a known office code"),
    Hostile("NUL byte in a cell", "82.04_x.csv", csv_bytes(row(nomor_kasus="2/PL"), row(nomor_kasus="3/\x00PL")),
            "loaded", (2, 1, 1, 0), "U+0000"),
    Hostile("bidi override in a cell", "82.04_x.csv", csv_bytes(row(instansi="Pemkab \u202eHalsel")),
            "quarantined", (1, 0, 1, 0), "U+202E"),
    Hostile("control character in a JSON value", "82.04_x.json", json_bytes([row(status="diproses\x1b[2J")]),
            "quarantined", (1, 0, 1, 0), "U+001B"),
    Hostile("a file name with a newline", "82.04_x\nFORGED.csv", csv_bytes(row()), "rejected", (0, 0, 0, 0),
            "unsafe file name"),
    Hostile("a file name that is not UTF-8", b"82.04_\xff\xfe.csv", csv_bytes(row()), "rejected", (0, 0, 0, 0),
            "not valid UTF-8"),
    Hostile("a file name with a bidi override", "82.04_x\u202evsc.csv", csv_bytes(row()), "rejected",
            (0, 0, 0, 0), "unsafe file name"),
    Hostile("NIP shown as 1.99E+17 by Excel", "82.04_x.csv", csv_bytes(row(nip="1.99001E+17")), "quarantined",
            (1, 0, 1, 0), "format kolom sebagai Teks"),
    Hostile("Excel serial date, its reason named", "82.04_x.csv", csv_bytes(row(tanggal_temuan="45597")), "quarantined",
            (1, 0, 1, 0), "angka seri tanggal Excel"),
    Hostile("NIP in Arabic-Indic digits", "82.04_x.csv", csv_bytes(row(nip="١٩٩٠٠١٠١٢٠١٥٠٣١٠٠١")),
            "quarantined", (1, 0, 1, 0), "non-ASCII"),
    Hostile("a NIP and a name in swapped columns", "82.04_x.csv", csv_bytes(row(jabatan=NIP, instansi=NAME)),
            "quarantined", (1, 0, 1, 0), "bentuk"),
    Hostile("a NIP in the nomor_kasus column", "82.04_x.csv", csv_bytes(row(nomor_kasus=NIP, nip=None)),
            "quarantined", (1, 0, 1, 0), "bentuk NIP/NIK"),
    Hostile("a spreadsheet that is a zip of garbage", "82.04_x.xlsx", b"PK\x05\x06" + b"\0" * 18, "rejected",
            (0, 0, 0, 0), "not a readable XLSX"),
]  # fmt: skip


def drop(settings, folder: str, name: str | bytes, content: bytes) -> None:
    target = settings.drop_dir / folder
    target.mkdir(parents=True, exist_ok=True)
    path = os.path.join(os.fsencode(target), name) if isinstance(name, bytes) else target / name
    with open(path, "wb") as handle:
        handle.write(content)


def batches(warehouse) -> list[dict]:
    with warehouse.session() as conn:
        return [dict(r) for r in conn.execute(text("SELECT * FROM landing.batch ORDER BY file_name")).mappings()]


def audit_text(warehouse) -> str:
    """Everything the audit tables and the manifest hold, as one text to search for personal data."""
    with warehouse.session() as conn:
        rows = [
            *conn.execute(text("SELECT * FROM audit.quarantine")).all(),
            *conn.execute(text("SELECT * FROM audit.validation_result")).all(),
            *conn.execute(text("SELECT * FROM landing.batch")).all(),
        ]
    return "\n".join(" ".join(map(str, r)) for r in rows)


def gx_text(settings) -> str:
    return "\n".join(
        p.read_text(errors="replace")
        for p in settings.gx_dir.rglob("*")
        if p.is_file() and p.suffix in (".json", ".html")
    )


def assert_accounted(found: list[dict]) -> None:
    for batch in found:
        assert batch["rows_in"] == batch["rows_loaded"] + batch["rows_quarantined"] + batch["rows_duplicate"], batch


@pytest.mark.data_docs  # no input value may reach GX's stored results or Data Docs
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case_report(reliability, warehouse, settings, caplog, case: Hostile):
    reliability.case(case.id, "input", case.expected(), "case report, with a good file queued behind it")
    drop(settings, case.folder, case.name, case.content)
    drop(settings, "case-reports", GOOD_FILE, good_file())
    with caplog.at_level("INFO"):
        results = ingest_case_reports(warehouse, settings, hmac_key(settings))
    by_name = {r.file_name: r for r in results}
    good = by_name.pop(GOOD_FILE)
    [bad] = by_name.values()
    found = batches(warehouse)
    assert_accounted(found)
    assert (good.status, good.rows_loaded) == ("loaded", 1)
    with warehouse.session() as conn:
        reasons = [r for (r,) in conn.execute(text("SELECT alasan FROM audit.quarantine WHERE batch_id = :b"),
                                                {"b": bad.batch_id})]  # fmt: skip
    given = [r for r in [bad.error or "", *reasons] if r]
    shown = next((r for r in given if case.reason and case.reason in r), given[0] if given else "")
    counts = (bad.rows_in, bad.rows_loaded, bad.rows_quarantined, bad.rows_duplicate)
    reliability.observe(f"{bad.status}; rows {'/'.join(map(str, counts))}; reason: {shown[:160]}; good file loaded")
    assert bad.status == case.status, given
    assert counts == case.rows
    if case.reason:
        assert any(case.reason in r for r in given), given
    assert all(r.isprintable() for r in [bad.file_name, *(b["file_name"] for b in found)])
    for where, content in (("audit", audit_text(warehouse)), ("GX", gx_text(settings)), ("log", caplog.text)):
        assert NIP not in content, where
        assert NAME not in content, where
    assert not [p for p in (settings.drop_dir / case.folder).iterdir() if not p.name.startswith(".")]


def test_a_file_rejected_for_its_name_loads_once_renamed(reliability, warehouse, settings):
    reliability.case("a file rejected for its name, dropped again renamed", "input",
                     "the renamed file is a new batch and loads (not 'already loaded')")  # fmt: skip
    drop(settings, "case-reports", "82.04_x\nFORGED.csv", csv_bytes(row()))
    [rejected] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    drop(settings, "case-reports", "82.04_x.csv", csv_bytes(row()))
    [renamed] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    reliability.observe(f"first {rejected.status}; renamed {renamed.status} ({renamed.rows_loaded} loaded)")
    assert rejected.status == "rejected"
    assert (renamed.status, renamed.rows_loaded) == ("loaded", 1)


def test_json_values_are_the_exact_text_sent(reliability, warehouse, settings):
    reliability.case("JSON numbers kept as the text sent", "input", "17 stays 17 in staging (never 17.0 or nan)")
    drop(settings, "case-reports", "82.04_x.json", json_bytes([row(nomor_kasus=17), row(nomor_kasus=1.50)]))
    ingest_case_reports(warehouse, settings, hmac_key(settings))
    with warehouse.session() as conn:
        numbers = sorted(conn.execute(text("SELECT nomor_kasus FROM staging.case_report")).scalars())
    reliability.observe(f"staged nomor_kasus: {numbers}")
    assert numbers == ["1.5", "17"]


def test_nested_release_sidecar_is_rejected_and_the_next_release_loads(reliability, warehouse, settings):
    reliability.case("pathologically nested .meta.json", "input", "rejected: nested deeper; the next release loads")
    drop(settings, "national-releases", "a.csv", b"instansi,jumlah\nKemenag,4\n")
    drop(settings, "national-releases", "a.meta.json", b"[" * 100_000 + b"]" * 100_000)
    drop(settings, "national-releases", "b.csv", b"instansi,jumlah\nKemenag,4\n")
    meta = {"penerbit": "BKN", "judul": "R", "tanggal_data": "2024-11-15", "pemilihan": "SEMUA"}
    drop(settings, "national-releases", "b.meta.json", json.dumps(meta).encode())
    results = {r.file_name: r for r in ingest_national_releases(warehouse, settings)}
    reliability.observe(f"a.csv {results['a.csv'].status}: {results['a.csv'].error}; b.csv {results['b.csv'].status}")
    assert results["a.csv"].status == "rejected"
    assert "nested deeper" in results["a.csv"].error
    assert results["a.csv"].error.startswith("a.meta.json:")  # named as dropped, not as landed
    assert (results["b.csv"].status, results["b.csv"].rows_loaded) == ("loaded", 1)
    assert_accounted(batches(warehouse))


def test_no_office_can_change_another_offices_case(reliability, warehouse, settings):
    from include.netralitas.warehouse.build import build_warehouse

    reliability.case("an office rewrites another office's case", "input",
                     "the foreign row is quarantined; the case keeps its own office's status")  # fmt: skip
    drop(settings, "case-reports", "82.05_a.csv", csv_bytes(row(kode_kantor="82.05", nomor_kasus="7/PL")))
    ingest_case_reports(warehouse, settings, hmac_key(settings))
    forged = row(kode_kantor="82.05", nomor_kasus="7/PL", status="dihentikan")
    drop(settings, "case-reports", "82.04_b.csv", csv_bytes(forged))
    [result] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    build_warehouse(warehouse)
    with warehouse.session() as conn:
        status = conn.execute(text("SELECT status FROM core.case_current WHERE nomor_kasus = '7/PL'")).scalar_one()
    reliability.observe(f"82.04's row: {result.status} {result.rows_quarantined} quarantined; case status {status}")
    assert (result.status, result.rows_quarantined) == ("quarantined", 1)
    assert status == "diproses"


def test_the_newest_report_is_the_one_landed_last_whatever_its_mtime(reliability, warehouse, settings):
    from include.netralitas.warehouse.build import build_warehouse

    reliability.case("a later report with an older mtime", "input",
                     "the report landed last wins (landing time), not the file with the newest mtime")  # fmt: skip
    drop(settings, "case-reports", "82.04_a.csv", csv_bytes(row(status="diproses")))
    ingest_case_reports(warehouse, settings, hmac_key(settings))
    build_warehouse(warehouse)
    drop(settings, "case-reports", "82.04_b.csv", csv_bytes(row(status="sanksi")))
    old = datetime(2019, 1, 1, tzinfo=UTC).timestamp()  # copied from a backup, unzipped, a wrong clock
    os.utime(settings.case_report_drop / "82.04_b.csv", (old, old))
    ingest_case_reports(warehouse, settings, hmac_key(settings))
    build_warehouse(warehouse)
    with warehouse.session() as conn:
        status = conn.execute(text("SELECT status FROM core.case_current")).scalar_one()
    reliability.observe(f"current status: {status}")
    assert status == "sanksi"


def test_reports_landed_together_follow_their_names(reliability, warehouse, settings):
    from include.netralitas.warehouse.build import build_warehouse

    reliability.case("two reports of one case in one run", "input", "name order decides (the later name wins)")
    drop(settings, "case-reports", "82.04_20241126.csv", csv_bytes(row(status="sanksi")))
    drop(settings, "case-reports", "82.04_20241125.csv", csv_bytes(row(status="diproses")))
    newer = datetime(2024, 11, 25, tzinfo=UTC).timestamp()
    os.utime(settings.case_report_drop / "82.04_20241125.csv", (newer + 86400, newer + 86400))  # mtimes swapped
    ingest_case_reports(warehouse, settings, hmac_key(settings))
    build_warehouse(warehouse)
    with warehouse.session() as conn:
        status = conn.execute(text("SELECT status FROM core.case_current")).scalar_one()
    reliability.observe(f"current status: {status}")
    assert status == "sanksi"


def test_a_file_still_being_written_waits_for_the_next_run(reliability, warehouse, settings, monkeypatch):
    from dataclasses import replace

    reliability.case("a file still being written", "input",
                     "a young file and a .part file wait (not landed nor deleted); they load once settled")  # fmt: skip
    settled = replace(settings, settle_seconds=60)
    drop(settings, "case-reports", "82.04_young.csv", csv_bytes(row()))
    drop(settings, "case-reports", "82.06_upload.csv.part", b"kode_kantor,nomor")
    drop(settings, "case-reports", GOOD_FILE, good_file())
    old = datetime(2024, 11, 25, tzinfo=UTC).timestamp()
    os.utime(settings.case_report_drop / GOOD_FILE, (old, old))
    results = {r.file_name: r for r in ingest_case_reports(warehouse, settled, hmac_key(settings))}
    assert results["82.04_young.csv"].status == "waiting"
    assert "settle interval of 60 s" in results["82.04_young.csv"].error
    assert "82.06_upload.csv.part" not in results
    assert results[GOOD_FILE].status == "loaded"
    assert [b["file_name"] for b in batches(warehouse)] == [GOOD_FILE]
    assert (settings.case_report_drop / "82.04_young.csv").exists()
    assert (settings.case_report_drop / "82.06_upload.csv.part").exists()
    (settings.case_report_drop / "82.06_upload.csv.part").rename(settings.case_report_drop / "82.06_upload.csv")
    for name in ("82.04_young.csv", "82.06_upload.csv"):
        os.utime(settings.case_report_drop / name, (old, old))
    again = {r.file_name: r.status for r in ingest_case_reports(warehouse, settled, hmac_key(settings))}
    reliability.observe(f"first run: {results['82.04_young.csv'].status}; once settled: {again}")
    assert again == {"82.04_young.csv": "loaded", "82.06_upload.csv": "rejected"}


def test_a_file_growing_while_read_waits(reliability, warehouse, settings, monkeypatch):
    from pathlib import Path

    reliability.case("a file growing while it is read", "input", "left for the next run, not landed, not deleted")
    drop(settings, "case-reports", "82.04_growing.csv", csv_bytes(row()))
    target = settings.case_report_drop / "82.04_growing.csv"
    real = Path.read_bytes

    def read_while_writer_appends(self):
        data = real(self)
        if self == target:
            with open(self, "ab") as handle:
                handle.write(b"82.04,2/PL,2024-11-01")
        return data

    monkeypatch.setattr(Path, "read_bytes", read_while_writer_appends)
    [result] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    reliability.observe(f"{result.status}: {result.error}")
    assert result.status == "waiting"
    assert "still growing" in result.error
    assert target.exists()
    assert batches(warehouse) == []


def test_an_oversized_file_is_rejected_by_its_size_alone(reliability, warehouse, settings, monkeypatch):
    from include.netralitas.ingest import pipeline as ingest

    reliability.case("a file over the size limit, never read", "input",
                     "rejected by its size before it is read or landed; kept aside; the good file loads")  # fmt: skip
    monkeypatch.setattr(ingest, "MAX_FILE_BYTES", 1000)
    drop(settings, "case-reports", "82.04_big.csv", csv_bytes(*[row(nomor_kasus=f"{n}/PL") for n in range(40)]))
    drop(settings, "case-reports", GOOD_FILE, good_file())

    from pathlib import Path

    real = Path.read_bytes

    def never_the_big_one(self):
        assert self.name != "82.04_big.csv", "an oversized file was read"
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", never_the_big_one)
    results = {r.file_name: r for r in ingest_case_reports(warehouse, settings, hmac_key(settings))}
    big = results["82.04_big.csv"]
    reliability.observe(f"{big.status}: {big.error}")
    assert big.status == "rejected"
    assert "over the limit of 1000 bytes" in big.error
    assert [p.name for p in (settings.landing_dir / "case-report" / "oversize").iterdir()] == [
        f"{big.batch_id[:12]}-82.04_big.csv"
    ]  # moved, not copied: nothing else of it was landed
    landed = [p for p in settings.landing_dir.rglob("*") if p.is_file() and p.parent.name != "oversize"]
    assert len(landed) == 1  # the good file only
    assert results[GOOD_FILE].status == "loaded"


def test_an_oversized_sidecar_rejects_its_release_unread(reliability, warehouse, settings, monkeypatch):
    from include.netralitas.ingest import pipeline as ingest

    reliability.case("a release sidecar over the size limit", "input",
                     "rejected by the sidecar's size, both files kept aside; the next release loads")  # fmt: skip
    monkeypatch.setattr(ingest, "MAX_FILE_BYTES", 1000)
    meta = {"penerbit": "BKN", "judul": "R", "tanggal_data": "2024-11-15", "pemilihan": "SEMUA"}
    drop(settings, "national-releases", "a.csv", b"instansi,jumlah\nKemenag,4\n")
    drop(settings, "national-releases", "a.meta.json", json.dumps({**meta, "catatan": "x" * 2000}).encode())
    drop(settings, "national-releases", "b.csv", b"instansi,jumlah\nKemenag,5\n")
    drop(settings, "national-releases", "b.meta.json", json.dumps(meta).encode())
    results = {r.file_name: r for r in ingest_national_releases(warehouse, settings)}
    reliability.observe(f"a.csv {results['a.csv'].status}: {results['a.csv'].error}; b.csv {results['b.csv'].status}")
    assert results["a.csv"].status == "rejected"
    assert "a.meta.json" in results["a.csv"].error
    aside = settings.landing_dir / "national-release" / "oversize"
    assert sorted(p.name.split("-", 1)[1] for p in aside.iterdir()) == ["a.csv", "a.meta.json"]
    assert results["b.csv"].status == "loaded"
    assert_accounted(batches(warehouse))


def test_a_zip_bomb_workbook_is_rejected_before_it_is_opened(reliability, warehouse, settings, monkeypatch):
    from include.netralitas.ingest import readers

    reliability.case("an XLSX that unpacks beyond the limit", "input", "rejected by its unpacked size")
    monkeypatch.setattr(readers, "MAX_XLSX_UNPACKED_BYTES", 2000)
    drop(settings, "case-reports", "82.04_x.xlsx", xlsx_bytes([COLUMNS, *[list(row().values())] * 50]))
    [result] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    reliability.observe(f"{result.status}: {result.error}")
    assert result.status == "rejected"
    assert "unpacks to" in result.error


def test_today_is_the_offices_day_in_wib(reliability, warehouse, settings, monkeypatch):
    from include.netralitas.ingest import pipeline as ingest

    reliability.case("a row dated today in WIB while UTC is still yesterday", "input",
                     "loads; tomorrow (WIB) is quarantined as a future date")  # fmt: skip
    # 2024-11-30 18:30 UTC is 2024-12-01 01:30 in Jakarta
    monkeypatch.setattr(ingest, "today_wib", lambda: datetime(2024, 11, 30, 18, 30, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Jakarta")).date())  # fmt: skip
    drop(settings, "case-reports", "82.04_x.csv",
         csv_bytes(row(tanggal_temuan="01/12/2024"), row(nomor_kasus="2/PL", tanggal_temuan="2024-12-02")))  # fmt: skip
    [result] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    reliability.observe(f"rows loaded {result.rows_loaded}, quarantined {result.rows_quarantined}")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)


def test_mixed_date_formats_follow_one_rule(reliability, warehouse, settings):
    reliability.case("mixed date formats in one file", "input",
                     "ISO and day-first forms load as the same day; never month-first")  # fmt: skip
    dates = ["2024-11-05", "05/11/2024", "05-11-2024", "5/11/2024"]
    rows = [row(nomor_kasus=f"{n}/PL", tanggal_temuan=d) for n, d in enumerate(dates)]
    drop(settings, "case-reports", "82.04_x.csv", csv_bytes(*rows))
    [result] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    with warehouse.session() as conn:
        days = {str(d) for d in conn.execute(text("SELECT tanggal_temuan FROM staging.case_report")).scalars()}
    reliability.observe(f"loaded {result.rows_loaded}; days {sorted(days)}")
    assert result.rows_loaded == 4
    assert days == {"2024-11-05"}


def test_unicode_look_alikes_are_one_value(reliability, warehouse, settings):
    reliability.case("fullwidth NIP, zero-width and fullwidth instansi", "input",
                     "the fullwidth NIP gets the ASCII NIP's pseudonym; the instansi resolves")  # fmt: skip
    fullwidth = NIP.translate({ord(str(d)): chr(0xFF10 + d) for d in range(10)})
    rows = [
        row(nomor_kasus="1/PL"),
        row(nomor_kasus="2/PL", nip=fullwidth, instansi="Pemkab\u200b Ｈａｌｓｅｌ"),
        row(nomor_kasus="3\u200b/PL"),
    ]
    drop(settings, "case-reports", "82.04_x.csv", csv_bytes(*rows))
    [result] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    with warehouse.session() as conn:
        staged = conn.execute(text("SELECT nomor_kasus, nip_hash, instansi_kode FROM staging.case_report")).all()
    reliability.observe(f"loaded {result.rows_loaded}; distinct pseudonyms {len({h for _, h, _ in staged})}")
    assert result.rows_loaded == 3
    assert len({h for _, h, _ in staged}) == 1
    assert len({k for _, _, k in staged}) == 1
    assert sorted(n for n, _, _ in staged) == ["1/PL", "2/PL", "3/PL"]


def test_a_batch_the_database_refuses_is_rejected_and_the_next_loads(reliability, warehouse, settings, monkeypatch):
    """Defence in depth: should a rule ever be missing, the database's refusal rejects one batch, not the run."""
    import psycopg

    reliability.case("the database refuses a batch's rows", "input",
                     "that batch rejected (rolled back, no database text kept); the next batch loads")  # fmt: skip
    real = warehouse.bulk_insert

    def refuse_first(conn, table, frame):
        if table == "staging.case_report" and (frame["kode_kantor"] == "82.04").any():
            raise psycopg.errors.NotNullViolation(f"null value in column; failing row contains ({NIP}, {NAME})")
        return real(conn, table, frame)

    monkeypatch.setattr(warehouse, "bulk_insert", refuse_first)
    drop(settings, "case-reports", "82.04_x.csv", csv_bytes(row()))
    drop(settings, "case-reports", GOOD_FILE, good_file())
    results = {r.file_name: r for r in ingest_case_reports(warehouse, settings, hmac_key(settings))}
    bad = results["82.04_x.csv"]
    reliability.observe(f"{bad.status}: {bad.error}")
    assert bad.status == "rejected"
    assert "refused" in bad.error
    assert NIP not in audit_text(warehouse)
    assert results[GOOD_FILE].status == "loaded"
    assert_accounted(batches(warehouse))
    with warehouse.session() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM staging.case_report")).scalar_one() == 1


def test_a_batch_that_breaks_validation_is_rejected_alone(reliability, warehouse, settings, monkeypatch):
    from include.netralitas.ingest import pipeline as ingest

    reliability.case("validation raises on one batch", "input", "that batch rejected; the others validated and loaded")
    real = ingest.run_suite

    def fails_on_82_04(suite, rules, frame, *args, **kwargs):
        if (frame["kantor_berkas"] == "82.04").any():
            raise ValueError("an expectation raised")
        return real(suite, rules, frame, *args, **kwargs)

    monkeypatch.setattr(ingest, "run_suite", fails_on_82_04)
    drop(settings, "case-reports", "82.04_x.csv", csv_bytes(row()))
    drop(settings, "case-reports", GOOD_FILE, good_file())
    results = {r.file_name: r for r in ingest_case_reports(warehouse, settings, hmac_key(settings))}
    reliability.observe(f"{results['82.04_x.csv'].status}: {results['82.04_x.csv'].error}")
    assert results["82.04_x.csv"].status == "rejected"
    assert "validation could not run" in results["82.04_x.csv"].error
    assert results[GOOD_FILE].status == "loaded"
    assert_accounted(batches(warehouse))


HOSTILE_IDS = [
    *[c.id for c in CASES], "a file rejected for its name, dropped again renamed",
    "JSON numbers kept as the text sent", "pathologically nested .meta.json",
    "an office rewrites another office's case", "a later report with an older mtime",
    "two reports of one case in one run", "a file still being written", "a file growing while it is read",
    "a file over the size limit, never read", "a release sidecar over the size limit",
    "an XLSX that unpacks beyond the limit",
    "a row dated today in WIB while UTC is still yesterday", "mixed date formats in one file",
    "fullwidth NIP, zero-width and fullwidth instansi", "the database refuses a batch's rows",
    "validation raises on one batch",
]  # fmt: skip


def test_every_case_id_is_unique():
    assert len(HOSTILE_IDS) == len(set(HOSTILE_IDS))
    assert all(re.fullmatch(r"[^\n]+", i) for i in HOSTILE_IDS)
