"""The direction of imports in the package (docs/architecture.md#layout): each sub-package is one stage of
the data path and imports only the stages before it; only `orchestration` knows Airflow; `sample` (the demo's
data and office API) is imported by tools and tests, never by the pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "include" / "netralitas"
FOUNDATION = "(root)"  # settings, files, weeks, contracts, __init__: usable by every stage

# the sub-packages each part may import (besides itself and the foundation)
ALLOWED: dict[str, set[str]] = {
    FOUNDATION: set(),
    "reference": set(),
    "quality": set(),
    "warehouse": {"reference", "quality"},
    "landing": {"warehouse"},
    "sources": {"landing", "warehouse"},
    "ingest": {"reference", "quality", "landing", "warehouse"},
    "publish": {"warehouse"},
    "orchestration": {"reference", "quality", "warehouse", "landing", "sources", "ingest", "publish"},
    "sample": {"reference", "warehouse", "landing", "ingest"},
}


def _part(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else FOUNDATION


def _imports(path: Path) -> list[str]:
    """Every module the file imports, at any depth (imports inside functions count)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            if node.module == "include.netralitas":
                found += [f"include.netralitas.{alias.name}" for alias in node.names]
    return found


def _target(module: str) -> str | None:
    """The package part a `include.netralitas...` import lands in; None for anything else."""
    if not module.startswith("include.netralitas."):
        return None
    first = module.split(".")[2]
    return first if (PACKAGE / first).is_dir() else FOUNDATION


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_sub_package_is_declared():
    parts = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts == set(ALLOWED) - {FOUNDATION}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_back_along_the_data_path(path: Path):
    part = _part(path)
    wrong = [
        module
        for module in _imports(path)
        if (target := _target(module)) not in (None, FOUNDATION, part) and target not in ALLOWED[part]
    ]
    assert not wrong, f"{path.relative_to(ROOT)} ({part}) may not import {wrong}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_orchestration_imports_airflow(path: Path):
    airflow = [m for m in _imports(path) if m == "airflow" or m.startswith("airflow.")]
    assert _part(path) == "orchestration" or not airflow, f"{path.relative_to(ROOT)} imports {airflow}"


@pytest.mark.parametrize("path", sorted((ROOT / "dags").glob("*.py")) + sorted((ROOT / "plugins").glob("*.py")),
                         ids=lambda p: p.name)  # fmt: skip
def test_dags_and_plugins_never_import_the_sample(path: Path):
    assert not [m for m in _imports(path) if _target(m) == "sample"]
