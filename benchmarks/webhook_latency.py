"""Webhook -> M3 write latency with `finsync serve` running (daemon, sensors, receiver), per event.

The sandboxes run in a subprocess with ``latency_ms`` added to every response; ``finsync serve --sandbox``
registers the FreshBooks callbacks. The benchmark creates ``--events`` FreshBooks clients through the API,
evenly over ``--minutes``; each creation makes the sandbox post ``client.create`` to the receiver, and the
inbox sensor's event sync writes the client to M3 (CRS610MI/Add). Per event it measures

- received -> written: the inbox row's ``received_at`` to the M3 write's ``done_at`` (the issue's figure);
- created -> written: the API call returning to the write being done (what a user sees).

Targets (issue 15): p95 <= 15 s, p50 <= 5 s. The baseline named there is polling: Workato's pollers run
every 5 minutes (Zapier every 1-15), so a change waits 150 s on average before a 5-minute poll even sees it;
the ratio printed is that wait over finsync's p50 (the poll's own sync time comes on top, so it flatters
the baseline). Run: ``.venv/bin/python benchmarks/webhook_latency.py [--events 200 --minutes 10]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from finsync_dagster.ledger import Ledger, State
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.settings import load_settings

PAIR = "sandbox"
POLL_BASELINE_WAIT = 150.0  # seconds: the mean wait for a 5-minute poll


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--poll-interval", type=int, default=300)
    parser.add_argument(
        "--settle-minutes", type=float, default=15.0, help="how long to wait after the last event"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="finsync-latency-"))
    home, sandbox = root / "home", root / "sandbox"
    env = {**os.environ, "FINSYNC_HOME": str(home), "FINSYNC_LEDGER_URL": "", "PYTHONWARNINGS": "ignore"}
    env.pop("DAGSTER_HOME", None)
    env.pop("FINSYNC_CONFIG", None)
    finsync = [sys.executable, "-m", "finsync_dagster.cli"]
    sandboxes = subprocess.Popen(
        [*finsync, "sandbox", "--dir", str(sandbox), "--seed", "empty", "--faults", f"latency_ms={args.latency_ms}"],
        env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    serve = None
    try:
        _wait(lambda: (sandbox / "sandbox.json").exists(), 60, "sandboxes")
        with (root / "serve.log").open("wb") as log:
            serve = subprocess.Popen(
                [*finsync, "serve", "--sandbox", str(sandbox), "--port", "0", "--poll-interval", str(args.poll_interval)],
                env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait(lambda: (home / "serve.json").exists(), 400, "finsync serve")
        settings = load_settings(home / "serve" / "finsync.yaml", env={"FINSYNC_HOME": str(home)})
        ledger = Ledger(settings.ledger_url)
        created: dict[str, float] = {}
        gap = args.minutes * 60 / max(1, args.events)
        started = time.monotonic()
        with PairClients.of(settings).freshbooks(PAIR) as fb:
            for n in range(args.events):
                time.sleep(max(0.0, started + n * gap - time.monotonic()))
                client = fb.create("clients", _client(n))
                created[str(client["id"])] = time.time()
        print(
            f"{args.events} clients created over {(time.monotonic() - started) / 60:.1f} min; waiting for M3"
        )
        deadline = time.monotonic() + args.settle_minutes * 60
        done: dict[str, datetime] = {}
        while time.monotonic() < deadline and len(done) < len(created):
            done = {
                a.source_id: a.done_at
                for a in ledger.actions(pair=PAIR)
                if a.action == "m3.customer.add"
                and a.state == State.DONE
                and a.done_at
                and a.source_id in created
            }
            time.sleep(5)
        received = {row.object_id: row.received_at for row in reversed(ledger.inbox_after(0, limit=100_000))}
        to_written = [(done[i] - received[i]).total_seconds() for i in done if i in received]
        end_to_end = [done[i].timestamp() - created[i] for i in done]
        status = ledger.figures().latency_seconds.get(PAIR, [])
        _report(args, len(created), len(done), len(received), to_written, end_to_end, status)
    finally:
        if serve is not None and serve.poll() is None:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=120)
        os.killpg(sandboxes.pid, signal.SIGTERM)
        sandboxes.wait(timeout=30)
    print(f"(state kept in {root})")
    return 0


def _client(n: int) -> dict[str, str]:
    return {
        "organization": f"Latency Bench {n:04d} Ltd", "currency_code": "USD", "email": f"ap{n}@bench.example",
        "p_street": f"{n + 1} Bench Road", "p_city": "Toronto", "p_province": "ON", "p_code": "M5V 2T6",
        "p_country": "Canada",
    }  # fmt: skip


def _report(
    args: argparse.Namespace, events: int, written: int, announced: int,
    to_written: list[float], end_to_end: list[float], status: list[float],
) -> None:  # fmt: skip
    print(f"events {events}, announced (inbox rows) {announced}, written to M3 {written}")
    for name, values in (("received -> written", to_written), ("created -> written", end_to_end),
                         ("finsync status (webhook -> target)", status)):  # fmt: skip
        if values:
            print(f"{name}: p50 {_pct(values, 0.5):.1f} s, p95 {_pct(values, 0.95):.1f} s, "
                  f"max {max(values):.1f} s, mean {statistics.fmean(values):.1f} s (n={len(values)})")  # fmt: skip
    if to_written:
        p50 = _pct(to_written, 0.5)
        print(f"targets: p50 <= 5 s {'met' if p50 <= 5 else 'MISSED'}, p95 <= 15 s "
              f"{'met' if _pct(to_written, 0.95) <= 15 else 'MISSED'}")  # fmt: skip
        print(
            f"ratio vs a 5-minute poll's mean wait ({POLL_BASELINE_WAIT:.0f} s): {POLL_BASELINE_WAIT / p50:.2f}x"
        )
    print(
        json.dumps(
            {"events": events, "minutes": args.minutes, "latency_ms": args.latency_ms, "written": written}
        )
    )


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(share * len(ordered) + 0.999999) - 1))]


def _wait(probe: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start within {seconds:.0f} s")
        time.sleep(1)


if __name__ == "__main__":
    raise SystemExit(main())
