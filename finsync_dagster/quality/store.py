"""The quality tables in a pair's DuckDB file: quarantine, held-back ids, anomalies, row-count history.

``quality.quarantine`` is shared with the staging writer, which puts id-less records there (rule
``record_has_id``, no record id). Records this package quarantines keep their ``first_seen`` while they
stay bad and leave as soon as a run finds them fixed. ``quality.held`` lists every id the core build
must skip: the quarantined records and the lines of quarantined invoices and orders.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from finsync_dagster.staging.writer import QUARANTINE_DDL

_DDL = (
    "CREATE SCHEMA IF NOT EXISTS quality",
    QUARANTINE_DDL,
    "CREATE TABLE IF NOT EXISTS quality.held (entity VARCHAR NOT NULL, record_id VARCHAR NOT NULL)",
    """
    CREATE TABLE IF NOT EXISTS quality.anomalies (
      entity VARCHAR NOT NULL,
      pair VARCHAR NOT NULL,
      record_id VARCHAR,
      rule VARCHAR NOT NULL,
      score DOUBLE NOT NULL,
      explanation VARCHAR NOT NULL,
      severity VARCHAR NOT NULL,
      detected_at TIMESTAMPTZ NOT NULL,
      details JSON
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS quality.row_count_history (
      entity VARCHAR NOT NULL,
      pair VARCHAR NOT NULL,
      counted_at TIMESTAMPTZ NOT NULL,
      row_count BIGINT NOT NULL
    )
    """,
)

# A quarantined parent holds back its lines too: the core must not hold lines of an invoice it lacks.
CHILDREN = {
    "freshbooks_invoices": ("freshbooks_invoice_lines", "invoice_id"),
    "infor_orders": ("infor_order_lines", "order_id"),
}


def ensure_quality_tables(connection: duckdb.DuckDBPyConnection) -> None:
    for statement in _DDL:
        connection.execute(statement)


def existing_tables(connection: duckdb.DuckDBPyConnection, schema: str = "staging") -> set[str]:
    rows = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
    ).fetchall()
    return {row[0] for row in rows}


def refresh_quarantine(
    connection: duckdb.DuckDBPyConnection,
    *,
    entity: str,
    pair: str,
    violations: pa.Table,
    now: datetime,
) -> None:
    """Make the entity's quarantine match ``violations`` (record_id, rule, reason), keeping first_seen."""
    ensure_quality_tables(connection)
    connection.register("_violations_arrow", violations.select(["record_id", "rule", "reason"]))
    params = {"entity": entity, "pair": pair, "now": now}
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(
            """
            CREATE OR REPLACE TEMP TABLE _violations AS
            SELECT record_id, rule, string_agg(DISTINCT reason, '; ') AS reason
            FROM _violations_arrow GROUP BY record_id, rule
            """
        )
        connection.execute(
            """
            DELETE FROM quality.quarantine q
            WHERE q.entity = $entity AND q.pair = $pair AND q.record_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM _violations v WHERE v.record_id = q.record_id AND v.rule = q.rule)
            """,
            {"entity": entity, "pair": pair},
        )
        connection.execute(
            f"""
            UPDATE quality.quarantine q SET last_seen = $now, reason = v.reason, raw = s._raw
            FROM _violations v LEFT JOIN staging.{_table(entity)} s ON s.id = v.record_id
            WHERE q.entity = $entity AND q.pair = $pair AND q.record_id = v.record_id AND q.rule = v.rule
            """,
            params,
        )
        connection.execute(
            f"""
            INSERT INTO quality.quarantine
            SELECT $entity, $pair, v.record_id, v.rule, v.reason, s._raw, $now, $now
            FROM _violations v LEFT JOIN staging.{_table(entity)} s ON s.id = v.record_id
            WHERE NOT EXISTS (SELECT 1 FROM quality.quarantine q WHERE q.entity = $entity
                              AND q.pair = $pair AND q.record_id = v.record_id AND q.rule = v.rule)
            """,
            params,
        )
        rebuild_held(connection)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    finally:
        connection.unregister("_violations_arrow")
        connection.execute("DROP TABLE IF EXISTS _violations")


def rebuild_held(connection: duckdb.DuckDBPyConnection) -> None:
    """Every id the core build skips: quarantined records and the lines of quarantined parents."""
    connection.execute("DELETE FROM quality.held")
    connection.execute(
        "INSERT INTO quality.held SELECT DISTINCT entity, record_id FROM quality.quarantine "
        "WHERE record_id IS NOT NULL"
    )
    staged = existing_tables(connection)
    for parent, (child, column) in CHILDREN.items():
        if child in staged:
            connection.execute(
                f"""
                INSERT INTO quality.held
                SELECT DISTINCT '{child}', c.id FROM staging.{child} c
                JOIN quality.quarantine q ON q.entity = '{parent}' AND q.record_id = c.{column}
                """
            )


def _table(entity: str) -> str:
    if not entity.replace("_", "").isalnum():  # entity names are staging table names, from code
        raise ValueError(f"not a staging table name: {entity!r}")
    return entity
