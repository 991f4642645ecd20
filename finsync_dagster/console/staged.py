"""Staged rows for the mapping studio, taken from a pair's warehouse without getting in a sync's way.

The pair's lock (``pairlock``: every sync and Dagster run of the pair holds it while it writes) is taken
for at most ``lock_wait_seconds``; the warehouse is opened read-only, a sample of the one source table is
copied into memory, and both are let go. The sample is kept for a minute, so typing in the studio does
not take the lock on every keystroke. When a sync holds the pair, the studio says so.
"""

from __future__ import annotations

import time

import duckdb
import pyarrow as pa

from finsync_dagster.console.web import Console
from finsync_dagster.mapping.engine import staging_from_frames
from finsync_dagster.mapping.targets import sources
from finsync_dagster.pairlock import PairBusyError, hold_pair
from finsync_dagster.warehouse import table_exists

_CACHE = "samples"
_KEEP_SECONDS = 60.0


class SampleUnavailable(Exception):
    """No staged rows to preview on, and why, in a sentence for the page."""


def sample_table(console: Console, pair: str, table: str) -> pa.Table:
    if pair not in console.settings.pair_names:
        raise SampleUnavailable(f"no pair named {pair!r}")
    if table not in sources():  # the name goes into SQL: only tables the specs may read
        raise SampleUnavailable(f"{table!r} is not a staging or core table")
    cache: dict[tuple[str, str], tuple[float, pa.Table]] = console.caches.setdefault(_CACHE, {})
    kept = cache.get((pair, table))
    if kept is not None and time.monotonic() - kept[0] < _KEEP_SECONDS:
        return kept[1]
    path = console.settings.warehouse_path(pair)
    if not path.exists():
        raise SampleUnavailable(f"pair {pair} has no staged data yet: run `finsync sync --pair {pair}` first")
    try:
        with (
            hold_pair(
                console.settings.home,
                pair,
                what="finsync console (mapping preview)",
                wait_seconds=console.config.lock_wait_seconds,
            ),
            duckdb.connect(str(path), read_only=True) as con,
        ):
            if not table_exists(con, table):
                raise SampleUnavailable(
                    f"{table} is not in pair {pair}'s warehouse (run `finsync sync` first)"
                )
            rows = con.sql(f"SELECT * FROM {table} LIMIT {int(console.config.sample_rows)}").to_arrow_table()
    except PairBusyError as exc:
        raise SampleUnavailable(
            f"a sync of pair {pair} is running; preview again when it is done ({exc})"
        ) from None
    cache[(pair, table)] = (time.monotonic(), rows)
    return rows


def sample_connection(console: Console, pair: str, table: str) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding only the sample of ``table``; the caller closes it."""
    return staging_from_frames({table: sample_table(console, pair, table)})
