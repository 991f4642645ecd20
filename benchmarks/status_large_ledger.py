"""`finsync status --json` on a ledger with 1,000,000 outbox actions and 1,000,000 audit entries.

Generated here, deterministically: 5 pairs; of the outbox, 97 % done, the rest planned, retry_wait,
blocked, cancelled, 500 in doubt and 2,000 dead (each with its dead letter, 10,000 letters in all with
the resolved ones); the audit log spread over 30 days. Then, in fresh processes:

- the command a person types: ``finsync status --json`` end to end (Python start, imports, config, ledger
  migration check, the figures, the JSON), best of 3;
- the figures alone (``status.gather`` in one process, best of 5), with the indexes of ledger schema 6 and,
  as the baseline, after dropping them (what the same queries cost on schema 3's indexes).

Run: ``.venv/bin/python benchmarks/status_large_ledger.py [--rows 1000000] [--postgres URL]``. With
``--postgres`` (a database that may be emptied, e.g. ``postgresql+psycopg2://postgres@127.0.0.1/bench``)
the same is measured on PostgreSQL too.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from finsync_dagster.ledger import Ledger
from finsync_dagster.ledger.schema import STATUS_INDEXES, audit_log, dead_letters, metadata, outbox

PAIRS = [f"pair-{n}" for n in range(5)]
BATCH = 20_000
NOW = datetime.now(UTC)
CONFIG = "version: 1\npairs:\n" + "".join(f"  - name: {p}\n    sandbox_dir: sandbox\n" for p in PAIRS)


def _pair(n: int) -> str:
    return PAIRS[(n // 3) % len(PAIRS)]


def _state(n: int) -> str:
    if n % 500 == 7:
        return "dead"
    if n % 2000 == 11:
        return "in_doubt"
    slot = n % 100
    return (
        "planned"
        if slot == 1
        else "retry_wait"
        if slot == 2
        else "blocked"
        if slot == 3
        else "cancelled"
        if slot == 4
        else "done"
    )


def fill(ledger: Ledger, rows: int) -> None:
    start = NOW - timedelta(days=30)
    step = timedelta(days=30) / rows
    with ledger.engine.begin() as connection:
        for offset in range(0, rows, BATCH):
            batch = []
            for n in range(offset, min(rows, offset + BATCH)):
                state, at = _state(n), start + step * n
                batch.append({
                    "key": f"k{n:019d}", "pair": _pair(n), "action": "m3.customer.add", "target": "infor",
                    "entity": "customers", "source_system": "freshbooks", "source_id": str(n), "source_version": "v1",
                    "payload": f'{{"CUNO": "FB{n}"}}', "state": state, "attempts": 1, "fence": 1,
                    "planned_by": f"run-{n // 100}", "planned_at": at, "updated_at": at,
                    "done_at": at if state == "done" else None,
                    "next_attempt_at": at if state in ("retry_wait", "in_doubt") else None,
                })  # fmt: skip
            connection.execute(outbox.insert(), batch)
            connection.execute(audit_log.insert(), [
                {"at": row["updated_at"], "pair": row["pair"], "action_key": row["key"], "action": row["action"],
                 "target": "infor", "call": "CRS610MI/Add", "outcome": "applied" if row["state"] == "done" else "failed",
                 "latency_ms": 80, "attempt": 1, "fence": 1, "actor": "bench"}
                for row in batch
            ])  # fmt: skip
        dead = list(range(7, rows, 500))  # every dead action has its open letter; older ones were resolved
        resolved = list(range(0, rows, max(1, rows // 8000)))
        letters = [
            {"pair": _pair(n), "action_key": f"k{n:019d}", "action": "m3.customer.add", "target": "infor",
             "error_class": "M3ValidationError", "message": f"field 'CUNM' too long ({n})",
             "pattern": "M3ValidationError: field '…' too long (#)", "created_at": start + step * n,
             "resolved_at": None if open_ else start + step * n}
            for numbers, open_ in ((dead, True), (resolved, False)) for n in numbers
        ]  # fmt: skip
        connection.execute(dead_letters.insert(), letters)


def drop_status_indexes(ledger: Ledger) -> None:
    with ledger.engine.begin() as connection:
        for index in STATUS_INDEXES:
            index.drop(connection, checkfirst=True)


def analyse(ledger: Ledger) -> None:
    with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str], repeat: int) -> tuple[float, str, float]:
    """Best wall time of ``repeat`` runs, the last output, and the best CPU time (user + system): on a
    busy machine the wall time is mostly waiting for a core, the CPU time is what an idle one would take."""
    best, out, best_cpu = float("inf"), "", float("inf")
    for _ in range(repeat):
        started, cpu = time.perf_counter(), _children_cpu()
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
        best, out = min(best, time.perf_counter() - started), result.stdout
        best_cpu = min(best_cpu, _children_cpu() - cpu)
    return best, out, best_cpu


_GATHER = """
import sys, time
from finsync_dagster.ledger import Ledger
from finsync_dagster.settings import load_settings
from finsync_dagster.status import gather
settings = load_settings(sys.argv[1]); ledger = Ledger(settings.ledger_url)
best = min((lambda t: (gather(settings, ledger), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(5))
print(best)
"""


def measure(name: str, url: str, rows: int) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="finsync-bench-"))
    config = home / "finsync.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    env = {
        **os.environ,
        "FINSYNC_HOME": str(home),
        "FINSYNC_LEDGER_URL": url,
        "FINSYNC_TOKEN_KEY": "A" * 43 + "=",
    }
    env.pop("DAGSTER_HOME", None)
    ledger = Ledger(url, token_key=env["FINSYNC_TOKEN_KEY"])
    if ledger.engine.dialect.name == "postgresql":
        metadata.drop_all(ledger.engine)
        with ledger.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS ledger_schema, alert_state")
    ledger.migrate()
    started = time.perf_counter()
    fill(ledger, rows)
    analyse(ledger)
    print(
        f"{name}: generated {rows:,} outbox actions and {rows:,} audit entries in {time.perf_counter() - started:.1f} s"
    )
    command, out, command_cpu = timed(
        [sys.executable, "-m", "finsync_dagster.cli", "--config", str(config), "status", "--json"], env, 3
    )
    figures = json.loads(out)["pairs"][0]
    assert figures["dead"] > 0 and figures["in_doubt"] > 0 and figures["dead_letters_open"] > 0, figures
    with_indexes = float(timed([sys.executable, "-c", _GATHER, str(config)], env, 1)[1].strip())
    drop_status_indexes(ledger)
    analyse(ledger)
    without_indexes = float(timed([sys.executable, "-c", _GATHER, str(config)], env, 1)[1].strip())
    ledger.engine.dispose()
    print(
        f"{name}: `finsync status --json` {command:.2f} s (best of 3, end to end), {command_cpu:.2f} s of CPU"
    )
    print(f"{name}: figures (status.gather) {with_indexes * 1000:.0f} ms with schema 6's indexes, "
          f"{without_indexes * 1000:.0f} ms without them (baseline): {without_indexes / with_indexes:.1f}x")  # fmt: skip
    return {"command": command, "cpu": command_cpu, "figures": with_indexes, "baseline": without_indexes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose database may be emptied")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        measure("SQLite", f"sqlite:///{directory}/ledger.sqlite", args.rows)
    if args.postgres:
        measure("PostgreSQL", args.postgres, args.rows)


if __name__ == "__main__":
    main()
