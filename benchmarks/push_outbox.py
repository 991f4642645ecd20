"""Benchmark: pushing 5,000 outbox actions to M3 and FreshBooks at 100 ms a round trip, in one run.

Both sandboxes run in a subprocess (``finsync sandbox --seed empty --faults latency_ms=100``: every API
response takes at least 100 ms, as a SaaS round trip would; FreshBooks keeps its 1,200 requests/minute
limit). The outbox gets 5,000 actions planned straight into the ledger (the planner is not measured):

- 1,000 ``m3.customer.add`` (CRS610MI/Add) and 1,000 ``m3.gl.add`` (GLS840MI head, debit, credit, post:
  4,000 transactions), so 5,000 M3 transactions;
- 3,000 ``freshbooks.client.create`` (one POST each): enough to run well past the first minute, since the
  limiter may spend a whole minute's quota at once and a shorter run would overstate the rate.

One ``Pusher`` (this process) pushes both lanes side by side, as ``finsync push`` does. Figures:

- M3: time for the 2,000 M3 actions through bulk calls (100 transactions a POST), against the baseline of
  one call per transaction (the same pusher with ``bulk_size=1``, so each transaction is its own POST, 8
  in flight as the client allows) on a window of ``--baseline`` actions of the same mix, per action;
  target >= 10x;
- FreshBooks: writes per minute over the FreshBooks lane against the 1,200/minute limit (target >= 90 %),
  and the 429s the sandbox sent (target 0). The pair's client quota is set to that limit
  (``freshbooks_limits.requests_per_minute: 1200``; finsync's default is a cautious 300/minute, since
  FreshBooks publishes none);
- the pusher's peak RSS (this process's ``ru_maxrss``; the sandboxes are another process).

Run: ``.venv/bin/python benchmarks/push_outbox.py [--m3 2000] [--freshbooks 3000] [--baseline 400]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.ledger import Ledger, PlannedAction, State, utcnow
from finsync_dagster.push import Pusher
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.settings import load_settings
from finsync_dagster.writeback import kind

PAIR = "sandbox"
LATENCY_MS = 100
FRESHBOOKS_LIMIT = 1200


def start_sandboxes(directory: Path) -> subprocess.Popen[bytes]:
    finsync = Path(sys.executable).with_name("finsync")
    command = [str(finsync), "sandbox", "--only", "freshbooks", "--only", "infor", "--seed", "empty",
               "--faults", f"latency_ms={LATENCY_MS}", "--dir", str(directory)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while not (directory / "sandbox.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stderr = process.stderr.read().decode() if process.stderr else ""
            process.kill()
            raise SystemExit(f"the sandboxes did not start:\n{stderr}")
        time.sleep(0.1)
    return process


def planned(name: str, source_id: str, payload: dict[str, Any], stamp: str) -> PlannedAction:
    what = kind(name)
    return PlannedAction(
        pair=PAIR, action=name, target=what.target, entity=what.entity, source_system=what.source_system,
        source_id=source_id, source_version="1", payload=payload, stamp=stamp, versioned=what.versioned,
    )  # fmt: skip


def actions(m3: int, freshbooks: int, offset: int = 0) -> list[PlannedAction]:
    """Half the M3 actions customers, half GL batches; the FreshBooks ones client creates."""
    made = []
    for n in range(offset, offset + m3 // 2):
        cuno = f"FB{n:07d}"
        made.append(planned("m3.customer.add", str(n), {"CUNO": cuno, "CUNM": f"Bench customer {n}",
                                                        "CUTM": "TSTD", "STAT": "20", "CUA1": f"{n} Bench Road",
                                                        "TOWN": "Springfield"}, cuno))  # fmt: skip
        debit = f"AIT1=4000;CUAM={n % 997 + 1}.{n % 100:02d};ACDT=20261001;VTXT=Bench {n}"
        made.append(planned("m3.gl.add", str(n), {"debit": debit, "offset_account": "1100",
                                                  "interface": "FINSYNC", "company": "100"}, f"FBE{n}"))  # fmt: skip
    for n in range(offset, offset + freshbooks):
        stamp = f"finsync M3 customer BENCH{n}"
        made.append(planned("freshbooks.client.create", f"BENCH{n}",
                            {"organization": f"Bench client {n}", "note": stamp}, stamp))  # fmt: skip
    return made


def push(settings: Any, ledger: Ledger, targets: list[str], **infor: Any) -> float:
    clients = PairClients.of(settings)
    config = settings.pair(PAIR)
    openers = {"infor": lambda: clients.infor(PAIR, **infor), "freshbooks": lambda: clients.freshbooks(PAIR)}
    started = time.monotonic()
    report = Pusher(ledger, PAIR, config.write_back, openers, company=config.infor.company).run(targets)
    assert not report.errors, report.errors
    return time.monotonic() - started


def lane_seconds(ledger: Ledger, target: str, since: datetime) -> tuple[float, int]:
    """From the push's start to the lane's last done action, and how many it finished."""
    done = [a for a in ledger.actions(pair=PAIR, states=[State.DONE]) if a.target == target and a.done_at]
    done = [a for a in done if a.done_at and a.done_at >= since]
    if not done:
        left = [a for a in ledger.actions(pair=PAIR) if a.target == target and a.state != State.DONE]
        raise SystemExit(f"nothing done on {target}: {[(a.state, a.last_error) for a in left[:3]]}")
    last = max(a.done_at for a in done if a.done_at)
    return (last - since).total_seconds(), len(done)


def max_in_window(times: list[float], seconds: float) -> int:
    """The most events in any window of ``seconds`` (times sorted)."""
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] > seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--m3", type=int, default=2000)
    parser.add_argument("--freshbooks", type=int, default=3000)
    parser.add_argument(
        "--baseline", type=int, default=400, help="M3 actions pushed one call per transaction"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="push-bench-") as tmp:
        home = Path(tmp)
        sandbox_dir = home / "sandbox"
        sandbox_dir.mkdir()
        sandboxes = start_sandboxes(sandbox_dir)
        try:
            os.environ.update(FINSYNC_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
            os.environ.pop("FINSYNC_LEDGER_URL", None)
            (home / "dagster").mkdir()
            config = home / "finsync.yaml"
            config.write_text(
                f"version: 1\npairs:\n  - name: {PAIR}\n    sandbox_dir: {sandbox_dir}\n"
                f"    freshbooks_limits:\n      requests_per_minute: {FRESHBOOKS_LIMIT}\n",
                encoding="utf-8",
            )
            for system in ("freshbooks", "infor"):
                result = CliRunner().invoke(
                    cli, ["--config", str(config), "connect", system, "--sandbox", str(sandbox_dir)]
                )
                assert result.exit_code == 0, result.output
            settings = load_settings(config)
            ledger = Ledger(settings.ledger_url)
            ledger.migrate()
            ledger.plan(actions(args.m3, args.freshbooks), planned_by="benchmark")
            total = args.m3 + args.freshbooks
            print(f"{total:,} actions planned: {args.m3:,} M3 ({args.m3 // 2:,} customers, {args.m3 // 2:,} GL "
                  f"batches), {args.freshbooks:,} FreshBooks clients; {LATENCY_MS} ms per round trip")  # fmt: skip

            since = utcnow()
            wall = push(settings, ledger, ["infor", "freshbooks"])
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            m3_seconds, m3_done = lane_seconds(ledger, "infor", since)
            fb_seconds, fb_done = lane_seconds(ledger, "freshbooks", since)
            fb_times = sorted(
                row["at"].timestamp()
                for row in ledger.audit_rows(pair=PAIR, since=since)
                if row["target"] == "freshbooks" and row["outcome"] == "applied"
            )
            fb_writes = len(fb_times)
            fb_busiest_minute = max_in_window(fb_times, 60.0)
            info = json.loads((sandbox_dir / "sandbox.json").read_text())
            fb_settings = httpx.get(f"{info['freshbooks']['control_url']}/settings", timeout=10).json()
            assert m3_done == args.m3 and fb_done == args.freshbooks, (m3_done, fb_done)

            baseline_since = utcnow()
            ledger.plan(actions(args.baseline, 0, offset=1_000_000), planned_by="benchmark baseline")
            push(settings, ledger, ["infor"], bulk_size=1)
            base_seconds, base_done = lane_seconds(ledger, "infor", baseline_since)
            assert base_done == args.baseline, base_done
        finally:
            sandboxes.terminate()
            sandboxes.wait(timeout=30)

    bulk_rate = m3_done / m3_seconds
    base_rate = base_done / base_seconds
    fb_per_minute = fb_writes / fb_seconds * 60
    print(f"push wall time (both lanes): {wall:.1f} s")
    print(f"M3 bulk (100 per POST): {m3_done:,} actions in {m3_seconds:.1f} s = {bulk_rate:.1f} actions/s")
    print(f"M3 one call per transaction (bulk_size=1, baseline): {base_done:,} actions in {base_seconds:.1f} s "
          f"= {base_rate:.1f} actions/s")  # fmt: skip
    print(f"  ratio bulk / one-per-transaction: {bulk_rate / base_rate:.1f}x (target >= 10x)")
    print(f"FreshBooks: {fb_writes:,} writes in {fb_seconds:.1f} s = {fb_per_minute:.0f}/min, "
          f"{fb_per_minute / FRESHBOOKS_LIMIT:.0%} of the {FRESHBOOKS_LIMIT}/min limit (target >= 90 %); "
          f"429s from the sandbox: {fb_settings.get('rate_limited')} (target 0); busiest 60 s: {fb_busiest_minute}")  # fmt: skip
    print(f"pusher peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
