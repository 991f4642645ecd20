"""The Dagster side every staging asset shares: table metadata, column schemas and the cursor.

The loading itself is :func:`finsync_dagster.staging.load.stage_pages`. The cursor moves only after the
rows it covers are committed, so a run that dies half way re-reads its window next time (the upsert makes
that harmless).
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import duckdb

from finsync_dagster.ledger import Ledger
from finsync_dagster.staging.columns import TableSpec
from finsync_dagster.staging.writer import MergeCounts


def table_metadata(
    connection: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    counts: MergeCounts,
    *,
    cursor_before: dict[str, Any] | None,
    cursor_after: dict[str, Any] | None,
    full_refresh: bool,
) -> dict[str, Any]:
    rows, live = connection.execute(
        f"SELECT count(*), count(*) FILTER (WHERE NOT _deleted) FROM {spec.qualified_name}"
    ).fetchone()
    metadata: dict[str, Any] = {
        "dagster/row_count": dg.MetadataValue.int(int(rows)),
        "dagster/column_schema": column_schema(spec),
        "table": dg.MetadataValue.text(spec.qualified_name),
        "live_rows": dg.MetadataValue.int(int(live)),
        "mode": dg.MetadataValue.text("full refresh" if full_refresh else "incremental"),
        "received": dg.MetadataValue.int(counts.received),
        "inserted": dg.MetadataValue.int(counts.inserted),
        "updated": dg.MetadataValue.int(counts.updated),
        "deleted": dg.MetadataValue.int(counts.deleted),
        "unchanged": dg.MetadataValue.int(counts.unchanged),
        "quarantined": dg.MetadataValue.int(counts.rejected),
        "cursor_before": dg.MetadataValue.json(cursor_before or {}),
        "cursor_after": dg.MetadataValue.json(cursor_after or {}),
    }
    return metadata


def column_schema(spec: TableSpec) -> dg.TableSchema:
    descriptions = spec.descriptions()
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, sql_type, description=descriptions.get(name) or None)
            for name, sql_type in spec.column_types().items()
        ]
    )


def advance_cursor(ledger: Ledger, pair: str, spec: TableSpec, cursor: dict[str, Any] | None) -> None:
    if cursor:
        ledger.set_cursor(pair, spec.name, cursor)
