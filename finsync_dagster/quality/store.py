"""Keeping ``quality.quarantine`` and ``quality.held`` current (the tables are declared in ``warehouse.schemas``).

``quality.quarantine`` is shared with the staging writer, which puts id-less records there (rule
``record_has_id``, no record id). Records this package quarantines keep their ``first_seen`` while they
stay bad and leave as soon as a run finds them fixed. ``quality.held`` lists every id the core build
must skip: the quarantined records and the lines of quarantined invoices and orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from finsync_dagster.warehouse import qualified, table_exists, tables_in, transaction
from finsync_dagster.warehouse.schemas import HELD, QUARANTINE, STAGING, ensure_quality_tables

# A quarantined parent holds back its lines too: the core must not hold lines of an invoice it lacks.
CHILDREN = {
    "freshbooks_invoices": ("freshbooks_invoice_lines", "invoice_id"),
    "infor_orders": ("infor_order_lines", "order_id"),
    "freshbooks_bills": ("freshbooks_bill_lines", "bill_id"),
}


@dataclass(frozen=True)
class HeldByRule:
    """The records one rule holds in one table's quarantine, with the reason given for one of them."""

    entity: str
    rule: str
    records: int
    reason: str


def held_by_rule(connection: duckdb.DuckDBPyConnection, pair: str) -> list[HeldByRule]:
    """What the pair's quarantine holds, per table and rule, most first (empty before any run)."""
    if not table_exists(connection, QUARANTINE):
        return []
    rows = connection.execute(
        f"""
        SELECT entity, rule, count(*), arg_min(reason, coalesce(record_id, '')) FROM {QUARANTINE}
        WHERE pair = $pair GROUP BY entity, rule ORDER BY 3 DESC, 1, 2
        """,
        {"pair": pair},
    ).fetchall()
    return [HeldByRule(entity, rule, int(n), reason) for entity, rule, n, reason in rows]


def existing_tables(connection: duckdb.DuckDBPyConnection, schema: str = STAGING) -> set[str]:
    return tables_in(connection, schema)


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
    params = {"entity": entity, "pair": pair, "now": now}
    staged = qualified(STAGING, entity)
    try:
        with transaction(connection, _violations_arrow=violations.select(["record_id", "rule", "reason"])):
            connection.execute(
                """
                CREATE OR REPLACE TEMP TABLE _violations AS
                SELECT record_id, rule, string_agg(DISTINCT reason, '; ') AS reason
                FROM _violations_arrow GROUP BY record_id, rule
                """
            )
            connection.execute(
                f"""
                DELETE FROM {QUARANTINE} q
                WHERE q.entity = $entity AND q.pair = $pair AND q.record_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM _violations v WHERE v.record_id = q.record_id AND v.rule = q.rule)
                """,
                {"entity": entity, "pair": pair},
            )
            connection.execute(
                f"""
                UPDATE {QUARANTINE} q SET last_seen = $now, reason = v.reason, raw = s._raw
                FROM _violations v LEFT JOIN {staged} s ON s.id = v.record_id
                WHERE q.entity = $entity AND q.pair = $pair AND q.record_id = v.record_id AND q.rule = v.rule
                """,
                params,
            )
            connection.execute(
                f"""
                INSERT INTO {QUARANTINE}
                SELECT $entity, $pair, v.record_id, v.rule, v.reason, s._raw, $now, $now
                FROM _violations v LEFT JOIN {staged} s ON s.id = v.record_id
                WHERE NOT EXISTS (SELECT 1 FROM {QUARANTINE} q WHERE q.entity = $entity
                                  AND q.pair = $pair AND q.record_id = v.record_id AND q.rule = v.rule)
                """,
                params,
            )
            rebuild_held(connection)
    finally:
        connection.execute("DROP TABLE IF EXISTS _violations")


def rebuild_held(connection: duckdb.DuckDBPyConnection) -> None:
    """Every id the core build skips: quarantined records and the lines of quarantined parents."""
    connection.execute(f"DELETE FROM {HELD}")
    connection.execute(
        f"INSERT INTO {HELD} SELECT DISTINCT entity, record_id FROM {QUARANTINE} WHERE record_id IS NOT NULL"
    )
    staged = existing_tables(connection)
    for parent, (child, column) in CHILDREN.items():
        if child in staged:
            connection.execute(
                f"""
                INSERT INTO {HELD}
                SELECT DISTINCT $child, c.id FROM {qualified(STAGING, child)} c
                JOIN {QUARANTINE} q ON q.entity = $parent AND q.record_id = c.{column}
                """,
                {"child": child, "parent": parent},
            )
