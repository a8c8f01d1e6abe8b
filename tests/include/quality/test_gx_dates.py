"""The GX suite decides every row as before when `run_suite` hands GX its dates at nanosecond resolution
(`_nanosecond_dates`, decision 0005): the same failing (batch_id, baris, rule) set and the same per-batch
results as GX on the frame as prepared (dates at second resolution), on a frame where every rule fails."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from include.netralitas.quality import gx
from include.netralitas.quality.gx import CASE_SUITE, case_report_rules, defect_rule, run_suite

TODAY = date(2024, 12, 1)
GOOD = {"kode_kantor": "82.01", "kantor_berkas": "82.01", "tanggal_temuan": "2024-11-01",
        "pemilihan": "PILKADA-2024", "instansi_kode": "kemenag", "nip_bentuk": "9" * 18, "jabatan": "pelaksana",
        "jenis_pelanggaran": "lainnya", "status": "diproses", "cacat": None}  # fmt: skip
ROWS = [  # (batch_id, baris, cells that differ from GOOD, the rules (column, expectation) the row fails)
    ("b1", 2, {}, set()),
    ("b1", 3, {"kode_kantor": None}, {("kode_kantor", "expect_column_values_to_not_be_null")}),
    ("b1", 4, {"kode_kantor": "99.99"}, {("kode_kantor", "expect_column_values_to_be_in_set"),
                                         ("kode_kantor", "expect_column_pair_values_to_be_equal")}),
    ("b1", 5, {"kode_kantor": "82.02"}, {("kode_kantor", "expect_column_pair_values_to_be_equal")}),
    ("b1", 6, {"nomor_kasus": None}, {("nomor_kasus", "expect_column_values_to_not_be_null")}),
    ("b1", 7, {"nomor_kasus": "1999123120241219991"}, {("nomor_kasus", "expect_column_values_to_not_match_regex")}),
    ("b1", 8, {"tanggal_temuan": None}, {("tanggal_temuan", "expect_column_values_to_not_be_null")}),
    ("b1", 9, {"tanggal_temuan": "2014-12-31"}, {("tanggal_temuan", "expect_column_values_to_be_between")}),
    ("b1", 10, {"tanggal_temuan": "2015-01-01"}, set()),  # the bounds are inclusive
    ("b1", 11, {"tanggal_temuan": "2024-12-01"}, set()),
    ("b1", 12, {"tanggal_temuan": "2024-12-02"}, {("tanggal_temuan", "expect_column_values_to_be_between")}),
    ("b2", 2, {"pemilihan": None}, {("pemilihan", "expect_column_values_to_not_be_null")}),
    ("b2", 3, {"pemilihan": "PEMILU-1999"}, {("pemilihan", "expect_column_values_to_be_in_set")}),
    ("b2", 4, {"jabatan": None, "status": "selesai?"}, {("jabatan", "expect_column_values_to_not_be_null"),
                                                      ("status", "expect_column_values_to_be_in_set")}),
    ("b2", 5, {"jabatan": "menteri"}, {("jabatan", "expect_column_values_to_be_in_set")}),
    ("b2", 6, {"jenis_pelanggaran": None}, {("jenis_pelanggaran", "expect_column_values_to_not_be_null")}),
    ("b2", 7, {"jenis_pelanggaran": "x"}, {("jenis_pelanggaran", "expect_column_values_to_be_in_set")}),
    ("b2", 8, {"status": None}, {("status", "expect_column_values_to_not_be_null")}),
    ("b2", 9, {"instansi_kode": None}, {("instansi", "expect_column_values_to_not_be_null")}),
    ("b2", 10, {"nip_bentuk": "9" * 16}, {("nip", "expect_column_values_to_match_regex")}),
    ("b2", 11, {"nip_bentuk": None}, set()),  # no NIP given: the shape rule skips blank cells
    ("b2", 12, {"cacat": "nip"}, {("cacat", "expect_column_values_to_be_null")}),
    ("b2", 13, {"nomor_kasus": "7/PL"}, {("nomor_kasus", "expect_compound_columns_to_be_unique")}),
    ("b2", 14, {"nomor_kasus": "7/PL", "kode_kantor": "82.02"},
     {("kode_kantor", "expect_column_pair_values_to_be_equal")}),  # another office's key: not a repeat
    ("b2", 15, {"nomor_kasus": "7/PL"}, {("nomor_kasus", "expect_compound_columns_to_be_unique")}),
    ("b3", 2, {"nomor_kasus": "7/PL"}, set()),  # the same key in another batch
]  # fmt: skip


def frame(**override: str) -> pd.DataFrame:
    """The rows as the ingestion prepares them: dates at second resolution, blank cells None."""
    rows = [{"batch_id": b, "baris": n, **GOOD, "nomor_kasus": f"{b}-{n}/PL", **cells} for b, n, cells, _ in ROWS]
    prepared = pd.DataFrame(rows).astype({"tanggal_temuan": "datetime64[s]"})
    for column, value in override.items():
        prepared.loc[prepared["baris"] == 2, column] = pd.Timestamp(value) if column == "tanggal_temuan" else value
    return prepared


RULES = [*case_report_rules(["82.01", "82.02"], TODAY), defect_rule()]
EXPECTED = {(b, n, kolom, aturan) for b, n, _, failed in ROWS for kolom, aturan in failed}


def failures(outcome) -> list[tuple]:
    return sorted(map(tuple, outcome.failures[["batch_id", "baris", "kolom", "aturan", "alasan", "tingkat"]].values))


def run(prepared: pd.DataFrame):
    return run_suite(CASE_SUITE, RULES, prepared, None, ["b1", "b2", "b3", "b4"])


@pytest.mark.parametrize(
    ("override", "extra"),
    [
        ({}, set()),
        # a date beyond nanosecond resolution (after 2262): GX then gets the column as prepared
        ({"tanggal_temuan": "9999-12-31"}, {("b1", 2, "tanggal_temuan", "expect_column_values_to_be_between"),
                                            ("b2", 2, "tanggal_temuan", "expect_column_values_to_be_between"),
                                            ("b3", 2, "tanggal_temuan", "expect_column_values_to_be_between")}),
    ],
    ids=["dates-in-nanosecond-range", "a-date-in-year-9999"],
)  # fmt: skip
def test_gx_decides_every_row_as_on_the_frame_as_prepared(monkeypatch, override, extra):
    prepared = frame(**override)
    new = run(prepared)
    with monkeypatch.context() as patch:
        patch.setattr(gx, "_nanosecond_dates", lambda f: f)  # the path before decision 0005
        old = run(prepared)

    found = {tuple(r) for r in new.failures[["batch_id", "baris", "kolom", "aturan"]].values}
    assert found == EXPECTED | extra
    assert {r.expectation_type for r in RULES} <= {aturan for *_, aturan in found}  # every kind of rule fails
    assert failures(new) == failures(old)
    pd.testing.assert_frame_equal(new.results, old.results)
    assert new.results["unexpected_count"].sum() == len(found)
    assert prepared["tanggal_temuan"].dtype == "datetime64[s]"  # the caller's frame is left as it was


def test_nanosecond_dates_keeps_every_instant_and_leaves_what_does_not_fit():
    prepared = frame()
    converted = gx._nanosecond_dates(prepared)
    assert converted["tanggal_temuan"].dtype == "datetime64[ns]"
    assert converted["tanggal_temuan"].isna().sum() == 1
    assert (converted["tanggal_temuan"].dropna() == prepared["tanggal_temuan"].dropna()).all()
    pd.testing.assert_frame_equal(converted.drop(columns="tanggal_temuan"), prepared.drop(columns="tanggal_temuan"))
    beyond = frame(tanggal_temuan="9999-12-31")
    assert gx._nanosecond_dates(beyond)["tanggal_temuan"].dtype == "datetime64[s]"
