"""Quality checks of every staging table, per pair: one blocking batch check, one warning check.

``schema_and_integrity`` (ERROR, blocking) validates the table with its pandera model and row rules,
quarantines the rows that fail and fails only when the batch itself is broken or too much of it is held
back; a failure stops the core (and reconciliation) assets of the run. ``anomalies`` (WARN) rebuilds the
table's rows of ``quality.anomalies``. Both read the pair's DuckDB file through the warehouse resource,
never through an IO manager. The logic is in ``finsync_dagster.quality``.
(No ``from __future__ import annotations`` here: Dagster reads the ``context`` annotation at definition.)
"""

import warnings
from datetime import UTC, datetime

import dagster as dg

from finsync_dagster.assets.staging_common import column_schema
from finsync_dagster.quality import SCHEMAS, refresh_anomalies, rule_summaries, validate_and_quarantine
from finsync_dagster.resources import WarehouseResource
from finsync_dagster.resources.settings import SettingsResource
from finsync_dagster.staging.columns import TableSpec
from finsync_dagster.staging.freshbooks_tables import FRESHBOOKS_TABLES
from finsync_dagster.staging.infor_tables import INFOR_TABLES
from finsync_dagster.staging.shop_tables import SHOP_TABLES

SCHEMA_CHECK = "schema_and_integrity"
ANOMALY_CHECK = "anomalies"
_SAMPLE = 10


def staging_specs() -> list[TableSpec]:
    with_lines = [(spec, source.child) for spec, source in FRESHBOOKS_TABLES.values()]
    with_lines += [(spec, source.child) for spec, source in SHOP_TABLES.values()]
    specs = []
    for spec, child in with_lines:
        specs += [spec] + ([child.table] if child else [])
    return specs + [spec for spec, _ in INFOR_TABLES.values()]


def _markdown(rows: list[dict], columns: tuple[str, ...]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines) if rows else "nothing found")


def _schema_check(spec: TableSpec, partitions: dg.PartitionsDefinition) -> dg.AssetChecksDefinition:
    model = SCHEMAS[spec.name]
    described = column_schema(spec)
    checked = set(model.to_schema().columns)

    @dg.asset_check(
        asset=dg.AssetKey(["staging", spec.name]),
        name=SCHEMA_CHECK,
        blocking=True,
        partitions_def=partitions,
        description=f"{model.__name__}: types, required values, unique ids, currencies, dates and the "
        "table's business rules; failing rows are quarantined.",
        metadata={
            "dagster/column_schema": dg.TableSchema(
                columns=[c for c in described.columns if c.name in checked]
            ),
        },
    )
    def _check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, settings: SettingsResource
    ) -> dg.AssetCheckResult:
        pair = context.partition_key
        threshold = settings.get().quality.quarantine_threshold
        with warehouse.connect(pair) as connection:
            result = validate_and_quarantine(
                connection, spec, pair=pair, threshold=threshold, now=datetime.now(UTC)
            )
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=result.summary(),
            metadata={
                "rows": result.rows,
                "quarantined": result.quarantined,
                "quarantined_share": dg.MetadataValue.float(round(result.share, 4)),
                "threshold": dg.MetadataValue.float(threshold),
                "integrity_problems": dg.MetadataValue.json(list(result.integrity)),
                "rules_not_evaluated": dg.MetadataValue.json(result.not_evaluated),
                "failures_by_rule": _markdown(result.counts(), ("rule", "column", "records")),
                "sample": dg.MetadataValue.json(result.samples(_SAMPLE)),
            },
        )

    return _check


def _anomaly_check(spec: TableSpec, partitions: dg.PartitionsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["staging", spec.name]),
        name=ANOMALY_CHECK,
        partitions_def=partitions,
        description="Suspected duplicates, outliers, impossible amounts, currency and date oddities, and "
        "row-count jumps; written to quality.anomalies with an explanation each.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        pair = context.partition_key
        now = datetime.now(UTC)
        with warehouse.connect(pair) as connection:
            found = refresh_anomalies(connection, spec.name, pair=pair, today=now.date(), now=now)
        rows = sorted(found.to_pylist(), key=lambda row: -row["score"])
        by_rule: dict[str, int] = {}
        for row in rows:
            by_rule[row["rule"]] = by_rule.get(row["rule"], 0) + 1
        summaries = rule_summaries()
        return dg.AssetCheckResult(
            passed=not rows,
            severity=dg.AssetCheckSeverity.WARN,
            description=", ".join(f"{rule}: {n}" for rule, n in by_rule.items()) or "no anomalies",
            metadata={
                "anomalies": len(rows),
                "by_rule": dg.MetadataValue.json(by_rule),
                "rules": _markdown(
                    [{"rule": r, "records": n, "meaning": summaries[r]} for r, n in by_rule.items()],
                    ("rule", "records", "meaning"),
                ),
                "top": dg.MetadataValue.json(rows[:_SAMPLE]),
            },
        )

    return _check


def build_quality_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    checks = []
    # Partitioned checks are a Dagster preview; the warning would repeat once per check on every load.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        for spec in staging_specs():
            checks += [_schema_check(spec, partitions), _anomaly_check(spec, partitions)]
    return checks
