"""``python -m finsync_dagster.push --pair P``: one more pusher for a pair, outside Dagster.

It pushes the pair's outbox as the push assets do (same ``Pusher``, same claims, same ``write_back``
knobs from ``finsync.yaml``) but plans nothing and takes no pair lock, so several can run side by side:
extra workers for a long backlog, and the chaos test's processes to kill and stall. It prints the push
report as one JSON object and exits 0 once nothing is due within ``--settle`` seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from finsync_dagster.push.runner import TARGETS, Pusher
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.settings import load_settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finsync_dagster.push", description=__doc__)
    parser.add_argument("--config", help="finsync.yaml (default: $FINSYNC_CONFIG or ./finsync.yaml)")
    parser.add_argument("--pair", required=True)
    parser.add_argument("--target", choices=TARGETS, action="append", help="only this system (repeatable)")
    parser.add_argument(
        "--settle", type=float, default=30.0, help="wait for retries due within this many seconds"
    )
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    config = settings.pair(args.pair)
    clients = PairClients.of(settings)
    openers = {"infor": lambda: clients.infor(args.pair), "freshbooks": lambda: clients.freshbooks(args.pair)}
    pusher = Pusher(
        clients.get_ledger(),
        args.pair,
        config.write_back,
        openers,
        company=config.infor.company if config.infor is not None else "",
        settle_seconds=args.settle,
        lease_seconds=config.write_back.lease_seconds,
        hang_seconds=config.write_back.hang_seconds,
    )
    report = pusher.run(args.target or TARGETS)
    json.dump(report.as_dict(), sys.stdout)
    sys.stdout.write("\n")
    return 0
