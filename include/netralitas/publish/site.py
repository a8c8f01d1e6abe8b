"""The publication folder: each week an immutable version swapped in atomically, `latest`, and the index."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from include.netralitas.files import atomic_write
from include.netralitas.publish.pages import render_index
from include.netralitas.weeks import IsoWeek

VERSIONS_DIR = ".weeks"


def _swap_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` atomically (a new link renamed over the old one)."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def write_week(publish_dir: Path, week: str, files: dict[str, bytes], *, index: bool = True) -> Path:
    """Publish the files of `week` so that it appears complete or not at all, even if the process is killed.

    The files go to a hidden temporary folder, which is renamed to an immutable version folder
    `.weeks/<week>-<digest>`; `<week>` is a symlink swapped atomically to it, so a reader always sees either
    the previous complete version or the new one. With `index`, `latest` points at the newest published week
    that has ended, whatever order the weeks were published in, and `index.html` lists them all.
    """
    versions = publish_dir / VERSIONS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(b"".join(hashlib.sha256(files[n]).digest() for n in sorted(files))).hexdigest()[:16]
    version = versions / f"{week}-{digest}"
    if not version.is_dir():
        staging = Path(tempfile.mkdtemp(dir=versions, prefix=f".tmp-{week}-"))
        current = staging
        try:
            for name, content in files.items():
                current = staging / name
                current.parent.mkdir(parents=True, exist_ok=True)  # provinsi/<kode>.html, versi/<n>/...
                current.write_bytes(content)
            current = staging
            os.chmod(staging, 0o755)
            os.replace(staging, version)
        except OSError as exc:  # a full disk, say: nothing half-written stays, the previous version is untouched
            shutil.rmtree(staging, ignore_errors=True)
            failed = current.name if current == staging else str(current.relative_to(staging))  # provinsi/82.html
            message = f"publishing week {week} failed writing {failed}: {exc.strerror or exc}"
            raise OSError(exc.errno, message, str(publish_dir / week / failed)) from exc
    link = publish_dir / week
    if link.exists() and not link.is_symlink():
        raise RuntimeError(f"{link} is a folder, not the symlink netralitas publishes; move it away first")
    _swap_symlink(link, f"{VERSIONS_DIR}/{version.name}")
    _clean_versions(versions, keep={version.name, *_linked_versions(publish_dir)})
    if index:
        weeks = sorted(published_weeks(publish_dir))
        ended = [w for w in weeks if IsoWeek.parse(w).has_ended()]
        if ended:
            _swap_symlink(publish_dir / "latest", ended[-1])
        atomic_write(publish_dir / "index.html", render_index(weeks), 0o644)
    return link


def published_weeks(publish_dir: Path) -> list[str]:
    """The week links of a publication root, in week order."""
    found = []
    for path in publish_dir.iterdir():
        if path.is_symlink():
            try:
                found.append(IsoWeek.parse(path.name))
            except ValueError:
                continue  # `latest`, or a temporary link
    return [str(w) for w in sorted(found)]


def _linked_versions(publish_dir: Path) -> set[str]:
    return {os.readlink(p).rsplit("/", 1)[-1] for p in publish_dir.iterdir() if p.is_symlink() and p.name != "latest"}


def _clean_versions(versions: Path, keep: set[str]) -> None:
    """Remove superseded versions and temporary folders left by a killed run."""
    for path in versions.iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
