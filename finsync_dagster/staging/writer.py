"""Upsert batches of raw records into a staging table, in bulk, writing only what changed.

Records arrive page by page; each batch is handed to DuckDB as an Arrow table of JSON strings, typed by
the table spec's SQL, deduplicated on id (the latest source update wins: FreshBooks' day-granular
``updated`` windows overlap on purpose), and merged. A row whose raw record and deleted flag are
unchanged is not rewritten, so a second run with no source changes writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from finsync_dagster.staging.columns import ChildSpec, TableSpec
from finsync_dagster.warehouse import columns_of, one_row, transaction
from finsync_dagster.warehouse.schemas import QUARANTINE, STAGING, ensure_quarantine, ensure_schema


@dataclass
class MergeCounts:
    """What one extraction did to a table."""

    received: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    rejected: int = 0
    max_source_updated_at: datetime | None = None

    def add(self, other: MergeCounts) -> None:
        self.received += other.received
        self.inserted += other.inserted
        self.updated += other.updated
        self.deleted += other.deleted
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        if other.max_source_updated_at and (
            self.max_source_updated_at is None or other.max_source_updated_at > self.max_source_updated_at
        ):
            self.max_source_updated_at = other.max_source_updated_at

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.deleted


def ensure_table(connection: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    ensure_schema(connection, STAGING)
    ensure_quarantine(connection)
    connection.execute(spec.ddl())
    _widen_decimals(connection, spec)


def _widen_decimals(connection: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    """A table made by an older finsync keeps its column types; widen a decimal the spec now holds finer."""
    present = dict(columns_of(connection, spec.qualified_name))
    for name, wanted in spec.column_types().items():
        have = present.get(name)
        if have and have != wanted and have.startswith("DECIMAL") and wanted.startswith("DECIMAL"):
            connection.execute(f"ALTER TABLE {spec.qualified_name} ALTER {name} TYPE {wanted}")


def to_arrow(records: Iterable[Mapping[str, Any]]) -> pa.Table:
    return pa.table({"raw": pa.array([json.dumps(record, default=str) for record in records], pa.string())})


def merge_batch(
    connection: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    records: Sequence[Mapping[str, Any]],
    *,
    extracted_at: datetime,
    pair: str,
    child: ChildSpec | None = None,
    seen_table: str | None = None,
) -> tuple[MergeCounts, MergeCounts | None]:
    """Type and merge one batch (and its nested child records) in one transaction."""
    with transaction(connection, _arrow_batch=to_arrow(records)):
        connection.execute(
            "CREATE OR REPLACE TEMP TABLE _batch AS SELECT CAST(raw AS JSON) AS raw FROM _arrow_batch"
        )
        counts = _merge(
            connection, spec, "_batch", extracted_at=extracted_at, pair=pair, seen_table=seen_table
        )
        child_counts = None
        if child is not None:
            # The parents are parsed already (in _typed): their lines are unnested from there.
            connection.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE _child_batch AS
                SELECT line AS raw, id AS parent_id, _source_updated_at AS parent_updated,
                       _deleted AS parent_deleted
                FROM _typed, unnest(CAST(json_extract(_raw, '{child.list_path}') AS JSON[])) AS t(line)
                """
            )
            connection.execute(
                "CREATE OR REPLACE TEMP TABLE _parents AS SELECT DISTINCT parent_id FROM _child_batch"
            )
            connection.execute(
                "INSERT INTO _parents SELECT id FROM _typed WHERE id NOT IN (SELECT parent_id FROM _parents)"
            )
            child_counts = _merge(
                connection, child.table, "_child_batch", extracted_at=extracted_at, pair=pair
            )
            # Lines that vanished from a parent present in this batch are flagged, never dropped.
            parent = child.table.parent_column
            vanished = connection.execute(
                f"""
                UPDATE {child.table.qualified_name} AS t
                SET _deleted = TRUE, _extracted_at = $extracted_at
                WHERE NOT t._deleted
                  AND t.{parent} IN (SELECT parent_id FROM _parents)
                  AND t.id NOT IN (SELECT id FROM _typed)
                """,
                {"extracted_at": extracted_at},
            ).fetchone()
            child_counts.deleted += int(vanished[0]) if vanished else 0
    return counts, child_counts


def _merge(
    connection: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    source: str,
    *,
    extracted_at: datetime,
    pair: str,
    seen_table: str | None = None,
) -> MergeCounts:
    table = spec.qualified_name
    columns = spec.column_names()
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE _typed AS {spec.select_sql(source)}", {"extracted_at": extracted_at}
    )
    counts = MergeCounts(received=one_row(connection.execute("SELECT count(*) FROM _typed"))[0])

    # A record without an id cannot be staged: quarantine it with its raw text, keep the rest going.
    rejected = connection.execute("SELECT count(*) FROM _typed WHERE id IS NULL OR trim(id) = ''").fetchall()[
        0
    ][0]
    if rejected:
        counts.rejected = int(rejected)
        # The same id-less record read again is the same quarantine entry, seen again.
        params = {"entity": spec.name, "pair": pair, "now": extracted_at}
        connection.execute(
            f"""
            UPDATE {QUARANTINE} AS q SET last_seen = $now
            WHERE q.entity = $entity AND q.pair = $pair AND q.rule = 'record_has_id'
              AND CAST(q.raw AS VARCHAR) IN (
                  SELECT CAST(_raw AS VARCHAR) FROM _typed WHERE id IS NULL OR trim(id) = '')
            """,
            params,
        )
        connection.execute(
            f"""
            INSERT INTO {QUARANTINE}
            SELECT DISTINCT $entity, $pair, NULL, 'record_has_id', 'the source record has no id', _raw, $now, $now
            FROM _typed t WHERE (t.id IS NULL OR trim(t.id) = '')
              AND CAST(t._raw AS VARCHAR) NOT IN (
                  SELECT CAST(raw AS VARCHAR) FROM {QUARANTINE}
                  WHERE entity = $entity AND pair = $pair AND rule = 'record_has_id')
            """,
            params,
        )
        connection.execute("DELETE FROM _typed WHERE id IS NULL OR trim(id) = ''")

    if seen_table:
        connection.execute(f"INSERT INTO {seen_table} SELECT id FROM _typed")

    # Overlapping windows bring the same record twice: keep its latest version.
    connection.execute(
        """
        CREATE OR REPLACE TEMP TABLE _latest AS
        SELECT * FROM _typed
        QUALIFY row_number() OVER (PARTITION BY id ORDER BY _source_updated_at DESC NULLS LAST) = 1
        """
    )
    connection.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _changed AS
        SELECT l.*, t.id IS NULL AS _is_new, l._deleted AND NOT coalesce(t._deleted, FALSE) AS _is_deletion
        FROM _latest l LEFT JOIN {table} t ON t.id = l.id
        WHERE t.id IS NULL
           OR CAST(t._raw AS VARCHAR) IS DISTINCT FROM CAST(l._raw AS VARCHAR)
           OR t._deleted IS DISTINCT FROM l._deleted
        """
    )
    new, deletions, changed, latest_updated = one_row(
        connection.execute(
            """
            SELECT count(*) FILTER (WHERE _is_new), count(*) FILTER (WHERE _is_deletion), count(*),
                   (SELECT max(_source_updated_at) FROM _latest)
            FROM _changed
            """
        )
    )
    column_list = ", ".join(columns)
    connection.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM _changed WHERE NOT _is_new)")
    connection.execute(f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM _changed")
    counts.inserted = int(new)
    counts.deleted = int(deletions)
    counts.updated = int(changed) - int(new) - int(deletions)
    counts.unchanged = counts.received - counts.rejected - int(changed)
    counts.max_source_updated_at = latest_updated
    return counts


def flag_unseen_as_deleted(
    connection: duckdb.DuckDBPyConnection, spec: TableSpec, seen_table: str, *, extracted_at: datetime
) -> int:
    """After a full read, rows the source no longer returns are flagged deleted (never dropped)."""
    result = connection.execute(
        f"""
        UPDATE {spec.qualified_name} SET _deleted = TRUE, _extracted_at = $extracted_at
        WHERE NOT _deleted AND id NOT IN (SELECT id FROM {seen_table})
        """,
        {"extracted_at": extracted_at},
    ).fetchone()
    return int(result[0]) if result else 0
