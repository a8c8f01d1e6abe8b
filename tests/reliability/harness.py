"""The scenario the fault tests share, the state they compare, and a child process that can be stopped at a
chosen point (so a kill -9 lands exactly there, not after a guessed sleep).

Scenario (the generator's offices of Maluku Utara, province 82): round 1 drops the first offices' reports
and the national release, ingests, builds and publishes week 2024-W47; round 2 drops the other offices'
reports (one a later status update), ingests, builds and publishes 2024-W48. A fault is injected in round 2;
after the re-run the state must equal that of a clean run of both rounds.

Child: `python -m tests.reliability.harness OPERATION --hook SPEC --signal-fd N [--wait-fd M]` runs one
step of round 2 with the settings of the environment (NETRALITAS_VAR_DIR, NETRALITAS_WAREHOUSE_URL,
NETRALITAS_HMAC_KEY). The hook wraps a function; on its n-th matching call the child writes one byte to
`--signal-fd` and then (action `pause`) blocks reading `--wait-fd`, or (action `signal`) carries on. The
parent reads that byte, then kills or releases the child. A builtin can be hooked as one module sees it
(`module:open` wraps `open` for that module only): "after" a store's `open(path, "wb")`, the file is there
under its name, truncated and not yet written, which is where a kill lands in the middle of a write.
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import functools
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from include.netralitas.settings import Settings
    from include.netralitas.warehouse.database import Warehouse

ROOT = Path(__file__).resolve().parents[2]
WEEK_1, WEEK_2 = "2024-W47", "2024-W48"
PROVINCE = "82"
KEY = b"test-key-not-secret"  # the key the conftest's settings fixture sets
COUNTED = (
    "landing.batch", "staging.case_report", "staging.national_release", "staging.national_release_row",
    "core.case_history", "core.case_current", "core.national_release", "core.national_release_fact",
    "core.merged_batch", "audit.quarantine", "audit.validation_result", "mart.publication",
    "mart.publication_row", "audit.publication_log",
)  # fmt: skip


# -- the sample and the rounds -------------------------------------------------------------------------------


HEADER = "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"
MIXED = [  # a later report of 82.08: two good rows, an exact repeat, a bad NIP, an ambiguous instansi
    "82.08,901/PL/KK/2024,2024-11-20,PILKADA-2024,Kemenag,199001012015031001,Ani Lestari,pelaksana,lainnya,diproses",
    "82.08,901/PL/KK/2024,2024-11-20,PILKADA-2024,Kemenag,199001012015031001,Ani Lestari,pelaksana,lainnya,diproses",
    "82.08,902/PL/KK/2024,2024-11-21,PILKADA-2024,Pemkab Halsel,19900101201503100,Budi,pelaksana,lainnya,diproses",
    "82.08,903/PL/KK/2024,2024-11-22,PILKADA-2024,Bima,,,pelaksana,lainnya,diproses",
    "82.08,904/PL/KK/2024,2024-11-22,PILKADA-2024,Pemkab Halsel,,,pelaksana,lainnya,sanksi",
]


def sample_source(folder: Path) -> Path:
    """The generator's full sample, written once into `folder`, plus two files of round 2 with what real
    drops also hold: quarantined rows and a repeat (82.08), and an empty file that is rejected whole (82.71).
    The rounds copy their files from it."""
    if not (folder / "case-reports").exists():
        from datetime import datetime

        from include.netralitas.sample.generator import generate_sample
        from include.netralitas.weeks import WIB

        generate_sample(folder)
        extra = {"82.08_20241127.csv": ("\n".join([HEADER, *MIXED]) + "\n").encode(), "82.71_20241128.csv": b""}
        for day, (name, content) in enumerate(extra.items(), start=27):
            path = folder / "case-reports" / name
            path.write_bytes(content)
            moment = datetime(2024, 11, day, 9, tzinfo=WIB).timestamp()
            os.utime(path, (moment, moment))
    return folder


def round_files(source: Path) -> tuple[list[Path], list[Path]]:
    """(round 1, round 2) files of province 82: the release and the first offices, then the rest."""
    cases = sorted(p for p in (source / "case-reports").iterdir() if p.name.split("_")[0].split(".")[0] == PROVINCE)
    first = [p for p in cases if p.name < "82.05"]
    releases = sorted((source / "national-releases").iterdir())
    return [*first, *releases], [p for p in cases if p not in first]


def settings_for(var_dir: Path, url: str) -> Settings:
    """The settings of get_settings() for a var folder and a warehouse, without touching the environment."""
    from include.netralitas.settings import Settings

    return Settings(
        var_dir=var_dir, drop_dir=var_dir / "drop", landing_dir=var_dir / "landing", publish_dir=var_dir / "publish",
        warehouse_url=url, hmac_key_file=var_dir / "secrets" / "hmac.key", aliases_file=None, gx_dir=var_dir / "gx",
        office_endpoints=None,
    )  # fmt: skip


def drop(settings: Settings, files: list[Path]) -> list[Path]:
    """Copy `files` into the drop folders (modification times kept: they order the batches)."""
    dropped = []
    for path in files:
        is_release = path.parent.name == "national-releases"
        folder = settings.national_release_drop if is_release else settings.case_report_drop
        folder.mkdir(parents=True, exist_ok=True)
        dropped.append(Path(shutil.copy2(path, folder / path.name)))
    return dropped


def ingest(wh: Warehouse, settings: Settings) -> list:
    from include.netralitas.ingest.pipeline import ingest_case_reports, ingest_national_releases

    return ingest_case_reports(wh, settings, KEY) + ingest_national_releases(wh, settings)


def build(wh: Warehouse) -> dict[str, int]:
    from include.netralitas.warehouse.build import build_warehouse

    return build_warehouse(wh)


def publish(wh: Warehouse, settings: Settings, week: str):
    from include.netralitas.publish.publication import publish_week
    from include.netralitas.weeks import IsoWeek

    return publish_week(wh, settings.publish_dir, IsoWeek.parse(week))


def round_1(wh: Warehouse, settings: Settings, source: Path) -> None:
    drop(settings, round_files(source)[0])
    ingest(wh, settings)
    build(wh)
    publish(wh, settings, WEEK_1)


def finish_round_2(wh: Warehouse, settings: Settings) -> list:
    """Round 2 from wherever it stopped: what a re-run (or the tasks' retries) does. Returns the ingestion's
    batch results."""
    results = ingest(wh, settings)
    build(wh)
    publish(wh, settings, WEEK_2)
    return results


# -- the state compared with a clean run ---------------------------------------------------------------------


def counts(wh: Warehouse) -> dict[str, int]:
    with wh.session() as conn:
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in COUNTED}


def consistency(wh: Warehouse) -> list[str]:
    """Nothing duplicated, nothing orphaned: every staged row belongs to a recorded batch, each batch staged
    exactly its rows_loaded, no case twice in core, every merged batch recorded."""
    problems = []
    with wh.session() as conn:
        staged = {}
        for table in ("staging.case_report", "staging.national_release_row"):  # constants, never input
            staged.update(conn.execute(text(f"SELECT batch_id, COUNT(*) FROM {table} GROUP BY 1")).all())
        loaded = dict(conn.execute(text("SELECT batch_id, rows_loaded FROM landing.batch")).all())
        cases = conn.execute(
            text("SELECT COUNT(*) - COUNT(DISTINCT kode_kantor || '/' || nomor_kasus) FROM core.case_current")
        ).scalar_one()
        merged = set(conn.execute(text("SELECT batch_id FROM core.merged_batch")).scalars())
        critical = "SELECT batch_id, COUNT(DISTINCT baris) FROM audit.quarantine WHERE tingkat = 'critical'"
        quarantined = dict(conn.execute(text(f"{critical} GROUP BY 1")).all())
        batches = conn.execute(text("SELECT batch_id, rows_quarantined, status FROM landing.batch")).all()
    problems += [f"staged rows of an unrecorded batch {b}" for b in staged if b not in loaded]
    for batch, n in loaded.items():
        if staged.get(batch, 0) != n:
            problems.append(f"batch {batch}: {staged.get(batch, 0)} staged, {n} loaded")
    problems += [f"{cases} case(s) twice in core.case_current"] if cases else []
    problems += [f"merged batch {b} not in landing.batch" for b in merged if b not in loaded]
    problems += [
        f"batch {b}: {quarantined.get(b, 0)} quarantined row(s) recorded, {n} counted"
        for b, n, status in batches
        if status == "loaded" and quarantined.get(b, 0) != n
    ]
    return problems


def tree(folder: Path, *, hidden: bool = False) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under `folder` (hidden ones, whose name starts with a dot,
    only with `hidden`; symlinks followed, so a published week is listed under its name)."""
    if not folder.exists():
        return {}
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or (not hidden and any(part.startswith(".") for part in relative.parts)):
            continue
        files[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def landing_intact(settings: Settings) -> list[str]:
    """Every landed file holds exactly the content its name promises (no half-written file under its name)."""
    bad = []
    for relative in tree(settings.landing_dir):
        path = settings.landing_dir / relative
        if path.name.endswith(".meta.json"):
            continue  # a sidecar is stored under its data file's name
        stem = path.name.split(".")[0]
        sidecar = path.with_name(f"{stem}.meta.json")
        if sidecar.exists():  # a data file with a sidecar is stored under its batch's hash (office, data, sidecar)
            from include.netralitas.landing.zone import content_hash

            if content_hash(b"", path.read_bytes(), sidecar.read_bytes()) != stem:
                bad.append(relative)
        elif hashlib.sha256(path.read_bytes()).hexdigest() != stem:
            bad.append(relative)
    return bad


def gx_problems(settings: Settings) -> list[str]:
    """What is wrong with the GX project: a run's mark left, a store file that does not parse, a Data Docs page
    that is not whole, a stored validation result without its page."""
    root = settings.gx_dir / "gx"
    validations, site = root / "uncommitted" / "validations", root / "uncommitted" / "data_docs" / "local_site"
    problems = [".run-in-progress left"] if (settings.gx_dir / ".run-in-progress").exists() else []
    for store in ("expectations", "validation_definitions", "checkpoints", "uncommitted/validations"):
        for path in sorted((root / store).rglob("*.json")):
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                problems.append(f"{path.relative_to(root)} does not parse")
    for page in sorted(site.rglob("*.html")):
        if not page.read_text(encoding="utf-8").rstrip().endswith("</html>"):
            problems.append(f"{page.relative_to(root)} is not whole")
    for result in sorted(validations.rglob("*.json")):
        if not (site / "validations" / result.relative_to(validations)).with_suffix(".html").exists():
            problems.append(f"no Data Docs page for {result.relative_to(root)}")
    return problems


def state(wh: Warehouse, settings: Settings) -> dict:
    """What a clean run and a run that survived a fault must share."""
    published = {
        week: (settings.publish_dir / week / "ranking.csv").read_text()
        for week in (WEEK_1, WEEK_2)
        if (settings.publish_dir / week / "ranking.csv").exists()
    }
    latest = settings.publish_dir / "latest"
    return {
        "counts": counts(wh),
        "consistency": consistency(wh),
        "drop folder": sorted(tree(settings.drop_dir)),
        "landing zone": tree(settings.landing_dir),
        "published ranking.csv": published,
        "week files": {w: sorted(tree(settings.publish_dir / w)) for w in published},
        "latest": os.readlink(latest) if latest.is_symlink() else None,
    }


def describe(observed: dict) -> str:
    """A short line of the final state for the reliability report."""
    c = observed["counts"]
    return (
        f"batches {c['landing.batch']}, staged {c['staging.case_report']}, core cases {c['core.case_current']}, "
        f"quarantined {c['audit.quarantine']}, weeks {len(observed['published ranking.csv'])}"
    )


# -- the child process ----------------------------------------------------------------------------------------


class Child:
    """`python -m tests.reliability.harness` in a subprocess, with a pipe it signals on and one it waits on."""

    def __init__(self, operation: str, hooks: list[str], env: dict[str, str], rows_per_validation: int = 0) -> None:
        self.signal_r, signal_w = os.pipe()
        wait_r, self.wait_w = os.pipe()
        # Output goes to files, not pipes: a child blocked on a full pipe would never reach its hook.
        self.out, self.err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")  # noqa: SIM115 closed by wait()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.harness", operation, *[f"--hook={h}" for h in hooks],
             "--signal-fd", str(signal_w), "--wait-fd", str(wait_r),
             *([f"--rows-per-validation={rows_per_validation}"] if rows_per_validation else [])],
            cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, pass_fds=(signal_w, wait_r),
            stdout=self.out, stderr=self.err,
        )  # fmt: skip
        os.close(signal_w)
        os.close(wait_r)

    def reached_hook(self) -> bool:
        """Block until the child reaches its hook (True) or exits without reaching it (False)."""
        return os.read(self.signal_r, 1) == b"R"

    def kill(self) -> int:
        import signal

        os.kill(self.process.pid, signal.SIGKILL)
        return self.wait()[0]

    def release(self) -> None:
        os.write(self.wait_w, b"G")

    def wait(self) -> tuple[int, str, str]:
        """(return code, stdout, the end of stderr) once the child has ended."""
        self.process.wait()
        for fd in (self.signal_r, self.wait_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        output = []
        for handle in (self.out, self.err):
            handle.seek(0)
            output.append(handle.read())
            handle.close()
        return self.process.returncode, output[0], output[1][-3000:]


def _install(spec: str, signal_fd: int, wait_fd: int) -> None:
    """`module|Attr.path|when|nth|contains|action` (see `hook`): on the n-th call whose string arguments contain
    `contains`, `before` or `after` the call, or when it `raise`s, signal; then `pause` or carry on. `contains`
    may join several parts with `&`, each found in some argument; a part `=text` must equal one."""
    target, attribute, when, nth, contains, action = spec.split("|")
    owner = importlib.import_module(target)
    *parents, name = attribute.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    if not parents and not hasattr(owner, name) and hasattr(builtins, name):
        original = getattr(builtins, name)  # a builtin as the module sees it: shadowed in the module alone
    else:
        original = getattr(owner, name)
    seen = 0

    def reached() -> None:
        os.write(signal_fd, b"R")
        if action == "pause" and not os.read(wait_fd, 1):  # blocks: the parent kills us here, or lets us go on
            raise SystemExit("the parent went away")

    def found(part: str, args: tuple) -> bool:
        texts = [str(a) for a in args if isinstance(a, str | Path)]
        return part[1:] in texts if part.startswith("=") else any(part in t for t in texts)

    def matching(args: tuple) -> bool:
        nonlocal seen
        if contains and not all(found(part, args) for part in contains.split("&")):
            return False
        seen += 1
        return seen == int(nth)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        hit = matching(args)
        if hit and when == "before":
            reached()
        try:
            result = original(*args, **kwargs)
        except Exception:
            if hit and when == "raise":
                reached()
            raise
        if hit and when == "after":
            reached()
        return result

    setattr(owner, name, wrapper)


# Round 2's ten case reports (1 to 11 rows each) read, validated and committed in chunks of a few batches, as
# a large drop is (pipeline.ROWS_PER_VALIDATION): 82.05's two files, then 82.06, 82.07 and 82.08's first, ...
# so that a kill or a lost connection strikes one chunk's transaction after another chunk committed.
ROUND_2_ROWS_PER_VALIDATION = 4


def hook(target: str, when: str, nth: int = 1, contains: str = "", action: str = "pause") -> str:
    """A hook spec for the child: e.g. hook("include.netralitas.ingest.pipeline:_finish", "before", 2), or the first
    write of a file: hook("some.module:open", "after", 1, contains="name.json&=wb")."""
    module, attribute = target.split(":")
    return "|".join([module, attribute, when, str(nth), contains, action])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("operation", choices=["ingest", "build", "publish"])
    parser.add_argument("--hook", action="append", default=[])
    parser.add_argument("--signal-fd", type=int, required=True)
    parser.add_argument("--wait-fd", type=int, required=True)
    parser.add_argument("--rows-per-validation", type=int, default=0)
    args = parser.parse_args(argv)
    if args.rows_per_validation:
        from include.netralitas.ingest import pipeline

        pipeline.ROWS_PER_VALIDATION = args.rows_per_validation

    from include.netralitas.settings import get_settings
    from include.netralitas.warehouse.database import Warehouse

    settings = get_settings()
    wh = Warehouse(settings.warehouse_url)
    for spec in args.hook:
        _install(spec, args.signal_fd, args.wait_fd)
    if args.operation == "ingest":
        outcome = [r.summary() for r in ingest(wh, settings)]
    elif args.operation == "build":
        outcome = build(wh)
    else:
        outcome = str(publish(wh, settings, WEEK_2).folder)
    print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
