"""Data quality over the staging tables: pandera schemas, row rules and quarantine, explained anomalies.

Pure logic over a DuckDB connection: no Dagster, no HTTP. ``validate_and_quarantine`` is what the blocking
batch check calls; ``refresh_anomalies`` what the warning check calls.
"""

from finsync_dagster.quality.anomalies import (
    ANOMALY_RULES,
    anomaly_counts,
    find_anomalies,
    refresh_anomalies,
    rule_summaries,
)
from finsync_dagster.quality.rules import ROW_RULES, TYPED_VALUE_RULE
from finsync_dagster.quality.schemas import SCHEMAS, schema_columns
from finsync_dagster.quality.store import HeldByRule, held_by_rule, refresh_quarantine
from finsync_dagster.quality.validate import Validation, validate_and_quarantine, validate_table
from finsync_dagster.warehouse.schemas import ensure_quality_tables

__all__ = [
    "ANOMALY_RULES",
    "ROW_RULES",
    "SCHEMAS",
    "TYPED_VALUE_RULE",
    "HeldByRule",
    "Validation",
    "anomaly_counts",
    "ensure_quality_tables",
    "find_anomalies",
    "held_by_rule",
    "refresh_anomalies",
    "refresh_quarantine",
    "rule_summaries",
    "schema_columns",
    "validate_and_quarantine",
    "validate_table",
]
