"""The compose stack, checked by parsing: Docker does not run on the development machine.

`compose_problems` reads docker-compose.yml as `docker compose` would (YAML merge keys resolved, `${VAR}`
interpolated from .env.example with its empty secrets filled in) and lists what is wrong: a service, a
healthcheck, a dependency or a mount named in the issue missing, the executor or the warehouse miswired.
`env_problems` and `image_problems` do the same for .env.example and the Dockerfile. Each real file must give
no problem, and the mutation tests delete or change one required element at a time and require a report:
removing anything the issue names makes a test fail.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

PROJECT = "/opt/airflow/project"  # PYTHONPATH: include/ and sql/ are mounted below it
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                    "airflow-triggerer")  # fmt: skip
ONE_SHOT = ("airflow-init", "warehouse-init")
PROFILES = {"metabase": ["bi"], "flower": ["flower"], "airflow-cli": ["debug"]}
SERVICES = (*AIRFLOW_SERVICES, *ONE_SHOT, "postgres", "redis", "warehouse", "office-api", *PROFILES)
# Every long-running service, with what its healthcheck must exercise.
HEALTHCHECKS = {
    "postgres": "pg_isready",
    "redis": "redis-cli ping",
    "warehouse": "pg_isready",
    "office-api": "http://localhost:8081/health",
    "airflow-apiserver": "http://localhost:8080/api/v2/version",
    "airflow-scheduler": "http://localhost:8974/health",
    "airflow-dag-processor": "--job-type DagProcessorJob",
    "airflow-triggerer": "--job-type TriggererJob",
    "airflow-worker": "inspect ping",
    "flower": "http://localhost:5555/",
    "metabase": "http://localhost:3000/api/health",
}
# Services built from ./Dockerfile, and those that run Airflow itself (every one mounts AIRFLOW_MOUNTS).
IMAGE_SERVICES = (*AIRFLOW_SERVICES, *ONE_SHOT, "office-api", "flower", "airflow-cli")
AIRFLOW_LIKE = (*AIRFLOW_SERVICES, "airflow-init", "flower", "airflow-cli")
AIRFLOW_MOUNTS = {
    "/opt/airflow/dags": "dags",
    "/opt/airflow/plugins": "plugins",
    f"{PROJECT}/include": "include",
    f"{PROJECT}/sql": "sql",
    f"{PROJECT}/var": "var/compose/data",
    "/opt/airflow/logs": "var/compose/logs",
    "/opt/airflow/config": "var/compose/config",
}
EXTRA_MOUNTS = {
    "warehouse-init": {f"{PROJECT}/include": "include", f"{PROJECT}/sql": "sql", f"{PROJECT}/docker": "docker"},
    "office-api": {f"{PROJECT}/include": "include", f"{PROJECT}/var": "var/compose/data"},
}
# (service, dependency, condition)
DEPENDENCIES = [
    *((s, d, c) for s in (*AIRFLOW_SERVICES, "flower") for d, c in (
        ("postgres", "service_healthy"), ("redis", "service_healthy"),
        ("airflow-init", "service_completed_successfully"), ("warehouse-init", "service_completed_successfully"),
    )),
    ("airflow-init", "postgres", "service_healthy"),
    ("airflow-init", "redis", "service_healthy"),
    ("airflow-init", "warehouse-init", "service_completed_successfully"),
    ("warehouse-init", "warehouse", "service_healthy"),
    ("airflow-worker", "airflow-apiserver", "service_healthy"),
    ("airflow-worker", "office-api", "service_healthy"),
    ("office-api", "airflow-init", "service_completed_successfully"),
    ("metabase", "warehouse-init", "service_completed_successfully"),
]  # fmt: skip
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|^AIRFLOW_CONN_")


# -- reading the files as docker compose does ----------------------------------------------------------------

_REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    pass


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR:+alt}` and `$$`."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["braced"] or match["bare"], match["op"], match["arg"] or ""
        current = env.get(name)
        if op in (":?", "?") and (current is None or (op == ":?" and not current)):
            raise MissingVariable(f"{name}: {arg}")
        if op == ":-":
            return current or arg
        if op == "-":
            return arg if current is None else current
        if op == ":+":
            return arg if current else ""
        if op == "+":
            return "" if current is None else arg
        return current or ""

    return _REFERENCE.sub(replace, value)


def _walk(node: Any, on_string: Callable[[str], Any]) -> Any:
    """A fresh copy of a parsed YAML tree (no shared anchors) with `on_string` applied to every string value."""
    if isinstance(node, dict):
        return {key: _walk(value, on_string) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(value, on_string) for value in node]
    return on_string(node) if isinstance(node, str) else node


def references(raw: dict) -> list[tuple[str, str | None, str]]:
    """Every `${VAR...}` or `$VAR` of the compose file's values, as (name, operator, argument)."""
    found: list[tuple[str, str | None, str]] = []

    def collect(value: str) -> str:
        found.extend(
            (m["braced"] or m["bare"], m["op"], m["arg"] or "") for m in _REFERENCE.finditer(value) if not m["escaped"]
        )
        return value

    _walk(raw, collect)
    return found


def env_example(text: str) -> dict[str, str]:
    """The `NAME=value` lines of an env file (comments skipped, one level of quotes removed)."""
    values = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", line.strip())
        if match:
            value = match[2]
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[match[1]] = value
    return values


def filled_env(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """.env.example as a user fills it in: every empty secret gets a made-up value."""
    env = env_example(ENV_EXAMPLE.read_text())
    env = {name: value or (f"test-{name.lower().replace('_', '-')}" if SECRET_NAME.search(name) else value)
           for name, value in env.items()}  # fmt: skip
    for name in ("AIRFLOW_CONN_NETRALITAS_ALERT_SMTP", "AIRFLOW_CONN_NETRALITAS_ALERT_WEBHOOK"):
        env[name] = ""  # optional channels: off, as in the example
    return {**env, **(overrides or {})}


def load_compose(env: Mapping[str, str] | None = None) -> dict:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    return _walk(raw, lambda value: interpolate(value, filled_env() if env is None else env))


# -- reading one service ---------------------------------------------------------------------------------------


def environment(spec: dict) -> dict[str, str]:
    env = spec.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def mounts(spec: dict) -> dict[str, str]:
    """Container path -> host path (relative to the project, normalised) of every bind mount."""
    found = {}
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            source, target = volume.get("source", ""), volume.get("target", "")
        else:
            source, target = (volume.split(":") + [""])[:2]
        if source.startswith((".", "/")):  # a bind mount, not a named volume
            source = str(PurePosixPath(source))  # ./dags -> dags
        found[str(PurePosixPath(target))] = source
    return found


def depends_on(spec: dict) -> dict[str, str]:
    deps = spec.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (value or {}).get("condition", "service_started") for name, value in deps.items()}


def healthcheck(spec: dict) -> str:
    check = spec.get("healthcheck") or {}
    test = check.get("test") or []
    if check.get("disable") or test in (["NONE"], "NONE"):
        return ""
    return " ".join(test) if isinstance(test, list) else str(test)


def command(spec: dict) -> list[str]:
    value = spec.get("command") or []
    return value.split() if isinstance(value, str) else [str(part) for part in value]


def builds_here(spec: dict) -> bool:
    build = spec.get("build")
    context = build.get("context") if isinstance(build, dict) else build
    dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
    return context is not None and Path(ROOT, context).resolve() == ROOT and dockerfile == "Dockerfile"


# -- the checks ---------------------------------------------------------------------------------------------------


def compose_problems(compose: dict) -> list[str]:
    """What is wrong with an interpolated compose file; empty when it is the stack the issue asks for."""
    services: dict[str, dict] = compose.get("services") or {}
    problems = [f"service {name} is missing" for name in SERVICES if name not in services]
    get = lambda name: services.get(name) or {}  # noqa: E731 - a missing service was reported above

    for name, spec in services.items():
        if spec.get("profiles", []) != PROFILES.get(name, []):
            problems.append(f"{name} must have the profiles {PROFILES.get(name, [])}, not {spec.get('profiles')}")
    for name, needle in HEALTHCHECKS.items():
        if name in services and needle not in healthcheck(get(name)):
            problems.append(f"{name} has no healthcheck that checks {needle!r}")
        if name in services and get(name).get("restart") != "always":
            problems.append(f"{name} must restart always")
    for name in ONE_SHOT:
        if name in services and get(name).get("restart") not in (None, "no"):
            problems.append(f"{name} is a one-shot: it must not restart")
    for name, dependency, condition in DEPENDENCIES:
        if name in services and depends_on(get(name)).get(dependency) != condition:
            problems.append(f"{name} must depend on {dependency} with condition {condition}")

    for name in (*AIRFLOW_LIKE, *EXTRA_MOUNTS):
        have = mounts(get(name))
        for target, source in EXTRA_MOUNTS.get(name, AIRFLOW_MOUNTS).items():
            if name in services and have.get(target) != source:
                problems.append(f"{name} must mount ./{source} at {target} (has {have.get(target)})")
    for name in IMAGE_SERVICES:
        spec = get(name)
        if name in services and not builds_here(spec):
            problems.append(f"{name} must be built from ./Dockerfile")
        if name in services and spec.get("image") != get("airflow-scheduler").get("image"):
            problems.append(f"{name} must use the one project image")
        if "_PIP_ADDITIONAL_REQUIREMENTS" in environment(spec):
            problems.append(f"{name} installs packages at start-up (_PIP_ADDITIONAL_REQUIREMENTS)")
        if name in services and environment(spec).get("PYTHONPATH") != PROJECT:
            problems.append(f"{name}: PYTHONPATH must be {PROJECT}, where include/ and sql/ are mounted")

    problems += _executor_problems(services)
    problems += _warehouse_problems(services)
    problems += _office_api_problems(services)
    problems += _optional_problems(services)
    return problems


def _url(value: str | None):
    return urlsplit(value or "")


def _executor_problems(services: dict[str, dict]) -> list[str]:
    problems = []
    metadata = environment(services.get("postgres") or {})
    meta_user, meta_password, meta_db = (metadata.get(k) for k in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"))
    shared: dict[str, set[str]] = {}
    for name in AIRFLOW_LIKE:
        if name not in services:
            continue
        env = environment(services[name])
        if env.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor":
            problems.append(f"{name}: the executor must be CeleryExecutor, not {env.get('AIRFLOW__CORE__EXECUTOR')}")
        broker = _url(env.get("AIRFLOW__CELERY__BROKER_URL"))
        if (broker.scheme, broker.hostname) != ("redis", "redis"):
            problems.append(f"{name}: the Celery broker must be the redis service")
        for key, scheme in (("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2"),
                            ("AIRFLOW__CELERY__RESULT_BACKEND", "db+postgresql")):  # fmt: skip
            url = _url(env.get(key))
            if (url.scheme, url.hostname, url.username, url.password, url.path) != (
                scheme, "postgres", meta_user, meta_password, f"/{meta_db}"
            ):  # fmt: skip
                problems.append(f"{name}: {key} must be the postgres service's database ({scheme})")
        execution = _url(env.get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL"))
        if (execution.hostname, execution.path) != ("airflow-apiserver", "/execution/"):
            problems.append(f"{name}: the Execution API must be the airflow-apiserver service")
        for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY", "NETRALITAS_HMAC_KEY"):
            shared.setdefault(key, set()).add(env.get(key, ""))
    for key, values in shared.items():
        if len(values) != 1 or "" in values:
            problems.append(f"{key} must be set, and the same in every Airflow service")
    return problems


def _warehouse_problems(services: dict[str, dict]) -> list[str]:
    problems = []
    warehouse = services.get("warehouse") or {}
    if not str(warehouse.get("image", "")).startswith("postgres:16"):
        problems.append("warehouse must be PostgreSQL 16")
    if not any(str(v).endswith(":/var/lib/postgresql/data") for v in warehouse.get("volumes") or []):
        problems.append("warehouse must keep its data in a volume")
    for port in warehouse.get("ports") or []:
        if not str(port).startswith("127.0.0.1:"):
            problems.append(f"warehouse publishes {port} beyond the host's loopback")
    init = environment(services.get("warehouse-init") or {})
    admin = _url(init.get("NETRALITAS_WAREHOUSE_ADMIN_URL"))
    if (admin.hostname, admin.username, admin.password) != (
        "warehouse", "postgres", environment(warehouse).get("POSTGRES_PASSWORD")
    ):  # fmt: skip
        problems.append("warehouse-init must connect to the warehouse service as its superuser")
    if "NETRALITAS_BI_READER_PASSWORD" not in init:
        problems.append("warehouse-init must set bi_reader's password (NETRALITAS_BI_READER_PASSWORD)")
    script = [part for part in command(services.get("warehouse-init") or {}) if part.endswith(".py")]
    if script != [f"{PROJECT}/docker/warehouse_init.py"] or not (ROOT / "docker" / "warehouse_init.py").exists():
        problems.append("warehouse-init must run docker/warehouse_init.py")
    for name in (*AIRFLOW_LIKE, "warehouse-init"):
        if name not in services:
            continue
        env = environment(services[name])
        url = _url(env.get("NETRALITAS_WAREHOUSE_URL"))
        if (url.scheme, url.hostname, url.port or 5432, url.username) != (
            "postgresql", "warehouse", 5432, "netralitas_loader"
        ) or not url.password or url.path in ("", "/"):  # fmt: skip
            problems.append(f"{name}: NETRALITAS_WAREHOUSE_URL must be the warehouse service, as netralitas_loader")
        if env.get("NETRALITAS_WAREHOUSE_URL") != init.get("NETRALITAS_WAREHOUSE_URL"):
            problems.append(f"{name}: NETRALITAS_WAREHOUSE_URL differs from the one warehouse-init prepares")
        if name != "warehouse-init" and env.get("NETRALITAS_VAR_DIR") != f"{PROJECT}/var":
            problems.append(f"{name}: NETRALITAS_VAR_DIR must be the mounted data folder {PROJECT}/var")
    return problems


def _office_api_problems(services: dict[str, dict]) -> list[str]:
    problems = []
    api = services.get("office-api") or {}
    args = command(api)
    option = lambda flag: args[args.index(flag) + 1] if flag in args[:-1] else None  # noqa: E731
    if "include.netralitas.sample.office_api" not in args or option("--host") != "0.0.0.0":
        problems.append("office-api must serve include.netralitas.sample.office_api on every interface")
    port, endpoints = option("--port"), option("--endpoints-file")
    token = environment(api).get("NETRALITAS_OFFICE_API_TOKEN")
    if not token:
        problems.append("office-api needs its bearer token (NETRALITAS_OFFICE_API_TOKEN)")
    for name in AIRFLOW_LIKE:
        if name not in services:
            continue
        env = environment(services[name])
        try:
            conn = json.loads(env.get("AIRFLOW_CONN_NETRALITAS_OFFICE_API", ""))
        except json.JSONDecodeError:
            conn = {}
        if (conn.get("conn_type"), conn.get("schema"), conn.get("host"), str(conn.get("port"))) != (
            "http", "http", "office-api", port
        ) or not token or conn.get("password") != token:  # fmt: skip
            problems.append(f"{name}: the connection netralitas_office_api must reach office-api with its token")
        if not endpoints or env.get("NETRALITAS_OFFICE_ENDPOINTS") != endpoints:
            problems.append(f"{name}: NETRALITAS_OFFICE_ENDPOINTS must be the file office-api writes")
    return problems


def _optional_problems(services: dict[str, dict]) -> list[str]:
    problems = []
    for name in AIRFLOW_LIKE:
        env = environment(services.get(name) or {})
        if name in services and env.get("AIRFLOW__OPENLINEAGE__DISABLED") != "true":
            problems.append(f"{name}: OpenLineage must be off by default")
        for key in ("AIRFLOW__OPENLINEAGE__TRANSPORT", "AIRFLOW_CONN_NETRALITAS_ALERT_SMTP",
                    "AIRFLOW_CONN_NETRALITAS_ALERT_WEBHOOK"):  # fmt: skip
            if name in services and key not in env:
                problems.append(f"{name}: {key} must be passed through from .env")
    image = str((services.get("metabase") or {}).get("image", ""))
    if not re.fullmatch(r"metabase/metabase:v[\d.]+", image):
        problems.append(f"metabase must be a pinned metabase/metabase image, not {image!r}")
    return problems


def env_problems(compose_text: str, example_text: str) -> list[str]:
    """Every variable the compose file reads is in .env.example and the other way round; no secret there."""
    refs = references(yaml.safe_load(compose_text))
    documented = env_example(example_text)
    read = {name for name, _, _ in refs}
    problems = [
        f"{name} is read by docker-compose.yml but not in .env.example" for name in sorted(read - set(documented))
    ]
    problems += [f"{name} is in .env.example but docker-compose.yml never reads it"
                 for name in sorted(set(documented) - read)]  # fmt: skip
    problems += [f"${{{name}}} has neither a default nor an error message" for name, op, _ in refs if op is None]
    defaults: dict[str, set[str]] = {}
    for name, op, arg in refs:
        if op == ":-":
            defaults.setdefault(name, set()).add(arg)
    for name, values in defaults.items():
        if name in documented and values != {documented[name]}:
            problems.append(f"{name}: .env.example says {documented[name]!r}, docker-compose.yml defaults to {values}")
    for name, op, _ in refs:
        if op == ":?" and documented.get(name, "") != "":
            problems.append(f"{name} is required: .env.example must leave it empty for the user to fill in")
    problems += [f"{name} is a secret: .env.example must leave it empty"
                 for name, value in documented.items() if SECRET_NAME.search(name) and value]  # fmt: skip
    return problems


def image_problems(dockerfile: str, dockerignore: str, lock: str) -> list[str]:
    """The image is the official one of the pinned Airflow, plus the lock installed at build time."""
    problems = []
    lines = [line.strip() for line in dockerfile.replace("\\\n", " ").splitlines() if line.strip()]
    instructions = [line for line in lines if not line.startswith("#")]
    pinned = re.search(r"^apache-airflow==(\S+)$", lock, re.M)
    bases = [line.split()[1] for line in instructions if line.upper().startswith("FROM ")]
    if not pinned or bases != [f"apache/airflow:{pinned[1]}-python3.11"]:
        problems.append(f"the image must start FROM apache/airflow:<the lock's Airflow>-python3.11, not {bases}")
    copied = {line.split()[-1] for line in instructions if line.startswith("COPY") and "requirements.lock" in line}
    installs = [line for line in instructions if line.startswith("RUN") and "pip install" in line]
    if not copied or not any(f"-r {target}" in line for line in installs for target in copied):
        problems.append("the image must pip install -r requirements.lock")
    if any("_PIP_ADDITIONAL_REQUIREMENTS" in line for line in instructions):
        problems.append("the image must not use _PIP_ADDITIONAL_REQUIREMENTS")
    if f"ENV PYTHONPATH={PROJECT}" not in instructions:
        problems.append(f"the image must set PYTHONPATH={PROJECT}")
    patterns = [line.strip() for line in dockerignore.splitlines() if line.strip() and not line.startswith("#")]
    if patterns[:1] != ["*"] or set(patterns[1:]) != {"!requirements.lock"}:
        problems.append(".dockerignore must keep everything but requirements.lock out of the build context")
    return problems


# -- the real files ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


def test_the_compose_file_is_the_stack_of_the_issue(compose):
    assert compose_problems(compose) == []


def test_every_variable_is_documented_in_env_example_and_none_holds_a_secret():
    assert env_problems(COMPOSE_FILE.read_text(), ENV_EXAMPLE.read_text()) == []


def test_the_image_installs_the_lock_on_the_official_airflow_image():
    lock = (ROOT / "requirements.lock").read_text()
    assert image_problems(DOCKERFILE.read_text(), DOCKERIGNORE.read_text(), lock) == []


def test_the_mounted_folders_exist_and_the_stack_state_stays_out_of_git(compose):
    for source in {*AIRFLOW_MOUNTS.values(), "docker"}:
        if not source.startswith("var/"):
            assert (ROOT / source).is_dir(), source
    assert "/var/" in (ROOT / ".gitignore").read_text().split()
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_a_required_secret_left_empty_stops_compose():
    with pytest.raises(MissingVariable, match="WAREHOUSE_LOADER_PASSWORD"):
        load_compose(filled_env({"WAREHOUSE_LOADER_PASSWORD": ""}))


def test_openlineage_is_switched_on_by_one_variable():
    on = load_compose(filled_env({"AIRFLOW__OPENLINEAGE__DISABLED": "false"}))
    assert {environment(on["services"][s])["AIRFLOW__OPENLINEAGE__DISABLED"] for s in AIRFLOW_SERVICES} == {"false"}
    assert any("OpenLineage must be off" in p for p in compose_problems(on))


def test_the_office_api_connection_is_what_the_ingestion_dag_reads(compose):
    """The connection, parsed by Airflow, gives the base URL `pull_office_apis` builds, and the token."""
    from airflow.sdk import Connection

    env = environment(compose["services"]["airflow-worker"])
    conn = Connection.from_json(env["AIRFLOW_CONN_NETRALITAS_OFFICE_API"], conn_id="netralitas_office_api")
    port = f":{conn.port}" if conn.port else ""
    assert f"{conn.schema or 'https'}://{conn.host}{port}" == "http://office-api:8081"
    assert conn.password == environment(compose["services"]["office-api"])["NETRALITAS_OFFICE_API_TOKEN"]


def test_the_interpolation_follows_compose():
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d} ${EMPTY:-d} ${UNSET:-d} ${EMPTY-d} ${UNSET-d} $$HOME $SET", env) == "x d d  d $HOME x"
    assert interpolate("${SET:+a}${EMPTY:+b}${EMPTY+c}", env) == "ac"
    with pytest.raises(MissingVariable):
        interpolate("${EMPTY:?set it}", env)


@pytest.mark.skipif(
    not (shutil.which("docker-compose") or shutil.which("docker")), reason="no docker compose binary here"
)
def test_docker_compose_itself_accepts_the_file(tmp_path):
    """Only when a compose binary is installed (it is not part of the pinned set): `config` runs no container."""
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in filled_env().items()))
    binary = [shutil.which("docker-compose")] if shutil.which("docker-compose") else ["docker", "compose"]
    probe = subprocess.run([*binary, "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"{' '.join(binary)} is not usable here: {probe.stderr.strip()[:200]}")
    result = subprocess.run(
        [*binary, "--project-directory", str(ROOT), "--env-file", str(env_file), "-f", str(COMPOSE_FILE),
         "--profile", "bi", "--profile", "flower", "--profile", "debug", "config", "--services"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == set(SERVICES)


# -- removing anything the issue names is caught ---------------------------------------------------------------


def _delete(path: tuple) -> Callable[[dict], None]:
    def mutate(compose: dict) -> None:
        node = compose
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


def _set(path: tuple, value: Any) -> Callable[[dict], None]:
    def mutate(compose: dict) -> None:
        node = compose
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _unmount(service: str, target: str) -> Callable[[dict], None]:
    def mutate(compose: dict) -> None:
        spec = compose["services"][service]
        spec["volumes"] = [v for v in spec["volumes"] if mounts({"volumes": [v]}).get(target) is None]

    return mutate


def _env_set(service: str, key: str, value: str | None) -> Callable[[dict], None]:
    def mutate(compose: dict) -> None:
        env = compose["services"][service]["environment"]
        if value is None:
            del env[key]
        else:
            env[key] = value

    return mutate


def _mutations() -> list:
    cases = []
    add = lambda case_id, mutate, expected: cases.append(pytest.param(mutate, expected, id=case_id))  # noqa: E731
    for name in SERVICES:
        add(f"no-{name}", _delete(("services", name)), f"service {name} is missing")
    for name in HEALTHCHECKS:
        add(f"no-healthcheck-{name}", _delete(("services", name, "healthcheck")), f"{name} has no healthcheck")
        add(f"healthcheck-off-{name}", _set(("services", name, "healthcheck", "disable"), True),
            f"{name} has no healthcheck")  # fmt: skip
    for name, dependency, condition in DEPENDENCIES:
        add(f"{name}-without-{dependency}", _delete(("services", name, "depends_on", dependency)),
            f"{name} must depend on {dependency}")  # fmt: skip
        add(f"{name}-only-starts-{dependency}",
            _set(("services", name, "depends_on", dependency), {"condition": "service_started"}),
            f"{name} must depend on {dependency} with condition {condition}")  # fmt: skip
    for name in AIRFLOW_LIKE:
        for target in AIRFLOW_MOUNTS:
            add(f"{name}-unmounts-{target}", _unmount(name, target), f"{name} must mount ./{AIRFLOW_MOUNTS[target]}")
    for name, wanted in EXTRA_MOUNTS.items():
        for target, source in wanted.items():
            add(f"{name}-unmounts-{target}", _unmount(name, target), f"{name} must mount ./{source}")
    for name in AIRFLOW_SERVICES:
        add(f"{name}-local-executor", _env_set(name, "AIRFLOW__CORE__EXECUTOR", "LocalExecutor"), "CeleryExecutor")
        add(f"{name}-rabbitmq", _env_set(name, "AIRFLOW__CELERY__BROKER_URL", "amqp://guest@rabbit//"), "broker")
        add(f"{name}-no-result-backend", _env_set(name, "AIRFLOW__CELERY__RESULT_BACKEND", None), "RESULT_BACKEND")
        add(f"{name}-sqlite-metadata", _env_set(name, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "sqlite:////tmp/a.db"),
            "SQL_ALCHEMY_CONN")  # fmt: skip
        add(f"{name}-embedded-warehouse", _env_set(name, "NETRALITAS_WAREHOUSE_URL", "duckdb:///var/w.duckdb"),
            "NETRALITAS_WAREHOUSE_URL")  # fmt: skip
        add(f"{name}-superuser-warehouse",
            _env_set(name, "NETRALITAS_WAREHOUSE_URL", "postgresql://postgres:x@warehouse:5432/netralitas"),
            "as netralitas_loader")  # fmt: skip
        add(f"{name}-no-build", _delete(("services", name, "build")), f"{name} must be built from ./Dockerfile")
        add(f"{name}-pip-at-start", _env_set(name, "_PIP_ADDITIONAL_REQUIREMENTS", "pandas"), "_PIP_ADDITIONAL")
        add(f"{name}-no-pythonpath", _env_set(name, "PYTHONPATH", None), "PYTHONPATH")
        add(f"{name}-own-jwt-secret", _env_set(name, "AIRFLOW__API_AUTH__JWT_SECRET", "other"), "JWT_SECRET")
        add(f"{name}-no-office-api-conn", _env_set(name, "AIRFLOW_CONN_NETRALITAS_OFFICE_API", None),
            "netralitas_office_api")  # fmt: skip
        add(f"{name}-other-endpoints", _env_set(name, "NETRALITAS_OFFICE_ENDPOINTS", "/elsewhere.csv"),
            "NETRALITAS_OFFICE_ENDPOINTS")  # fmt: skip
        add(f"{name}-lineage-on", _env_set(name, "AIRFLOW__OPENLINEAGE__DISABLED", "false"), "OpenLineage")
        for key in ("AIRFLOW_CONN_NETRALITAS_ALERT_SMTP", "AIRFLOW_CONN_NETRALITAS_ALERT_WEBHOOK",
                    "AIRFLOW__OPENLINEAGE__TRANSPORT"):  # fmt: skip
            add(f"{name}-no-{key}", _env_set(name, key, None), key)
    add("init-other-database", _env_set("warehouse-init", "NETRALITAS_WAREHOUSE_URL",
        "postgresql://netralitas_loader:x@warehouse:5432/other"), "differs")  # fmt: skip
    add("init-no-reader-password", _env_set("warehouse-init", "NETRALITAS_BI_READER_PASSWORD", None), "bi_reader")
    add("init-no-admin", _env_set("warehouse-init", "NETRALITAS_WAREHOUSE_ADMIN_URL", None), "superuser")
    add("init-no-script", _set(("services", "warehouse-init", "command"), ["python", "-c", "pass"]),
        "warehouse_init.py")  # fmt: skip
    add("init-restarts", _set(("services", "warehouse-init", "restart"), "always"), "one-shot")
    add("warehouse-pg15", _set(("services", "warehouse", "image"), "postgres:15"), "PostgreSQL 16")
    add("warehouse-no-volume", _delete(("services", "warehouse", "volumes")), "volume")
    add("warehouse-public", _set(("services", "warehouse", "ports"), ["5433:5432"]), "loopback")
    add("office-api-loopback", _set(("services", "office-api", "command"),
        ["python", "-m", "include.netralitas.sample.office_api", "--port", "8081"]), "every interface")  # fmt: skip
    add("office-api-no-token", _env_set("office-api", "NETRALITAS_OFFICE_API_TOKEN", None), "token")
    add("office-api-other-image", _set(("services", "office-api", "image"), "python:3.11"), "one project image")
    add("metabase-latest", _set(("services", "metabase", "image"), "metabase/metabase:latest"), "pinned")
    add("metabase-always-on", _delete(("services", "metabase", "profiles")), "profiles ['bi']")
    add("worker-profiled", _set(("services", "airflow-worker", "profiles"), ["celery"]), "profiles []")
    return cases


@pytest.mark.parametrize(("mutate", "expected"), _mutations())
def test_removing_or_breaking_a_required_element_is_reported(compose, mutate, expected):
    broken = copy.deepcopy(compose)
    mutate(broken)
    problems = compose_problems(broken)
    assert any(expected in problem for problem in problems), problems


def _drop_line(text: str, prefix: str) -> str:
    kept = [line for line in text.splitlines() if not line.startswith(prefix)]
    assert len(kept) < len(text.splitlines()), prefix
    return "\n".join(kept)


@pytest.mark.parametrize(
    ("compose_edit", "example_edit", "expected"),
    [
        pytest.param(lambda c: c, lambda e: _drop_line(e, "WAREHOUSE_LOADER_PASSWORD="),
                     "WAREHOUSE_LOADER_PASSWORD is read by docker-compose.yml but not", id="undocumented"),
        pytest.param(lambda c: c, lambda e: e + "\nNETRALITAS_UNUSED=1\n",
                     "NETRALITAS_UNUSED is in .env.example but docker-compose.yml never reads it", id="unused"),
        pytest.param(lambda c: c.replace("${AIRFLOW_WORKER_CONCURRENCY:-4}", "${AIRFLOW_WORKER_CONCURRENCY}"),
                     lambda e: e, "neither a default", id="bare-reference"),
        pytest.param(lambda c: c, lambda e: e.replace("WAREHOUSE_PORT=5433", "WAREHOUSE_PORT=5434"),
                     "WAREHOUSE_PORT: .env.example says '5434'", id="default-disagrees"),
        pytest.param(lambda c: c, lambda e: e.replace("NETRALITAS_HMAC_KEY=\n", "NETRALITAS_HMAC_KEY=abc\n"),
                     "NETRALITAS_HMAC_KEY is required", id="secret-in-example"),
        pytest.param(lambda c: c, lambda e: e.replace("NETRALITAS_BI_READER_PASSWORD=\n",
                                                      "NETRALITAS_BI_READER_PASSWORD=abc\n"),
                     "NETRALITAS_BI_READER_PASSWORD is a secret", id="optional-secret-in-example"),
    ],
)  # fmt: skip
def test_env_example_drift_is_reported(compose_edit, example_edit, expected):
    problems = env_problems(compose_edit(COMPOSE_FILE.read_text()), example_edit(ENV_EXAMPLE.read_text()))
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(lambda d, i, lock: (re.sub(r"(?m)^RUN pip install.*\n(    .*\n)*", "", d), i, lock),
                     "pip install -r requirements.lock", id="no-install"),
        pytest.param(lambda d, i, lock: (d.replace("3.3.2-python3.11", "3.2.0-python3.11"), i, lock),
                     "FROM apache/airflow", id="other-airflow"),
        pytest.param(lambda d, i, lock: (d, i, lock.replace("apache-airflow==3.3.2", "apache-airflow==3.3.3")),
                     "FROM apache/airflow", id="lock-moved-on"),
        pytest.param(lambda d, i, lock: (d + 'ENV _PIP_ADDITIONAL_REQUIREMENTS="pandas"\n', i, lock),
                     "_PIP_ADDITIONAL_REQUIREMENTS", id="pip-at-start"),
        pytest.param(lambda d, i, lock: (d.replace("ENV PYTHONPATH", "ENV OTHER"), i, lock), "PYTHONPATH",
                     id="no-pythonpath"),
        pytest.param(lambda d, i, lock: (d, i.replace("*\n", ""), lock), ".dockerignore", id="context-open"),
    ],
)  # fmt: skip
def test_image_drift_is_reported(edit, expected):
    files = (DOCKERFILE.read_text(), DOCKERIGNORE.read_text(), (ROOT / "requirements.lock").read_text())
    problems = image_problems(*edit(*files))
    assert any(expected in problem for problem in problems), problems
