"""Stream pages of raw records into a staging table: batches, the seen table of a full read, deletions.

Pure of Dagster: the staging assets call :func:`stage_pages` with a DuckDB connection and an iterator of
pages from a client, then report its :class:`StageResult`. A full read records every id it sees in a temp
"seen" table, and afterwards flags the rows it no longer found as deleted (and their lines with them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from finsync_dagster.staging.columns import ChildSpec, TableSpec
from finsync_dagster.staging.writer import (
    MergeCounts,
    ensure_table,
    flag_unseen_as_deleted,
    merge_batch,
)
from finsync_dagster.warehouse import one_row

Pages = Iterator[list[dict[str, Any]]]
STAGING_SETTINGS = {"threads": "1", "memory_limit": "96MB"}


@dataclass
class StageResult:
    counts: MergeCounts
    child_counts: MergeCounts | None
    full_refresh: bool


def stage_pages(
    connection: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    pages: Pages,
    *,
    pair: str,
    full_refresh: bool,
    child: ChildSpec | None = None,
    batch_size: int = 1000,
) -> StageResult:
    """Merge every page (grouped into batches) into the table; a full read also flags vanished rows."""
    with staging_limits(connection):
        return _stage_pages(
            connection,
            spec,
            pages,
            pair=pair,
            full_refresh=full_refresh,
            child=child,
            batch_size=batch_size,
        )


@contextmanager
def staging_limits(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Extraction merges small batches: one thread and a small buffer pool keep it in steady memory
    (the benchmark's 200,000 invoices stay under 512 MB) without slowing it, as it waits on the API."""
    saved = {
        name: one_row(connection.execute("SELECT current_setting($name)", {"name": name}))[0]
        for name in STAGING_SETTINGS
    }
    for name, value in STAGING_SETTINGS.items():
        connection.execute(f"SET {name} = '{value}'")
    try:
        yield
    finally:
        for name, value in saved.items():
            connection.execute(f"SET {name} = '{value}'")


def _stage_pages(
    connection: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    pages: Pages,
    *,
    pair: str,
    full_refresh: bool,
    child: ChildSpec | None,
    batch_size: int,
) -> StageResult:
    connection.execute("SET TimeZone = 'UTC'")
    ensure_table(connection, spec)
    if child is not None:
        ensure_table(connection, child.table)
    extracted_at = datetime.now(UTC)
    seen = None
    # A full read flags the rows it no longer finds; on a first load there is nothing to flag.
    # (fetchall: a half-read result would block the Arrow registration that follows.)
    if full_refresh and connection.execute(f"SELECT count(*) FROM {spec.qualified_name}").fetchall()[0][0]:
        seen = f"_seen_{uuid.uuid4().hex[:8]}"
        connection.execute(f"CREATE TEMP TABLE {seen} (id VARCHAR)")
    total = MergeCounts()
    child_total = MergeCounts() if child is not None else None
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        counts, child_counts = merge_batch(
            connection, spec, batch, extracted_at=extracted_at, pair=pair, child=child, seen_table=seen
        )
        total.add(counts)
        if child_total is not None and child_counts is not None:
            child_total.add(child_counts)
        batch.clear()

    for page in pages:
        batch.extend(page)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if seen is not None:
        total.deleted += flag_unseen_as_deleted(connection, spec, seen, extracted_at=extracted_at)
        if child is not None and child_total is not None:
            child_total.deleted += _flag_orphaned_lines(connection, spec, child, extracted_at)
        connection.execute(f"DROP TABLE {seen}")
    return StageResult(total, child_total, full_refresh)


def _flag_orphaned_lines(
    connection: duckdb.DuckDBPyConnection, spec: TableSpec, child: ChildSpec, extracted_at: datetime
) -> int:
    parent = child.table.parent_column
    row = connection.execute(
        f"""
        UPDATE {child.table.qualified_name} SET _deleted = TRUE, _extracted_at = $at
        WHERE NOT _deleted AND {parent} IN (SELECT id FROM {spec.qualified_name} WHERE _deleted)
        """,
        {"at": extracted_at},
    ).fetchone()
    return int(row[0]) if row else 0
