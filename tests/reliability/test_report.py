"""docs/reliability.md cannot drift from the catalogue: every case id is in it, with a result per database."""

from __future__ import annotations

import importlib.util
import json

from tests.conftest import ROOT
from tests.reliability.test_bad_inputs import CASES, OTHER_INPUTS
from tests.reliability.test_faults import FAULTS
from tests.reliability.test_hostile_inputs import HOSTILE_IDS
from tests.reliability.test_release_inputs import RELEASE_INPUTS

spec = importlib.util.spec_from_file_location("reliability_report", ROOT / "tools" / "reliability_report.py")
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)

DOC = ROOT / "docs" / "reliability.md"


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of every case row (the rows whose first cell is a case label)."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("| **"):
            cells = [c.strip().replace("\\|", "|") for c in line.strip("|").replace("\\|", "\0").split("|")]
            rows.append([c.replace("\0", "|") for c in cells])
    return rows


def test_the_report_lists_every_case_with_its_last_result():
    markdown = DOC.read_text()
    ids = [c.name for c in CASES] + OTHER_INPUTS + HOSTILE_IDS + list(RELEASE_INPUTS) + list(FAULTS)
    missing = [i for i in ids if report.case_label(i) not in markdown]
    assert not missing, f"docs/reliability.md lacks {missing}: run make reliability"
    rows = table_rows(markdown)
    assert len(ids) == len(set(ids)), "two reliability cases share an id"
    assert sum(r[1] == "input" for r in rows) >= len(ids) - len(FAULTS)
    assert sum(r[1] == "fault" for r in rows) >= 6
    for case, _kind, expected, *results in rows:
        assert len(results) == 2, case
        assert expected, case
        for result in results:  # the last run passed on both databases (or the case exists on one only)
            assert result.startswith(("passed", "n/a (PostgreSQL only)")), (case, result)


def test_the_report_renders_each_case_once_per_database():
    base = {"kind": "fault", "description": "a | b", "expected": "ok", "failure": "", "test": "t", "only": ""}
    records = [
        {**base, "id": "x", "database": "duckdb", "outcome": "passed", "observed": ["fine"]},
        {**base, "id": "x", "database": "postgresql", "outcome": "failed", "observed": [], "failure": "boom\nat 1"},
        {**base, "id": "pg", "database": "postgresql", "outcome": "passed", "observed": [], "only": "postgresql"},
        {**base, "id": "i", "kind": "input", "database": "duckdb", "outcome": "passed", "observed": ["rows 1/1/0/0"]},
    ]
    document = {"finished_at": "2024-11-25T02:00:00+00:00", "commit": "0123456789abcdef", "command": "pytest",
                "ci": "true", "records": records}  # fmt: skip
    markdown = report.render(json.loads(json.dumps(document)))
    rows = {r[0].split(" — ")[0]: r for r in table_rows(markdown)}
    assert rows["**x**"] == ["**x** — a | b", "fault", "ok", "passed: fine", "FAILED: boom at 1"]
    assert rows["**pg**"][3:] == ["n/a (PostgreSQL only)", "passed"]
    assert rows["**i**"][3:] == ["passed: rows 1/1/0/0", "not run"]
    assert "commit `0123456789ab`" in markdown
    assert "`CI=true pytest`" in markdown
    order = [markdown.index(text) for text in ("## Bad inputs", "**i**", "## Faults", "**x**")]
    assert order == sorted(order)
