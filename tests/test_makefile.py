"""The Makefile passes user values (WEEK, FORCE_REASON, ROWS) to the tools as data: make does not expand them,
the shell does not evaluate them, and a malformed week is refused by the project's week parser."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

VENV = Path(sys.executable).parent.parent


def make(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    stamp = tmp_path / ".installed"  # a stamp newer than requirements.lock: make installs nothing
    stamp.touch()
    command = ["make", "--no-print-directory", "-C", str(ROOT), f"VENV={VENV}", f"STAMP={stamp}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)


HOSTILE = [
    "$(shell touch {marker})",
    "2020-W45; touch {marker}",
    '2020-W45"; touch {marker}; echo "',
    "$$(touch {marker})",
    "`touch {marker}`",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_a_hostile_week_is_neither_expanded_nor_run(tmp_path, template):
    marker = tmp_path / "evaluated"
    for dry_run in (["-n"], []):  # -n: what make would run (make functions are expanded even then)
        done = make(tmp_path, *dry_run, "run", f"WEEK={template.format(marker=marker)}")
        assert not marker.exists(), done.stdout + done.stderr
    assert done.returncode == 2
    assert "is not of the form YYYY-Www" in done.stderr


def test_a_malformed_week_is_refused_by_the_same_parser(tmp_path):
    done = make(tmp_path, "run", "WEEK=2020-W54")
    assert done.returncode == 2
    assert "week '2020-W54' does not exist" in done.stderr
    done = make(tmp_path, "run")
    assert done.returncode == 2
    assert "usage: make run WEEK=YYYY-Www" in done.stdout


def test_force_reason_and_rows_are_passed_quoted(tmp_path):
    marker = tmp_path / "evaluated"
    done = make(tmp_path, "-n", "bench", f"ROWS=$(shell touch {marker})")
    assert not marker.exists()
    assert '--rows "${NETRALITAS_BENCH_ROWS:-1000000}"' in done.stdout
    done = make(tmp_path, "-n", "run", "WEEK=2020-W45", f"FORCE_REASON=$(shell touch {marker}) fix")
    assert not marker.exists()
    assert '--force-reason "$NETRALITAS_RUN_FORCE_REASON"' in done.stdout
