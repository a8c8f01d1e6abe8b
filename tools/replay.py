"""Replay the quarantined rows of a batch after a fix, e.g. an alias added to the mappings file.

    python tools/replay.py BATCH_ID [BATCH_ID ...]

Uses the same configuration as the DAGs (NETRALITAS_* variables; the key from NETRALITAS_HMAC_KEY or the key
file). Find batch ids with quarantined rows in `landing.batch` (rows_quarantined > 0) and the reasons in
`audit.quarantine`. Exits non-zero when a batch cannot be replayed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from include.netralitas.ingest.pipeline import replay_batches  # noqa: E402
from include.netralitas.settings import get_settings, hmac_key  # noqa: E402
from include.netralitas.warehouse.database import Warehouse  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("batch_ids", nargs="+", help="batch ids (landing.batch.batch_id)")
    parser.add_argument("--run-id", default="manual-replay", help="recorded in audit.replay")
    args = parser.parse_args(argv)
    settings = get_settings()
    _, refused = replay_batches(
        Warehouse(settings.warehouse_url), settings, args.batch_ids, hmac_key(settings), run_id=args.run_id,
        report=print,
    )  # fmt: skip
    for batch_id, reason in refused.items():
        print(f"{batch_id}: not replayed: {reason}", file=sys.stderr)
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
