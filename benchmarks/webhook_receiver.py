"""The webhook receiver's durable throughput: group commit against one commit per request, in the same run.

`finsync webhooks serve` runs in its own process on a fresh SQLite ledger with the durable setting it
always uses (``synchronous=FULL`` in WAL mode: every commit is synced before any 200). This process is
the load generator (``finsync_dagster.sandbox.webhook_flood``: asyncio, raw HTTP/1.1 over keep-alive
connections, at most ``--concurrency`` requests in flight, like ``wrk -c50``); it sends distinct
FreshBooks deliveries signed with a verified callback's verifier. Each mode gets a warm-up, then
``--deliveries`` timed requests; every answer must be 200 and every delivery must be in the inbox
afterwards. The CPU time the receiver and the sender spent per request is printed too: unlike req/s, it
does not depend on what else the machine runs. The baseline is the same receiver started with ``--max-batch 1``: one transaction, one sync,
per request. Modes alternate over ``--rounds`` so a change in the machine's load hits both; the load
average is printed, since the two cores are shared.

    .venv/bin/python benchmarks/webhook_receiver.py [--deliveries 20000] [--concurrency 50] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet

from finsync_dagster.ledger import Ledger
from finsync_dagster.sandbox.webhook_flood import FloodResult, flood, freshbooks_request

PAIR = "bench"
ACCOUNT = "BENCH1"
VERIFIER = "benchmark-verifier"
CONFIG = f"""\
version: 1
pairs:
  - name: {PAIR}
    freshbooks: {{account_id: {ACCOUNT}}}
    infor: {{company: "100", ionapi_env: BENCH_IONAPI}}
"""
MODES = {"group commit": 500, "commit per request": 1}


@dataclass
class Outcome:
    mode: str
    result: FloodResult
    stored: int
    mean_batch: float
    load: tuple[float, float, float]
    receiver_cpu: float  # CPU seconds the receiver process spent during the timed flood
    sender_cpu: float

    @property
    def rate(self) -> float:
        return len(self.result.statuses) / self.result.elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    print(
        f"{args.deliveries} deliveries per mode and round, concurrency {args.concurrency}, {os.cpu_count()} cores"
    )
    outcomes: dict[str, list[Outcome]] = {mode: [] for mode in MODES}
    for round_number in range(1, args.rounds + 1):
        order = list(MODES) if round_number % 2 else list(reversed(MODES))
        for mode in order:
            outcome = run_mode(mode, MODES[mode], args)
            outcomes[mode].append(outcome)
            print(line(f"round {round_number}, {mode}", outcome))
    print()
    summary = {mode: max(runs, key=lambda o: o.rate) for mode, runs in outcomes.items()}
    for mode, best in summary.items():
        print(line(f"best of {args.rounds}, {mode}", best))
    group = statistics.median(o.rate for o in outcomes["group commit"])
    single = statistics.median(o.rate for o in outcomes["commit per request"])
    print(
        f"\nmedian req/s: group commit {group:,.0f} (target >= 1,000), per request {single:,.0f}; "
        f"ratio {group / single:.2f}x (target >= 1.3x)"
    )


def line(label: str, outcome: Outcome) -> str:
    result = outcome.result
    load = "/".join(f"{value:.1f}" for value in outcome.load)
    return (
        f"{label:<34} {outcome.rate:7,.0f} req/s  p50 {result.percentile(0.50) * 1000:6.1f} ms  "
        f"p99 {result.percentile(0.99) * 1000:6.1f} ms  mean batch {outcome.mean_batch:5.1f}  "
        f"CPU/req receiver {outcome.receiver_cpu / len(result.statuses) * 1e6:4.0f} us "
        f"sender {outcome.sender_cpu / len(result.statuses) * 1e6:4.0f} us  load {load}"
    )


def run_mode(mode: str, max_batch: int, args: argparse.Namespace) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp:
        directory = Path(tmp)
        (directory / "finsync.yaml").write_text(CONFIG, encoding="utf-8")
        ledger_url = f"sqlite:///{directory / 'home' / 'ledger.sqlite'}"
        key = Fernet.generate_key().decode()
        seed(ledger_url, key)
        port = free_port()
        receiver = start_receiver(directory, ledger_url, key, port, max_batch)
        try:
            base = f"http://127.0.0.1:{port}"
            durability = wait_healthy(base, receiver)
            if durability != "sqlite synchronous=FULL, journal_mode=wal":
                raise SystemExit(f"the receiver is not in the durable setting: {durability}")
            total = args.warmup + args.deliveries
            requests = [
                freshbooks_request(
                    "127.0.0.1",
                    port,
                    f"/webhooks/freshbooks/{PAIR}",
                    [
                        ("name", "invoice.update"),
                        ("object_id", str(n)),
                        ("account_id", ACCOUNT),
                        ("business_id", "1"),
                        ("identity_id", "1"),
                        ("user_id", "1"),
                    ],
                    VERIFIER,
                )
                for n in range(total)
            ]
            run(asyncio_flood("127.0.0.1", port, requests[: args.warmup], args.concurrency))
            before = os.getloadavg()
            cpu_before, own_before = process_cpu(receiver.pid), time.process_time()
            result = run(asyncio_flood("127.0.0.1", port, requests[args.warmup :], args.concurrency))
            receiver_cpu = process_cpu(receiver.pid) - cpu_before
            sender_cpu = time.process_time() - own_before
            after = os.getloadavg()
            refused = [s for s in result.statuses if s != 200]
            if refused:
                raise SystemExit(
                    f"{mode}: {len(refused)} deliveries not answered 200: {sorted({str(s) for s in refused})}"
                )
            mean_batch = batch_mean(base)
        finally:
            receiver.send_signal(signal.SIGTERM)
            receiver.wait(60)
        stored = count_inbox(ledger_url)
        if stored != total:
            raise SystemExit(f"{mode}: {stored} deliveries in the inbox, {total} answered 200")
        load = (max(before[0], after[0]), after[1], after[2])
        return Outcome(mode, result, stored, mean_batch, load, receiver_cpu, sender_cpu)


async def asyncio_flood(host: str, port: int, requests: list[bytes], concurrency: int) -> FloodResult:
    return await flood(host, port, requests, concurrency=concurrency)


def run(coroutine: Coroutine[Any, Any, FloodResult]) -> FloodResult:
    """On uvloop when installed (uvicorn's own extra), so the sender costs as little CPU as it can."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def seed(ledger_url: str, key: str) -> None:
    """A callback as `finsync webhooks register` and its handshake leave it: recorded and verified."""
    ledger = Ledger(ledger_url, token_key=key)
    ledger.migrate()
    ledger.record_callback(pair=PAIR, system="freshbooks", callback_id="1", event="invoice", url="bench")
    ledger.mark_callback_verified(pair=PAIR, system="freshbooks", callback_id="1", secret=VERIFIER)
    ledger.engine.dispose()


def start_receiver(
    directory: Path, ledger_url: str, key: str, port: int, max_batch: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FINSYNC_HOME": str(directory / "home"),
        "FINSYNC_LEDGER_URL": ledger_url,
        "FINSYNC_TOKEN_KEY": key,
        "PYTHONWARNINGS": "ignore",
    }
    command = [
        sys.executable, "-m", "finsync_dagster.cli", "--config", str(directory / "finsync.yaml"),
        "webhooks", "serve", "--port", str(port), "--max-batch", str(max_batch),
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def wait_healthy(base: str, receiver: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if receiver.poll() is not None:
            raise SystemExit("the receiver exited")
        try:
            answer = httpx.get(f"{base}/healthz", timeout=1)
            if answer.status_code == 200:
                return str(answer.json()["ledger"])
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the receiver did not come up")


def batch_mean(base: str) -> float:
    values: dict[str, float] = {}
    for text in httpx.get(f"{base}/metrics").text.splitlines():
        if text.startswith("finsync_inbox_batch_size_"):
            name, _, value = text.rpartition(" ")
            values[name] = float(value)
    count = values.get("finsync_inbox_batch_size_count", 0.0)
    return values.get("finsync_inbox_batch_size_sum", 0.0) / count if count else 0.0


def count_inbox(ledger_url: str) -> int:
    engine = sa.create_engine(ledger_url)
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM inbox")).scalar()
    engine.dispose()
    return int(count or 0)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux ``/proc``): a cost the machine's load does not inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
