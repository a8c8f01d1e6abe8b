"""Ingestion on both databases: row accounting, quarantine reasons, idempotency, no raw personal data."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest
from sqlalchemy import text

from include.netralitas.ingest.pipeline import ingest_case_reports, ingest_national_releases
from include.netralitas.quality.gx import case_report_rules
from include.netralitas.reference.catalogue import load_catalogue
from include.netralitas.settings import hmac_key

HEADER = "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"
GOOD = "82.04,{n}/PL,2024-11-01,PILKADA-2024,Pemkab Halsel,199001012015031001,Ani Lestari,pelaksana,lainnya,diproses"


def drop(settings, name: str, lines: list[str]) -> None:
    settings.case_report_drop.mkdir(parents=True, exist_ok=True)
    (settings.case_report_drop / name).write_text("\n".join([HEADER, *lines]) + "\n")


def batches(warehouse) -> list[dict]:
    with warehouse.session() as conn:
        return [dict(r) for r in conn.execute(text("SELECT * FROM landing.batch ORDER BY file_name")).mappings()]


def quarantine(warehouse) -> list[tuple]:
    with warehouse.session() as conn:
        return conn.execute(text("SELECT baris, kolom, aturan, alasan FROM audit.quarantine ORDER BY baris")).all()


@pytest.mark.parametrize(
    ("row", "kolom", "aturan", "alasan"),
    [
        ("99.99,1/PL,2024-11-01,PILKADA-2024,Kemenag,,,pelaksana,lainnya,diproses", "kode_kantor",
         "expect_column_values_to_be_in_set", "kode_kantor tidak ada"),
        ("82.04,,2024-11-01,PILKADA-2024,Kemenag,,,pelaksana,lainnya,diproses", "nomor_kasus",
         "expect_column_values_to_not_be_null", "nomor_kasus kosong"),
        ("82.04,1/PL,31/02/2024,PILKADA-2024,Kemenag,,,pelaksana,lainnya,diproses", "tanggal_temuan",
         "expect_column_values_to_not_be_null", "bukan tanggal yang sah"),
        ("82.04,1/PL,2099-01-01,PILKADA-2024,Kemenag,,,pelaksana,lainnya,diproses", "tanggal_temuan",
         "expect_column_values_to_be_between", "masa depan"),
        ("82.04,1/PL,2014-12-31,PILKADA-2024,Kemenag,,,pelaksana,lainnya,diproses", "tanggal_temuan",
         "expect_column_values_to_be_between", "sebelum 2015-01-01"),
        ("82.04,1/PL,2024-11-01,PILPRES-2024,Kemenag,,,pelaksana,lainnya,diproses", "pemilihan",
         "expect_column_values_to_be_in_set", "pemilihan bukan kode"),
        ("82.04,1/PL,2024-11-01,PILKADA-2024,Bima,,,pelaksana,lainnya,diproses", "instansi",
         "expect_column_values_to_not_be_null", "Pemerintah Kabupaten Bima, Pemerintah Kota Bima"),
        ("82.04,1/PL,2024-11-01,PILKADA-2024,Kemenag,19900101201503100,,pelaksana,lainnya,diproses", "nip",
         "expect_column_values_to_match_regex", "nip bukan 18 digit"),
        ("82.04,1/PL,2024-11-01,PILKADA-2024,Kemenag,,,staf ahli,lainnya,diproses", "jabatan",
         "expect_column_values_to_be_in_set", "jabatan bukan kode"),
        ("82.04,1/PL,2024-11-01,PILKADA-2024,Kemenag,,,pelaksana,kampanye,diproses", "jenis_pelanggaran",
         "expect_column_values_to_be_in_set", "jenis_pelanggaran bukan kode"),
        ("82.04,1/PL,2024-11-01,PILKADA-2024,Kemenag,,,pelaksana,lainnya,selesai", "status",
         "expect_column_values_to_be_in_set", "status bukan kode"),
    ],
)  # fmt: skip
def test_a_bad_row_is_quarantined_with_its_reason_and_the_good_rows_load(
    warehouse, settings, row, kolom, aturan, alasan
):
    drop(settings, "82.04_x.csv", [GOOD.format(n=100), row])
    [result] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (
        2,
        1,
        1,
        0,
    )
    found = quarantine(warehouse)
    assert {baris for baris, *_ in found} == {2}
    [(baris, q_kolom, q_aturan, q_alasan)] = [q for q in found if q[2] == aturan]
    assert (baris, q_kolom, q_aturan) == (2, kolom, aturan)
    assert alasan in q_alasan


def test_same_file_twice_and_renamed_is_one_batch(warehouse, settings):
    drop(settings, "82.04_a.csv", [GOOD.format(n=1), GOOD.format(n=2), GOOD.format(n=2)])
    kept = settings.var_dir / "copy.csv"
    shutil.copy(settings.case_report_drop / "82.04_a.csv", kept)
    [first] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert (first.status, first.rows_in, first.rows_loaded, first.rows_duplicate) == ("loaded", 3, 2, 1)
    assert not (settings.case_report_drop / "82.04_a.csv").exists()
    shutil.copy(kept, settings.case_report_drop / "82.04_a.csv")
    shutil.copy(kept, settings.case_report_drop / "82.04_renamed.csv")
    again = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert [r.status for r in again] == ["already_loaded", "already_loaded"]
    assert len(batches(warehouse)) == 1
    with warehouse.session() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM staging.case_report")).scalar_one() == 2


def test_conflicting_duplicates_are_quarantined_and_every_batch_adds_up(warehouse, settings):
    conflicting = GOOD.format(n=7).replace("diproses", "sanksi")
    drop(settings, "82.04_b.csv", [GOOD.format(n=7), conflicting, GOOD.format(n=8)])
    drop(settings, "82.01_c.csv", [])  # header only: zero cases for that office
    ingest_case_reports(warehouse, settings, hmac_key(settings))
    rows = {b["file_name"]: b for b in batches(warehouse)}
    assert rows["82.01_c.csv"]["kode_kantor"] == "82.01"
    assert rows["82.01_c.csv"]["rows_in"] == 0
    assert (rows["82.04_b.csv"]["rows_loaded"], rows["82.04_b.csv"]["rows_quarantined"]) == (1, 2)
    assert [(q[0], q[1], q[2]) for q in quarantine(warehouse)] == [
        (1, "nomor_kasus", "expect_compound_columns_to_be_unique"),
        (2, "nomor_kasus", "expect_compound_columns_to_be_unique"),
    ]
    assert all("lebih dari sekali" in q[3] for q in quarantine(warehouse))
    for b in rows.values():
        assert b["rows_in"] == b["rows_loaded"] + b["rows_quarantined"] + b["rows_duplicate"]


def test_a_run_validated_in_chunks_ends_every_row_as_one_pass_does(warehouse, settings, monkeypatch):
    """A large drop is read, validated and staged in chunks of batches (memory stays bounded): each batch
    still ends with the same rows loaded and quarantined for the same reasons, in file order."""
    from include.netralitas.ingest import pipeline

    conflicting = GOOD.format(n=7).replace("diproses", "sanksi")
    bad_date = GOOD.format(n=9).replace("2024-11-01", "31/02/2024")
    drop(settings, "82.04_a.csv", [GOOD.format(n=1), GOOD.format(n=2)])
    drop(settings, "82.04_b.csv", [GOOD.format(n=7), conflicting, GOOD.format(n=8)])
    drop(settings, "82.04_c.csv", [bad_date, GOOD.format(n=10)])
    (settings.case_report_drop / "82.04_d.csv").write_text("kode_kantor,nomor_kasus\n82.04,1\n")
    drop(settings, "82.04_e.csv", [GOOD.format(n=11)])
    runs = []
    real = pipeline.run_suite
    monkeypatch.setattr(pipeline, "ROWS_PER_VALIDATION", 3)
    monkeypatch.setattr(pipeline, "run_suite", lambda *a, **k: runs.append(a[2]["batch_id"].nunique()) or real(*a, **k))
    results = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert runs == [2, 2]  # a+b (5 rows), then c+e (d is rejected before validation)
    assert [r.file_name for r in results] == ["82.04_d.csv", "82.04_a.csv", "82.04_b.csv", "82.04_c.csv", "82.04_e.csv"]
    counts = {r.file_name: (r.status, r.rows_in, r.rows_loaded, r.rows_quarantined) for r in results}
    assert counts == {
        "82.04_a.csv": ("loaded", 2, 2, 0),
        "82.04_b.csv": ("loaded", 3, 1, 2),
        "82.04_c.csv": ("loaded", 2, 1, 1),
        "82.04_d.csv": ("rejected", 1, 0, 1),
        "82.04_e.csv": ("loaded", 1, 1, 0),
    }
    reasons = {(q[0], q[2]) for q in quarantine(warehouse)}
    assert reasons == {(1, "expect_compound_columns_to_be_unique"), (2, "expect_compound_columns_to_be_unique"),
                       (1, "expect_column_values_to_not_be_null"), (0, "batch_readable")}  # fmt: skip
    ingested = [b["file_name"] for b in sorted(batches(warehouse), key=lambda b: b["ingested_at"])]
    assert ingested == ["82.04_a.csv", "82.04_b.csv", "82.04_d.csv", "82.04_c.csv", "82.04_e.csv"]  # as read


def test_structural_failure_rejects_the_whole_batch(warehouse, settings):
    settings.case_report_drop.mkdir(parents=True)
    (settings.case_report_drop / "82.04_bad.csv").write_text("kode_kantor,nomor_kasus\n82.04,1\n82.04,2\n")
    [result] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert result.status == "rejected"
    [batch] = batches(warehouse)
    assert batch["status"] == "rejected"
    assert "required column(s) missing" in batch["error"]
    assert (batch["rows_in"], batch["rows_quarantined"], batch["rows_loaded"]) == (2, 2, 0)
    with warehouse.session() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM staging.case_report")).scalar_one() == 0


def test_personal_data_is_pseudonymised_before_staging(warehouse, settings):
    drop(settings, "82.04_p.csv", [GOOD.format(n=1)])
    ingest_case_reports(warehouse, settings, hmac_key(settings))
    with warehouse.session() as conn:
        staged = conn.execute(text("SELECT * FROM staging.case_report")).mappings().one()
        results = conn.execute(text("SELECT * FROM audit.validation_result")).all()
    values = " ".join(str(v) for v in staged.values())
    assert "199001012015031001" not in values
    assert "Ani Lestari" not in values
    assert len(staged["nip_hash"]) == 64
    # one row per expectation of the suite (and the cell-defect rule) for the batch
    assert len(results) == len(case_report_rules(load_catalogue().regions, date.today())) + 1


def test_national_release_rows_are_validated(warehouse, settings):
    folder = settings.national_release_drop
    folder.mkdir(parents=True)
    (folder / "r.csv").write_text("instansi,jumlah,peringkat\nKemenag,12,1\nPemkab Halsel,-3,2\nBima,4,3\n")
    (folder / "r.meta.json").write_text(
        '{"penerbit": "BKN", "judul": "Rilis", "tanggal_data": "2024-11-15", "pemilihan": "SEMUA"}'
    )
    [result] = ingest_national_releases(warehouse, settings)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
    assert [q[1] for q in quarantine(warehouse)] == ["jumlah", "instansi"]
    assert not any(folder.iterdir())


def _release(settings, rows: list[str], meta: str | None = None) -> None:
    folder = settings.national_release_drop
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "r.csv").write_text("\n".join(["instansi,jumlah,peringkat", *rows]) + "\n")
    (folder / "r.meta.json").write_text(
        meta or '{"penerbit": "BAWASLU", "judul": "Rilis", "tanggal_data": "2024-11-15", "pemilihan": "PILKADA-2024"}'
    )


@pytest.mark.parametrize(
    ("row", "kolom", "aturan", "alasan"),
    [
        ("Pemkab Atlantis,3,2", "instansi", "expect_column_values_to_not_be_null", "instansi tidak dikenal"),
        ("Pemkab Halsel,-3,2", "jumlah", "expect_column_values_to_not_match_regex", "jumlah negatif"),
        ("Pemkab Halsel,2.5,2", "jumlah", "expect_column_values_to_match_regex", "bilangan bulat >= 0"),
        ("Pemkab Halsel,1.234,2", "jumlah", "expect_column_values_to_not_match_regex", "pemisah ribuan"),
        ("Pemkab Halsel,dua,2", "jumlah", "expect_column_values_to_match_regex", "bilangan bulat >= 0"),
        ("Pemkab Halsel,,2", "jumlah", "expect_column_values_to_not_be_null", "jumlah kosong"),
        ("Pemkab Halsel,3,kedua", "peringkat", "expect_column_values_to_match_regex", "peringkat bukan"),
        ("Kemenag,3,2", "instansi", "expect_compound_columns_to_be_unique", "lebih dari sekali"),
    ],
)
def test_a_bad_release_row_is_quarantined_with_its_reason(warehouse, settings, row, kolom, aturan, alasan):
    _release(settings, ["Kementerian Agama,12,1", row])
    [result] = ingest_national_releases(warehouse, settings)
    quarantined = quarantine(warehouse)
    reasons = {(q[1], q[2]) for q in quarantined}
    assert (kolom, aturan) in reasons
    assert any(alasan in q[3] for q in quarantined)
    expected_bad = 2 if aturan == "expect_compound_columns_to_be_unique" else 1  # both duplicates go
    assert (result.rows_in, result.rows_quarantined, result.rows_loaded) == (2, expected_bad, 2 - expected_bad)


def test_a_published_rank_inconsistent_with_the_counts_is_a_warning_not_a_quarantine(warehouse, settings):
    _release(settings, ["Kementerian Agama,12,1", "Pemkab Halsel,9,2", "Pemkab Halbar,10,3"])
    [result] = ingest_national_releases(warehouse, settings)
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    assert quarantine(warehouse) == []
    with warehouse.session() as conn:
        warning = conn.execute(
            text(
                "SELECT success, unexpected_count, tingkat FROM audit.validation_result"
                " WHERE expectation = 'expect_column_pair_values_to_be_equal'"
            )
        ).one()
    assert tuple(warning) == (False, 2, "warning")


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ('{"penerbit": "BAWASLU", "judul": "Rilis", "pemilihan": "SEMUA"}', "tanggal_data"),
        ('{"penerbit": "BAWASLU", "judul": "Rilis", "tanggal_data": "31/02/2024", "pemilihan": "SEMUA"}', "real date"),
        ('{"penerbit": "KPU", "judul": "Rilis", "tanggal_data": "2024-11-15", "pemilihan": "SEMUA"}', "penerbit"),
    ],
)
def test_a_release_without_a_valid_as_of_date_or_publisher_is_rejected_whole(warehouse, settings, meta, message):
    _release(settings, ["Kementerian Agama,12,1"], meta)
    [result] = ingest_national_releases(warehouse, settings)
    assert result.status == "rejected"
    assert message in result.error
    with warehouse.session() as conn:
        structural = conn.execute(text("SELECT expectation, success FROM audit.validation_result")).all()
    assert [tuple(r) for r in structural] == [("batch_readable", False)]


def test_replay_after_an_alias_is_added_loads_the_quarantined_row_exactly_once(
    warehouse, settings, tmp_path, monkeypatch
):
    from dataclasses import replace

    from include.netralitas.ingest.pipeline import ReplayRefused, replay_batch
    from include.netralitas.warehouse.build import build_warehouse

    ambiguous = "82.04,9/PL,2024-11-01,PILKADA-2024,Pemda Bima,,,pelaksana,lainnya,diproses"
    broken = "82.04,10/PL,2024-11-01,PILKADA-2024,Pemda Bima,,,staf ahli,lainnya,diproses"
    drop(settings, "82.04_r.csv", [GOOD.format(n=1), ambiguous, broken])
    [first] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert (first.rows_loaded, first.rows_quarantined) == (1, 2)

    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,instansi_kode,catatan\nPemda Bima,52.06,dipastikan dengan Bawaslu Bima 2024-11-28\n")
    fixed = replace(settings, aliases_file=aliases)
    replayed = replay_batch(warehouse, fixed, first.batch_id, hmac_key(settings), run_id="replay-1")
    assert (replayed.rows_loaded, replayed.rows_quarantined) == (2, 1)  # the 'staf ahli' row still fails
    again = replay_batch(warehouse, fixed, first.batch_id, hmac_key(settings), run_id="replay-2")
    assert (again.rows_loaded, again.rows_quarantined) == (2, 1)

    build_warehouse(warehouse)
    with warehouse.session() as conn:
        [batch] = conn.execute(text("SELECT * FROM landing.batch")).mappings().all()
        current = conn.execute(text("SELECT nomor_kasus, instansi_kode FROM core.case_current ORDER BY 1")).all()
        released = conn.execute(text("SELECT baris FROM audit.quarantine WHERE dilepas_pada IS NOT NULL")).all()
        replays = conn.execute(text("SELECT run_id, rows_loaded FROM audit.replay ORDER BY replayed_at")).all()
    assert (batch["rows_loaded"], batch["rows_quarantined"], batch["replay_count"]) == (2, 1, 2)
    assert batch["rows_in"] == batch["rows_loaded"] + batch["rows_quarantined"] + batch["rows_duplicate"]
    assert [tuple(r) for r in current] == [("1/PL", "82.04"), ("9/PL", "52.06")]
    assert [tuple(r) for r in released] == [(2,)]
    assert [tuple(r) for r in replays] == [("replay-1", 1), ("replay-2", 0)]

    settings.case_report_drop.mkdir(exist_ok=True)
    (settings.case_report_drop / "82.04_bad.csv").write_text("kode_kantor\n82.04\n")
    [rejected] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    with pytest.raises(ReplayRefused, match="drop a corrected file"):
        replay_batch(warehouse, settings, rejected.batch_id, hmac_key(settings))


def _xlsx(path, lines: list[str]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Laporan Bawaslu"])
    book.active.append([])
    for line in lines:
        book.active.append(line.split(","))
    book.save(path)


@pytest.mark.parametrize(
    ("name", "writer"),
    [
        ("82.04_utf8.csv", lambda p, t: p.write_bytes(t.encode("utf-8"))),
        ("82.04_bom.csv", lambda p, t: p.write_bytes(t.encode("utf-8-sig"))),
        ("82.04_1252.csv", lambda p, t: p.write_bytes(t.replace(",", ";").encode("cp1252"))),
        ("82.04_utf16.txt", lambda p, t: p.write_bytes(t.replace(",", "\t").encode("utf-16"))),
        ("82.04_dmy.csv", lambda p, t: p.write_text(re.sub(r"2024-11-(\d\d)", r"\1/11/2024", t))),
        ("82.04_x.xlsx", lambda p, t: _xlsx(p, t.splitlines())),
    ],
)  # fmt: skip
def test_every_file_variant_loads_its_rows(warehouse, settings, name, writer):
    second = GOOD.format(n=2).replace("2024-11-01", "2024-11-02").replace("Ani Lestari", "Sití Rahmawati")
    settings.case_report_drop.mkdir(parents=True)
    writer(settings.case_report_drop / name, "\n".join([HEADER, GOOD.format(n=1), second]) + "\n")
    [result] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert (result.status, result.rows_in, result.rows_loaded, result.kode_kantor) == ("loaded", 2, 2, "82.04")
    with warehouse.session() as conn:
        staged = conn.execute(
            text("SELECT nomor_kasus, tanggal_temuan, nip_hash FROM staging.case_report ORDER BY 1")
        ).all()
    assert [(r[0], str(r[1])) for r in staged] == [("1/PL", "2024-11-01"), ("2/PL", "2024-11-02")]
    assert staged[0][2] == staged[1][2]  # the same 18-digit NIP, intact, gives the same pseudonym


def test_an_html_release_page_with_two_tables_loads_its_rows_and_lands_owner_only(warehouse, settings):
    import stat

    folder = settings.national_release_drop
    folder.mkdir(parents=True)
    (folder / "kasn.html").write_text(
        "<html><body><table><tr><th>Menu</th></tr><tr><td>Beranda</td></tr></table>"
        "<table><tr><th>Peringkat</th><th>Instansi</th><th>Jumlah</th></tr>"
        "<tr><td>1</td><td>Kementerian Agama</td><td>21</td></tr>"
        "<tr><td>2</td><td>Pemkab Halmahera Selatan</td><td>9</td></tr></table></body></html>"
    )
    (folder / "kasn.meta.json").write_text(
        '{"penerbit": "KASN", "judul": "Rilis KASN", "tanggal_data": "2024-11-10", "pemilihan": "PILKADA-2024"}'
    )
    [result] = ingest_national_releases(warehouse, settings)
    assert (result.rows_in, result.rows_loaded) == (2, 2)
    with warehouse.session() as conn:
        staged = conn.execute(text("SELECT instansi_kode, jumlah FROM staging.national_release_row ORDER BY 2")).all()
        landed = conn.execute(text("SELECT landed_path FROM landing.batch")).scalar_one()
    assert [tuple(r) for r in staged] == [("82.04", 9), ("KEMENAG", 21)]
    mode = stat.S_IMODE(__import__("os").stat(landed).st_mode)
    assert mode & 0o077 == 0  # owner-only: nobody else reads the raw files
    assert stat.S_IMODE(__import__("os").stat(settings.landing_dir).st_mode) == 0o700
    assert not any(folder.iterdir())


def test_a_chunk_is_committed_once_after_its_landing_folders_are_fsynced_each_once(warehouse, settings, monkeypatch):
    """A chunk of batches is written in one transaction, each batch with its own manifest row and strictly
    increasing ingested_at in file order; every landing folder is fsynced once, before anything is committed
    (a file leaves the drop folder only after its batch committed: its landed copy must be durable by then)."""
    from contextlib import contextmanager

    from include.netralitas.landing import zone
    from include.netralitas.warehouse.database import Warehouse

    warehouse.migrate()
    events: list[tuple[str, object]] = []
    real_fsync_dir, real_transaction = zone.fsync_dir, Warehouse.transaction
    monkeypatch.setattr(zone, "fsync_dir", lambda folder: events.append(("fsync", folder)) or real_fsync_dir(folder))

    @contextmanager
    def transaction(self, conn):
        events.append(("transaction", None))
        with real_transaction(self, conn):
            yield conn

    monkeypatch.setattr(Warehouse, "transaction", transaction)
    for name in ("82.04_a.csv", "82.04_b.csv", "82.04_c.csv"):
        drop(settings, name, [GOOD.format(n=name[6])])
    results = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert [r.status for r in results] == ["loaded"] * 3
    assert [kind for kind, _ in events].count("transaction") == 1  # the three batches in one transaction
    synced = [folder for kind, folder in events if kind == "fsync"]
    assert events[-1][0] == "transaction"  # every folder fsync came before it
    assert len(synced) == len(set(synced))  # each folder once
    landed = {p.parent for p in settings.landing_dir.rglob("*.csv")}
    assert len(landed) >= 2  # three files, in folders of their hash
    assert landed <= set(synced)
    assert not list(settings.case_report_drop.iterdir())
    ordered = [b["file_name"] for b in sorted(batches(warehouse), key=lambda b: b["ingested_at"])]
    assert ordered == ["82.04_a.csv", "82.04_b.csv", "82.04_c.csv"]
    assert len({b["ingested_at"] for b in batches(warehouse)}) == 3
