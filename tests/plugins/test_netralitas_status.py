"""The netralitas page of plugins/netralitas_status.py without a server: every value escaped, each office's
outcome named from its batch and pull, and no route answers without Airflow's authentication."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import airflow  # noqa: F401  (Airflow puts plugins/ on the path)
import pytest

from include.netralitas.warehouse.status import EngineerStatus, Province, outcome

from netralitas_status import app, render  # isort: skip  (plugins/ on the path)

AS_OF = datetime(2024, 12, 2, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>'


def office(**row) -> dict:
    base = {"kode_kantor": "82.04", "wilayah": "Kabupaten Halmahera Tengah", "kode_provinsi": "82",
            "provinsi": "Maluku Utara", "file_name": "82.04_20241125.csv", "source": "file", "status": "loaded",
            "rows_in": 3, "rows_loaded": 3, "rows_quarantined": 0, "rows_duplicate": 0,
            "received_at": AS_OF - timedelta(days=7), "ingested_at": AS_OF - timedelta(days=6),
            "pull_status": None, "pulled_at": None}  # fmt: skip
    return {**base, **row}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (office(), "loaded"),
        (office(rows_loaded=2, rows_quarantined=1), "partly_quarantined"),
        (office(status="quarantined", rows_loaded=0, rows_quarantined=3), "quarantined"),
        (office(status="rejected", rows_in=0, rows_loaded=0), "rejected"),
        (office(status="empty", rows_in=0, rows_loaded=0), "empty"),
        (office(status=None, file_name=None, ingested_at=None), "none"),
        # a failed pull newer than the newest batch: what the office sent last did not arrive
        (office(pull_status="failed", pulled_at=AS_OF), "pull_failed"),
        (office(status=None, ingested_at=None, pull_status="failed", pulled_at=AS_OF), "pull_failed"),
        # an older failed pull, then a batch that loaded: loaded
        (office(pull_status="failed", pulled_at=AS_OF - timedelta(days=30)), "loaded"),
    ],
)
def test_each_office_gets_the_outcome_of_its_newest_batch_and_pull(row, expected):
    assert outcome(row) == expected


def test_every_value_on_the_page_is_escaped():
    row = office(file_name=f"82.04_{HOSTILE}.csv", wilayah=HOSTILE, rows_quarantined=1, rows_loaded=2)
    row["outcome"], row["outcome_text"] = "partly_quarantined", "partly quarantined"
    status = EngineerStatus(
        as_of=AS_OF,
        provinces=[Province("82", HOSTILE, [row])],
        quarantine=[
            {
                "kode_kantor": "82.04",
                "kolom": HOSTILE,
                "alasan": f"bukan <kode_kantor> {HOSTILE}",
                "baris": 1,
                "batch": 1,
                "terakhir": AS_OF,
            }
        ],  # fmt: skip
        stale=[{"kode_kantor": "82.05", "wilayah": HOSTILE, "laporan_terakhir": None}],
        freshness_days=14,
        pulls=[
            {
                "kode_kantor": "82.04",
                "status": "failed",
                "rows_pulled": 0,
                "pages": 0,
                "pulled_at": AS_OF,
                "run_id": HOSTILE,
            }
        ],  # fmt: skip
        publications=[
            {
                "minggu": "2024-W48",
                "batas_waktu": AS_OF,
                "dibuat_pada": AS_OF,
                "jumlah_baris": 12,
                "tindakan": "terbit_ulang",
                "alasan": HOSTILE,
                "dicatat_pada": AS_OF,
            }
        ],  # fmt: skip
        approval_tables=[],
        unavailable={"API pulls": HOSTILE},
    )
    page = render(status, "duckdb")
    assert "<script>" not in page
    # province, region, file, column, reason, stale office, run id, publication reason, unavailable section
    assert page.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 9
    assert "bukan &lt;kode_kantor&gt;" in page
    assert re.search(r"partly quarantined:\s*<strong>1</strong>", page)


def test_the_page_refuses_a_request_without_airflow_authentication():
    from fastapi.testclient import TestClient

    client = TestClient(app)
    assert client.get("/").status_code == 401
    assert [route.path for route in app.routes if getattr(route, "dependant", None)] == ["/"]
    [route] = [r for r in app.routes if getattr(r, "path", None) == "/"]
    assert any("requires_access_view" in d.call.__qualname__ for d in route.dependant.dependencies)
