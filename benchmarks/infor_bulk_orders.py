"""Benchmark: 5,000 M3 customer orders with lines, through bulk calls and through one call per transaction.

Starts the Infor sandbox in a subprocess (``finsync sandbox --only infor --seed empty --faults
latency_ms=100``), so every gateway response takes at least 100 ms, as a SaaS round trip would. Each order
is ``OIS100MI/AddBatchHead``, ``AddBatchLine`` per line, then ``Confirm``, in three stages (a line needs
its head's temporary order number, a confirm needs the lines).

- bulk: each stage goes through ``M3Client.execute_bulk`` (100 transactions per POST);
- one per transaction: each stage goes through ``M3Client.execute_many`` (one GET per transaction).

At 100 ms a call, one-per-transaction for 15,000 calls would take 25 minutes serially, so BOTH methods run
with the same bounded concurrency (``--concurrency``, default 16 calls in flight). The ratio is the
speed-up of bulk over one-per-transaction; the target is at least 10x.

Run: ``.venv/bin/python benchmarks/infor_bulk_orders.py [--orders 5000] [--lines 2] [--concurrency 16]``
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.http_policy import HttpPolicy
from finsync_dagster.resources.infor import InforResource, M3Client, MiCall, MiOutcome

Runner = Callable[[M3Client, str, Sequence[MiCall]], list[MiOutcome]]


def start_sandbox(directory: Path) -> subprocess.Popen[bytes]:
    finsync = Path(sys.executable).with_name("finsync")
    command = [str(finsync), "sandbox", "--only", "infor", "--seed", "empty", "--faults", "latency_ms=100"]
    process = subprocess.Popen(
        [*command, "--dir", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while not (directory / "sandbox.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stderr = process.stderr.read().decode() if process.stderr else ""
            process.kill()
            raise SystemExit(f"the Infor sandbox did not start:\n{stderr}")
        time.sleep(0.1)
    return process


def bulk(m3: M3Client, program: str, calls: Sequence[MiCall]) -> list[MiOutcome]:
    return m3.execute_bulk(program=program, calls=calls)


def one_per_transaction(m3: M3Client, program: str, calls: Sequence[MiCall]) -> list[MiOutcome]:
    return m3.execute_many(program=program, calls=calls)


def add_orders(
    m3: M3Client, run: Runner, *, orders: int, lines: int, defaults: dict[str, Any], customer: str, tag: str
) -> tuple[float, int, int]:
    """Add, line and confirm ``orders`` orders; return seconds, calls sent, and confirmed orders."""
    started = time.perf_counter()
    heads = run(
        m3,
        "OIS100MI",
        [
            MiCall(
                "AddBatchHead",
                {
                    "CUNO": customer,
                    "ORTP": defaults["ORTP"],
                    "WHLO": defaults["WHLO"],
                    "CUOR": f"{tag}-{n:05d}",
                },
            )
            for n in range(orders)
        ],
    )
    _require_ok(heads, "AddBatchHead")
    numbers = [outcome.record["ORNO"] for outcome in heads]
    line_calls = [
        MiCall(
            "AddBatchLine",
            {"ORNO": orno, "ITNO": defaults["ITNO"], "ORQT": Decimal(1 + line), "WHLO": defaults["WHLO"]},
        )
        for orno in numbers
        for line in range(lines)
    ]
    _require_ok(run(m3, "OIS100MI", line_calls), "AddBatchLine")
    confirmed = run(m3, "OIS100MI", [MiCall("Confirm", {"ORNO": orno}) for orno in numbers])
    _require_ok(confirmed, "Confirm")
    elapsed = time.perf_counter() - started
    return elapsed, len(heads) + len(line_calls) + len(confirmed), len(confirmed)


def _require_ok(outcomes: list[MiOutcome], step: str) -> None:
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise SystemExit(f"{step}: {len(failed)} of {len(outcomes)} failed, first: {failed[0].error}")


def prepare(m3: M3Client, defaults: dict[str, Any]) -> str:
    """A customer to order for (the empty seed has none)."""
    [added] = m3.execute(
        program="CRS610MI",
        transaction="Add",
        params={
            "CUTM": defaults["CUTM"],
            "CUNO": "BENCH001",
            "CUNM": "Benchmark Customer",
            "CUA1": "1 Main St",
        },
    )
    return str(added.get("CUNO") or "BENCH001")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=2, help="order lines per order")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight, for both methods")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="finsync-bench-infor-") as tmp:
        directory = Path(tmp)
        process = start_sandbox(directory)
        try:
            section = json.loads((directory / "sandbox.json").read_text())["infor"]
            defaults = section["defaults"]
            resource = InforResource(
                company=str(section["company"]),
                division=str(section.get("division") or ""),
                ionapi_file=str(section["ionapi_file"]),
                token_key="bench",
                max_concurrency=args.concurrency,
            )
            policy = HttpPolicy(max_concurrency=args.concurrency)
            ledger = Ledger(f"sqlite:///{directory / 'ledger.sqlite'}")
            ledger.migrate()
            with resource.get_client(ledger, policy=policy) as m3:
                customer = prepare(m3, defaults)
                results = {}
                for name, run in (("bulk", bulk), ("one per transaction", one_per_transaction)):
                    results[name] = add_orders(
                        m3,
                        run,
                        orders=args.orders,
                        lines=args.lines,
                        defaults=defaults,
                        customer=customer,
                        tag=name[:4].upper(),
                    )
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)

    print(
        f"Infor sandbox, 100 ms latency per response, {args.orders} orders x {args.lines} lines, "
        f"{args.concurrency} calls in flight (both methods), {os.cpu_count()} CPUs"
    )
    for name, (seconds, calls, confirmed) in results.items():
        print(
            f"  {name:<20} {seconds:8.1f} s  {calls:6d} transactions  {confirmed} orders confirmed  "
            f"{confirmed / seconds:8.1f} orders/s"
        )
    ratio = results["one per transaction"][0] / results["bulk"][0]
    print(f"  bulk is {ratio:.1f}x faster than one call per transaction (target >= 10x)")


if __name__ == "__main__":
    main()
