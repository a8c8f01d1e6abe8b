"""docs/contracts.md documents every column, code list and bound of the input contracts exactly as
include/netralitas/contracts.py defines them, and the README links to it."""

from __future__ import annotations

import re

import pytest

from include.netralitas import contracts
from tests.conftest import ROOT
from tests.docs.test_docs import table_after

PAGE = ROOT / "docs" / "contracts.md"


def codes(marker: str, column: str = "code") -> list[str]:
    return [row[column].strip("`") for row in table_after(PAGE.read_text(), f"contract:{marker}")]


def value_after(marker: str) -> str:
    match = re.search(rf"<!-- contract:{re.escape(marker)} -->`([^`]+)`", PAGE.read_text())
    assert match, f"no value after <!-- contract:{marker} -->"
    return match.group(1)


def test_the_case_report_columns_are_the_contracts():
    rows = table_after(PAGE.read_text(), "contract:case-report/v1")
    assert [r["column"].strip("`") for r in rows] == list(contracts.CASE_COLUMNS)
    assert [r["column"].strip("`") for r in rows if r["required"] == "yes"] == list(contracts.CASE_REQUIRED)
    assert [r["column"].strip("`") for r in rows if r["personal data"] == "yes"] == list(contracts.PERSONAL_COLUMNS)
    assert value_after("earliest-case-date") == contracts.EARLIEST_CASE_DATE


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("pemilihan", (*contracts.PEMILIHAN, contracts.PEMILIHAN_ALL)),
        ("jabatan", contracts.JABATAN),
        ("jenis_pelanggaran", contracts.JENIS_PELANGGARAN),
        ("status", contracts.STATUS),
    ],
)
def test_every_code_list_is_the_contracts(marker, expected):
    assert codes(marker) == list(expected)


def test_the_election_labels_are_the_contracts():
    rows = table_after(PAGE.read_text(), "contract:pemilihan")
    labels = {r["code"].strip("`"): r["label"].split(" (")[0] for r in rows}
    assert labels == contracts.PEMILIHAN_LABELS


def test_the_national_release_fields_columns_and_bounds_are_the_contracts():
    assert codes("release-metadata", "field") == list(contracts.RELEASE_META_FIELDS)
    penerbit = table_after(PAGE.read_text(), "contract:release-metadata")[0]["meaning and rule"]
    assert re.findall(r"`([A-Z]+)`", penerbit) == list(contracts.PENERBIT)
    rows = table_after(PAGE.read_text(), "contract:national-release/v1")
    assert [r["column"].strip("`") for r in rows] == list(contracts.RELEASE_COLUMNS)
    assert [r["column"].strip("`") for r in rows if r["required"] == "yes"] == list(contracts.RELEASE_REQUIRED)
    assert int(value_after("max-release-count")) == contracts.MAX_RELEASE_COUNT
    assert int(value_after("max-release-rank")) == contracts.MAX_RELEASE_RANK


def test_the_page_names_both_contracts_and_the_readme_links_to_it():
    page = PAGE.read_text()
    assert f"## {contracts.CASE_REPORT_CONTRACT}" in page
    assert f"## {contracts.NATIONAL_RELEASE_CONTRACT}" in page
    assert "(docs/contracts.md)" in (ROOT / "README.md").read_text()
