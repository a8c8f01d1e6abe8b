"""Atomic file writes: the old content or the new, never part; and the key file that uses them."""

from __future__ import annotations

import os
import stat

import pytest

from include.netralitas.files import atomic_write
from include.netralitas.settings import get_settings, hmac_key


def test_atomic_write_replaces_the_file_whole_with_its_mode(tmp_path):
    path = tmp_path / "sub" / "file.csv"
    atomic_write(path, b"old", 0o644)
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.csv"]  # no temporary file left


def test_a_failed_write_leaves_the_old_content_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "file.csv"
    atomic_write(path, b"old")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.csv"]


def test_an_exclusive_write_never_replaces_an_existing_file(tmp_path):
    path = tmp_path / "key"
    atomic_write(path, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        atomic_write(path, b"second", exclusive=True)
    assert path.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["key"]


def test_the_demo_key_is_created_once_owner_only_and_an_empty_key_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("NETRALITAS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("NETRALITAS_HMAC_KEY", raising=False)
    monkeypatch.delenv("NETRALITAS_HMAC_KEY_FILE", raising=False)
    settings = get_settings()
    key = hmac_key(settings, create=True)
    assert len(key) == 64
    assert stat.S_IMODE(settings.hmac_key_file.stat().st_mode) == 0o600
    assert hmac_key(settings, create=True) == key
    settings.hmac_key_file.write_bytes(b"")  # what a kill between creating and writing the file used to leave
    with pytest.raises(RuntimeError, match="is empty"):
        hmac_key(settings, create=True)
