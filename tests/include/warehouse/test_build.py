"""build_warehouse's reference dimensions: loaded in bulk on the first build, refreshed (updated in place) when
the reference data changes, left alone when it does not. On DuckDB and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from include.netralitas.contracts import PEMILIHAN_LABELS
from include.netralitas.reference.catalogue import load_catalogue
from include.netralitas.warehouse import build
from include.netralitas.warehouse.build import build_warehouse


def _dimensions(warehouse) -> dict[str, dict[str, tuple]]:
    with warehouse.session() as conn:
        return {
            name: {row[0]: tuple(row[1:]) for row in conn.execute(text(f"SELECT * FROM core.{name}"))}
            for name in ("region", "instansi", "pemilihan")  # constants, never input
        }


def _loads(warehouse) -> list[tuple]:
    with warehouse.session() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT sha256, loaded_at FROM audit.reference_load"))]


def test_the_reference_dimensions_are_loaded_whole(warehouse):
    build_warehouse(warehouse)
    catalogue = load_catalogue()
    loaded = _dimensions(warehouse)
    assert loaded["region"] == {r.kode: (r.nama, r.kode_provinsi, r.tingkat) for r in catalogue.regions.values()}
    assert loaded["instansi"] == {
        i.kode: (i.nama, i.jenis, i.kode_provinsi, i.nama_provinsi) for i in catalogue.instansi.values()
    }
    assert {kode: nama for kode, (nama, _) in loaded["pemilihan"].items()} == PEMILIHAN_LABELS
    assert sorted(urutan for _, urutan in loaded["pemilihan"].values()) == list(range(1, len(PEMILIHAN_LABELS) + 1))
    assert len(_loads(warehouse)) == 1


def test_a_changed_reference_is_refreshed_and_an_unchanged_one_is_not(warehouse, monkeypatch):
    build_warehouse(warehouse)
    first = _loads(warehouse)
    build_warehouse(warehouse)
    assert _loads(warehouse) == first  # unchanged: not reloaded

    monkeypatch.setitem(build.PEMILIHAN_LABELS, "PILKADA-2024", "Pilkada Serentak 2024")
    build_warehouse(warehouse)
    after = _dimensions(warehouse)
    assert after["pemilihan"]["PILKADA-2024"][0] == "Pilkada Serentak 2024"
    assert after["pemilihan"]["PILKADA-2018"][0] == "Pilkada 2018"
    assert len(after["region"]) == len(load_catalogue().regions)  # updated in place, nothing added twice
    [(digest, _)] = _loads(warehouse)
    assert digest != first[0][0]
