"""The data dictionary of docs/warehouse.md, generated from the mart contract (sql/mart/contract.toml), the same
source as the COMMENTs the migrations put on every mart relation and column.

    python tools/mart_dictionary.py --write   # rewrite the generated section of docs/warehouse.md
    python tools/mart_dictionary.py --check   # exit 1 when docs/warehouse.md differs from the contract
    python tools/mart_dictionary.py --fingerprint  # the contract's fingerprint (columns and types)

tests/sql/test_mart_contract.py fails when the page and the contract drift, and when the columns changed
without a new contract version.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from include.netralitas.warehouse.database import mart_contract  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "warehouse.md"
BEGIN = "<!-- data-dictionary:begin: generated from sql/mart/contract.toml by tools/mart_dictionary.py -->"
END = "<!-- data-dictionary:end -->"


def fingerprint(contract: dict | None = None) -> str:
    """SHA-256 of every relation's kind and (column, type) list, in order: what a BI tool depends on."""
    contract = contract or mart_contract()
    shape = {
        name: [relation["kind"], [[c["name"], c["type"]] for c in relation["columns"]]]
        for name, relation in contract["relations"].items()
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


def _cell(value: str) -> str:
    return value.replace("|", "\\|")


def render(contract: dict | None = None) -> str:
    """The generated section, markers included."""
    contract = contract or mart_contract()
    lines = [BEGIN, f"Mart contract v{contract['version']}. Columns in catalogue order; types as on PostgreSQL.", ""]
    for name, relation in contract["relations"].items():
        grain = ", ".join(f"`{g}`" for g in relation["grain"])
        lines += [
            f"#### `{name}` ({relation['kind']})",
            f"Butir / grain: one row per {grain}.",
            "",
            f"- ID: {relation['id']}",
            f"- EN: {relation['en']}",
            "",
            "| column | type | satuan / unit | keterangan | description |",
            "| --- | --- | --- | --- | --- |",
        ]
        for c in relation["columns"]:
            unit = c.get("unit", "")
            lines.append(f"| `{c['name']}` | `{c['type']}` | {_cell(unit)} | {_cell(c['id'])} | {_cell(c['en'])} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def current(page: str) -> str:
    match = re.search(re.escape(BEGIN) + r".*?" + re.escape(END), page, re.S)
    if not match:
        raise SystemExit(f"{PAGE}: no generated data dictionary between {BEGIN!r} and {END!r}")
    return match.group(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true")
    action.add_argument("--check", action="store_true")
    action.add_argument("--fingerprint", action="store_true")
    args = parser.parse_args(argv)
    if args.fingerprint:
        print(fingerprint())
        return 0
    page = PAGE.read_text()
    if args.check:
        if current(page) != render():
            print(f"{PAGE} differs from sql/mart/contract.toml: run python tools/mart_dictionary.py --write")
            return 1
        return 0
    PAGE.write_text(page.replace(current(page), render()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
