"""Configuration from environment variables, with defaults under the project's `var/` folder.

Every variable is documented in the README. Nothing here reads Airflow: the DAG tasks pass what they take
from Airflow variables or connections into the functions of the package.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from include.netralitas.files import atomic_write

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    drop_dir: Path
    landing_dir: Path
    publish_dir: Path
    warehouse_url: str
    hmac_key_file: Path
    aliases_file: Path | None
    gx_dir: Path | None  # None: an ephemeral Great Expectations context (no stored results, no Data Docs)
    office_endpoints: Path | None
    # A dropped file modified less than this many seconds ago may still be being written: it waits for the
    # next run (uploaders should write `<name>.part` and rename it when complete).
    settle_seconds: float = 60.0
    # The weekly publication is built here first and made public only after sign-off (never under publish_dir).
    publish_staging_dir: Path | None = None
    # NETRALITAS_PUBLISH_APPROVAL: `manual` (a data steward answers the approval request) or `auto`.
    publish_approval: str = "manual"

    @property
    def case_report_drop(self) -> Path:
        return self.drop_dir / "case-reports"

    @property
    def api_pull_drop(self) -> Path:
        """Where the office API pulls write their batches (atomically, so they need no settle interval);
        only netralitas writes here."""
        return self.drop_dir / "api-pulls"

    @property
    def national_release_drop(self) -> Path:
        return self.drop_dir / "national-releases"


def get_settings() -> Settings:
    var_dir = _path("NETRALITAS_VAR_DIR", PROJECT_ROOT / "var")
    warehouse_url = os.environ.get("NETRALITAS_WAREHOUSE_URL") or f"duckdb:///{var_dir / 'warehouse.duckdb'}"
    aliases = os.environ.get("NETRALITAS_ALIASES_FILE")
    endpoints = os.environ.get("NETRALITAS_OFFICE_ENDPOINTS")
    return Settings(
        var_dir=var_dir,
        drop_dir=_path("NETRALITAS_DROP_DIR", var_dir / "drop"),
        landing_dir=_path("NETRALITAS_LANDING_DIR", var_dir / "landing"),
        publish_dir=_path("NETRALITAS_PUBLISH_DIR", var_dir / "publish"),
        warehouse_url=warehouse_url,
        hmac_key_file=_path("NETRALITAS_HMAC_KEY_FILE", var_dir / "secrets" / "hmac.key"),
        aliases_file=Path(aliases).expanduser().resolve() if aliases else None,
        gx_dir=_path("NETRALITAS_GX_DIR", var_dir / "gx"),
        office_endpoints=Path(endpoints).expanduser().resolve() if endpoints else None,
        settle_seconds=float(os.environ.get("NETRALITAS_SETTLE_SECONDS", "60")),
        publish_staging_dir=_path("NETRALITAS_PUBLISH_STAGING_DIR", var_dir / "publish-staging"),
        publish_approval=approval_mode(os.environ.get("NETRALITAS_PUBLISH_APPROVAL")),
    )


APPROVAL_MODES = ("manual", "auto")


def approval_mode(value: str | None) -> str:
    """`manual` (the default: a data steward signs each new publication off) or `auto` (the demo, `make run`,
    the tests); anything else is an error rather than a guess."""
    mode = (value or "manual").strip().lower()
    if mode not in APPROVAL_MODES:
        raise ValueError(f"NETRALITAS_PUBLISH_APPROVAL={value!r}: use manual or auto")
    return mode


def hmac_key(settings: Settings, explicit: str | None = None, *, create: bool = False) -> bytes:
    """The pseudonymisation key: given (an Airflow variable), `NETRALITAS_HMAC_KEY`, or the key file.

    `create=True` (the demo) writes a new random key file, owner-only, when none exists; it is never in the
    repository (`var/` is ignored by git). The file appears whole or not at all (a kill -9 while it is written
    leaves no empty key behind), and a key another process created first is kept. An empty key file is an
    error, never a key.
    """
    value = explicit or os.environ.get("NETRALITAS_HMAC_KEY")
    if value:
        return value.encode()
    path = settings.hmac_key_file
    if not path.exists():
        if not create:
            raise RuntimeError(
                "no pseudonymisation key: set the Airflow variable netralitas_hmac_key, the environment "
                f"variable NETRALITAS_HMAC_KEY, or create {path} (make demo creates a local one)"
            )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):  # created meanwhile by another process: use that one
            atomic_write(path, secrets.token_hex(32).encode(), 0o600, exclusive=True)
    key = path.read_text().strip().encode()
    if not key:
        raise RuntimeError(f"the pseudonymisation key file {path} is empty; restore the key (never a new one)")
    return key
