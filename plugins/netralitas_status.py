"""The netralitas page of the Airflow UI: per office its last batch, outcome and counts, by province; the
quarantine with its reasons; freshness; API pulls; publications (and approval tables, when the warehouse has
any). An Airflow >= 3.1 plugin: a FastAPI app mounted by the api-server at `/netralitas`, and an external view
that the UI embeds under Browse as `/plugin/netralitas`.

* **Protected like the rest of the UI.** The api-server does not protect a plugin's FastAPI app by itself:
  every route here depends on Airflow's own check (`requires_access_view(AccessView.PLUGINS)`), which takes
  the UI session's JWT cookie or an `Authorization: Bearer` token, answers 401 without one and 403 to a user
  who may not see plugins.
* **Reads, never writes.** The data come from `include.netralitas.warehouse.status` (SQL in `sql/audit/`):
  the manifest, the API pulls, the quarantine's reasons, `mart.office_freshness`'s rule and the
  publications. No personal data is in any of them. Everything is rendered by Jinja2 with autoescape on.
* **Cheap to load.** The plugin manager imports this file in every Airflow process: FastAPI and the page's
  template only (`netralitas_status.html.j2`, beside this file); the warehouse code is imported by the request.

The choice of a page over a task per office (dynamic task mapping) is recorded in
docs/decisions/0003-per-office-status-page-not-mapped-tasks.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import requires_access_view
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from jinja2 import Environment, select_autoescape

URL_PREFIX = "/netralitas"

app = FastAPI(title="netralitas status", docs_url=None, redoc_url=None, openapi_url=None)

TEMPLATE = Path(__file__).with_name("netralitas_status.html.j2")

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
PAGE = _env.from_string(TEMPLATE.read_text(encoding="utf-8"))


def _when(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else f"{value:%Y-%m-%d %H:%M}"
    return str(value)


def _num(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return f"{int(value):,}".replace(",", ".")


def render(status, warehouse: str) -> str:
    """The page's HTML for an `EngineerStatus`; every value is escaped by the template."""
    from include.netralitas.warehouse.status import OUTCOMES

    return PAGE.render(s=status, warehouse=warehouse, outcomes=OUTCOMES, when=_when, num=_num)


@app.get("/", response_class=HTMLResponse, dependencies=[Depends(requires_access_view(AccessView.PLUGINS))])
def status_page() -> HTMLResponse:
    from include.netralitas.settings import get_settings
    from include.netralitas.warehouse.database import Warehouse
    from include.netralitas.warehouse.status import engineer_status

    wh = Warehouse(get_settings().warehouse_url)
    try:
        status = engineer_status(wh, as_of=datetime.now(UTC))
    finally:
        wh.engine.dispose()
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(render(status, wh.dialect), headers=headers)


class NetralitasStatusPlugin(AirflowPlugin):
    name = "netralitas_status"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "netralitas status"}]
    external_views = [
        {
            "name": "netralitas",
            "href": f"{URL_PREFIX}/",
            "url_route": "netralitas",
            "destination": "nav",
            "category": "browse",
        }
    ]
