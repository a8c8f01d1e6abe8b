"""The landing zone: every raw file stored once under its content hash, owner-only, atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path

from include.netralitas.files import atomic_write


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


def land(landing_dir: Path, contract: str, raw: bytes, name: str, stem: str | None = None) -> Path:
    """Store `raw` immutably as <landing>/<contract>/<sha[:2]>/<sha><suffix>, owner-only, atomically.

    Content-addressed: the same bytes are stored once. A sidecar is stored beside its data file (`stem`).
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
        atomic_write(target, raw, 0o400, prefix=".landing-")  # nothing half-written stays behind
    except OSError as exc:  # a full disk, say: name the file, which stays in the drop folder
        raise OSError(exc.errno, f"landing {name} as {target} failed: {exc.strerror or exc}") from exc
    return target
