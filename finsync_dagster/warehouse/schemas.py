"""The warehouse's four schemas and the tables shared across packages, declared once.

``staging`` holds one table per source entity (declared by the staging table specs), ``core`` the canonical
model (declared by ``core.model``), ``recon`` the match tables (``recon.model.MATCH_TABLES``). ``quality``
is written by two packages: the staging writer quarantines records without an id, the validation rules
everything else, so its tables are declared here, as is ``core.mapping_rejects``.
"""

from __future__ import annotations

import duckdb

from finsync_dagster.warehouse.sql import qualified

STAGING = "staging"
QUALITY = "quality"
CORE = "core"
RECON = "recon"
SCHEMAS = (STAGING, QUALITY, CORE, RECON)

QUARANTINE = qualified(QUALITY, "quarantine")
HELD = qualified(QUALITY, "held")
ANOMALIES = qualified(QUALITY, "anomalies")
ROW_COUNT_HISTORY = qualified(QUALITY, "row_count_history")
MAPPING_REJECTS = qualified(CORE, "mapping_rejects")

QUARANTINE_DDL = f"""
CREATE TABLE IF NOT EXISTS {QUARANTINE} (
  entity VARCHAR NOT NULL,
  pair VARCHAR NOT NULL,
  record_id VARCHAR,
  rule VARCHAR NOT NULL,
  reason VARCHAR NOT NULL,
  raw JSON,
  first_seen TIMESTAMPTZ NOT NULL,
  last_seen TIMESTAMPTZ NOT NULL
)
"""

QUALITY_DDL = (
    QUARANTINE_DDL,
    f"CREATE TABLE IF NOT EXISTS {HELD} (entity VARCHAR NOT NULL, record_id VARCHAR NOT NULL)",
    f"""
    CREATE TABLE IF NOT EXISTS {ANOMALIES} (
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
    f"""
    CREATE TABLE IF NOT EXISTS {ROW_COUNT_HISTORY} (
      entity VARCHAR NOT NULL,
      pair VARCHAR NOT NULL,
      counted_at TIMESTAMPTZ NOT NULL,
      row_count BIGINT NOT NULL
    )
    """,
)

MAPPING_REJECTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {MAPPING_REJECTS} (
  entity VARCHAR NOT NULL,
  spec VARCHAR NOT NULL,
  source_id VARCHAR,
  errors VARCHAR NOT NULL
)"""


def ensure_schema(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    if schema not in SCHEMAS:
        raise ValueError(f"{schema!r} is not a warehouse schema (known: {', '.join(SCHEMAS)})")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


def ensure_quarantine(con: duckdb.DuckDBPyConnection) -> None:
    """``quality.quarantine``, which the staging writer needs before any other quality table."""
    ensure_schema(con, QUALITY)
    con.execute(QUARANTINE_DDL)


def ensure_quality_tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_schema(con, QUALITY)
    for statement in QUALITY_DDL:
        con.execute(statement)


def ensure_mapping_rejects(con: duckdb.DuckDBPyConnection) -> None:
    ensure_schema(con, CORE)
    con.execute(MAPPING_REJECTS_DDL)
