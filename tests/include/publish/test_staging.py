"""Staging for sign-off: a staged week is invisible until published; what is published is exactly what was
staged, and its frozen snapshot re-renders the same bytes; a changed staged file or a week published meanwhile
is refused; a rejection publishes nothing and is logged with who and when."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from include.netralitas.publish.publication import Approval, StalePublication, publish_week
from include.netralitas.publish.staging import StagedFilesChanged, publish_staged, reject_staged, stage_week
from include.netralitas.warehouse.build import build_warehouse
from include.netralitas.weeks import IsoWeek

WEEK = IsoWeek.parse("2024-W47")
STEWARD = Approval(by="pengelola-data", at=datetime(2024, 11, 25, 3, 0, tzinfo=UTC))


def _seed(wh) -> None:
    """Cases of two regional governments and a national release with a date, so rows carry tanggal_rilis."""
    build_warehouse(wh)
    with wh.begin() as conn:
        for n, kode, day in (("1", "82.04", date(2024, 11, 20)), ("2", "82.01", date(2024, 11, 21))):
            conn.execute(
                text(
                    "INSERT INTO core.case_current (kode_kantor, nomor_kasus, batch_id, baris, received_at,"
                    " tanggal_temuan, pemilihan, instansi_kode, jabatan, jenis_pelanggaran, status) VALUES ('82.04',"
                    " :n, 'b', 1, :r, :t, 'PILKADA-2024', :i, 'pelaksana', 'lainnya', 'diproses')"
                ),
                {"n": n, "r": datetime(2024, 11, 1, tzinfo=UTC), "t": day, "i": kode},
            )
        conn.execute(
            text("INSERT INTO core.national_release VALUES ('rilis-1', 'BKN', 'Rilis', :d, 'PILKADA-2024', :r)"),
            {"d": date(2024, 11, 10), "r": datetime(2024, 11, 11, tzinfo=UTC)},
        )
        conn.execute(text("INSERT INTO core.national_release_fact VALUES ('rilis-1', '82.02', 5, 1)"))


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_what_is_published_is_exactly_what_was_staged(warehouse, tmp_path):
    _seed(warehouse)
    public, staging = tmp_path / "publish", tmp_path / "staging"
    staged = stage_week(warehouse, public, staging, WEEK)
    assert staged["needs_sign_off"]
    assert staged["outcome"] == "published"
    assert not (public / str(WEEK)).exists()
    with warehouse.session() as conn:  # nothing frozen before sign-off
        assert conn.execute(text("SELECT COUNT(*) FROM mart.publication")).scalar_one() == 0
    files = _tree(Path(staged["folder"]) / "files")
    assert b"2024-11-10" in files["ranking.csv"]  # the release's date travels through the staged snapshot

    result = publish_staged(warehouse, public, Path(staged["folder"]), STEWARD)
    assert _tree(result.folder) == files
    assert not Path(staged["folder"]).exists()
    with warehouse.session() as conn:
        log = conn.execute(text("SELECT tindakan, disetujui_oleh, disetujui_pada FROM audit.publication_log")).all()
    [(action, by, at)] = log
    assert (action, by, at.astimezone(UTC)) == ("terbit", STEWARD.by, STEWARD.at)
    # the frozen snapshot is the staged one: re-rendering it gives the same bytes
    again = publish_week(warehouse, public, WEEK)
    assert again.outcome == "re-rendered"
    assert _tree(again.folder) == files
    restaged = stage_week(warehouse, public, staging, WEEK)
    assert not restaged["needs_sign_off"]  # nothing new would go public


def test_a_changed_staged_file_or_a_week_published_meanwhile_is_refused(warehouse, tmp_path):
    _seed(warehouse)
    public, staging = tmp_path / "publish", tmp_path / "staging"
    folder = Path(stage_week(warehouse, public, staging, WEEK)["folder"])
    (folder / "files" / "ranking.csv").write_bytes(b"pemilihan,peringkat\nSEMUA,1\n")
    with pytest.raises(StagedFilesChanged, match="ranking.csv"):
        publish_staged(warehouse, public, folder, STEWARD)
    assert not (public / str(WEEK)).exists()

    folder = Path(stage_week(warehouse, public, staging, WEEK)["folder"])
    publish_week(warehouse, public, WEEK)  # another run published it while this one waited
    with pytest.raises(StalePublication):
        publish_staged(warehouse, public, folder, STEWARD)


def test_a_rejection_publishes_nothing_and_is_logged(warehouse, tmp_path):
    _seed(warehouse)
    public, staging = tmp_path / "publish", tmp_path / "staging"
    staged = stage_week(warehouse, public, staging, WEEK, force_reason=None)
    assert "pengelola" not in staged["body"]
    reject_staged(warehouse, Path(staged["folder"]), STEWARD)
    assert not Path(staged["folder"]).exists()
    assert not (public / str(WEEK)).exists()
    with warehouse.session() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM mart.publication")).scalar_one() == 0
        [(action, by, sha)] = conn.execute(
            text("SELECT tindakan, disetujui_oleh, sha256_csv FROM audit.publication_log")
        )
    assert (action, by, sha) == ("ditolak", STEWARD.by, staged["sha256_csv"])
