"""Writing a file so that a kill -9 (or a full disk) at any moment leaves the old content or the new, never part.

The bytes go to a hidden temporary file in the same folder, which is fsynced and renamed over the target (one
atomic step on a POSIX file system); the folder is fsynced too, so the rename itself survives a power cut.
A kill between the two steps leaves only the hidden temporary file, which nothing reads.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Make a rename or an unlink in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path, data: bytes, mode: int = 0o600, *, exclusive: bool = False, prefix: str | None = None
) -> Path:
    """Replace `path` with `data` atomically, with permissions `mode`; returns `path`.

    The temporary file is `<prefix>…` (default `.<name>.…tmp`) in the same folder.

    With `exclusive`, an existing `path` is never replaced: `FileExistsError` is raised instead (the new file is
    linked into place, which fails if another process created it first), so a key is created once only.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix or f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        if exclusive:
            os.link(tmp, path)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path
