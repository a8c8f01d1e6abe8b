"""Publish one ISO week from the warehouse as it stands, without Airflow: what the task of
publish_weekly_ranking does (`include.netralitas.publish.publication.publish_week`), for one week given by hand.

    python tools/publish.py --week 2024-W47                       # a week never published: freeze and publish
    python tools/publish.py --week 2024-W48                       # published already: re-render its snapshot
    python tools/publish.py --week 2024-W48 --force-reason TEXT   # compute it anew, recorded with the reason

Nothing is ingested or merged first (run the chain for that: make run WEEK=...). Uses the same configuration
as the DAGs (NETRALITAS_*). Exits non-zero on an error; a week folder appears complete or not at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from include.netralitas.publish.publication import publish_week  # noqa: E402
from include.netralitas.settings import get_settings  # noqa: E402
from include.netralitas.warehouse.database import Warehouse  # noqa: E402
from include.netralitas.weeks import IsoWeek  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--week", required=True, help="ISO week YYYY-Www, e.g. 2024-W48")
    parser.add_argument("--force-reason", help="re-publish a published week, recorded in audit.publication_log")
    args = parser.parse_args(argv)
    try:
        week = IsoWeek.parse(args.week)
    except ValueError as exc:
        parser.error(str(exc))
    if args.force_reason is not None and not args.force_reason.strip():
        parser.error("--force-reason needs a reason (it is recorded and shown with the week)")
    settings = get_settings()
    result = publish_week(
        Warehouse(settings.warehouse_url),
        settings.publish_dir,
        week,
        force_reason=args.force_reason.strip() if args.force_reason else None,
    )
    how = "re-rendered from its frozen snapshot" if result.reused_snapshot else "frozen and published"
    print(f"{result.week}: {result.rows} rows, {how}")
    print(f"  ranking.csv: {result.ranking_csv}")
    print(f"  index.html:  {result.index_html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
