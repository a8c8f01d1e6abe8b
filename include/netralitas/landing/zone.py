"""The landing zone: every raw file stored once under its content hash, owner-only, atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from pathlib import Path

from include.netralitas.files import atomic_write, fsync_dir


def content_hash(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


STALE_TEMPORARY_S = 3600  # no landing write takes an hour: a temporary file that old lost its writer


def sweep_stale_temporaries(landing_dir: Path, contract: str, *, older_than_s: float = STALE_TEMPORARY_S) -> int:
    """Remove the hidden temporary files that a writer killed mid-write (kill -9) left in the landing zone.

    They are never read (a landed file appears only by an atomic rename); a fresh one may belong to a writer
    still at work, so only those older than `older_than_s` go. Returns how many were removed.
    """
    cutoff = time.time() - older_than_s
    removed = 0
    for path in (landing_dir / contract.split("/")[0]).glob("*/.landing-*"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


def land(
    landing_dir: Path,
    contract: str,
    raw: bytes,
    name: str,
    stem: str | None = None,
    *,
    unsynced: set[Path] | None = None,
) -> Path:
    """Store `raw` immutably as <landing>/<contract>/<sha[:2]>/<sha><suffix>, owner-only, atomically.

    Content-addressed: the same bytes are stored once. A sidecar is stored beside its data file (`stem`).

    The file's bytes are fsynced before it is renamed into place, so a landed file is always whole. The rename
    itself is made durable by an fsync of its folder: at once, or, when `unsynced` is given, later by
    `sync_folders(unsynced)` (the folder is added to it), once per folder for all the files of a run, which the
    caller must do before it commits anything that names them (its batches).
    """
    digest = stem or hashlib.sha256(raw).hexdigest()
    folder = landing_dir / contract.split("/")[0] / digest[:2]
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for parent in (landing_dir, folder.parent, folder):
        os.chmod(parent, 0o700)
    suffix = ".meta.json" if name.lower().endswith(".meta.json") else Path(name).suffix.lower()
    target = folder / f"{digest}{suffix or '.bin'}"
    if target.exists() and target.read_bytes() == raw:
        return target
    try:
        if unsynced is None:
            atomic_write(target, raw, 0o400, prefix=".landing-")  # nothing half-written stays behind
        else:
            _write_whole(target, raw)
            unsynced.update((landing_dir, folder.parent, folder))
    except OSError as exc:  # a full disk, say: name the file, which stays in the drop folder
        raise OSError(exc.errno, f"landing {name} as {target} failed: {exc.strerror or exc}") from exc
    return target


def _write_whole(target: Path, raw: bytes) -> None:
    """`files.atomic_write` (mode 0o400) without its folder fsync: the caller syncs the folders once."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".landing-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fchmod(handle.fileno(), 0o400)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sync_folders(folders: set[Path]) -> None:
    """Make the renames of `land(..., unsynced=folders)` durable: one fsync per folder, deepest first."""
    for folder in sorted(folders, key=lambda f: (-len(f.parts), str(f))):
        fsync_dir(folder)
    folders.clear()
