"""Reconciliation assets: ``recon.<entity>_matches`` per integration pair, from the pair's ``core.*`` tables.

Thin: read the tolerances from the settings, call the pure matcher in ``finsync_dagster.recon``, write the
table, and report counts per status, how the pairs were made (rule, confidence) and the exceptions. (No ``from __future__ import annotations`` here:
Dagster reads the ``context`` annotation at definition.)
"""

from collections.abc import Callable
from decimal import Decimal

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from finsync_dagster.recon import (
    EXCEPTION_STATUSES,
    MATCH_TABLES,
    STATUSES,
    Tolerances,
    match_bills,
    match_customers,
    match_expenses,
    match_invoices,
    match_payments,
    match_suppliers,
    replace_match_table,
)
from finsync_dagster.resources import LedgerResource, WarehouseResource
from finsync_dagster.resources.settings import SettingsResource
from finsync_dagster.settings import ReconciliationConfig

# entity -> (matcher, the core tables it reads, the entities whose match tables it reads)
_MATCHERS: dict[
    str, tuple[Callable[[duckdb.DuckDBPyConnection, Tolerances], pa.Table], tuple[str, ...], tuple[str, ...]]
] = {
    "customers": (match_customers, ("customers",), ()),
    "invoices": (match_invoices, ("invoices", "invoice_lines", "orders", "customers"), ("customers",)),
    "payments": (match_payments, ("payments", "customers"), ("invoices", "customers")),
    "expenses": (match_expenses, ("expenses",), ()),
    "suppliers": (lambda con, _tolerances: match_suppliers(con), ("suppliers",), ()),
    "bills": (lambda con, _tolerances: match_bills(con), ("bills", "suppliers"), ("suppliers",)),
}
# Entities matched crosswalk first: pairs finsync created or a person confirmed are facts.
_CROSSWALKED = {"suppliers": match_suppliers, "bills": match_bills}


def match_asset_key(entity: str) -> dg.AssetKey:
    """``recon/<entity>_matches``: the asset key is the match table's name (``recon.MATCH_TABLES``)."""
    return dg.AssetKey(MATCH_TABLES[entity].split("."))


def _by_rule(table: pa.Table) -> dict[str, dict[str, float | int]]:
    """How the pairs were made: per rule, how many and how sure (the lowest and highest confidence)."""
    paired = table.filter(pc.is_valid(table.column("rule")))
    grouped = paired.group_by("rule").aggregate(
        [("rule", "count"), ("confidence", "min"), ("confidence", "max")]
    )
    return {
        row["rule"]: {"pairs": row["rule_count"], "min_confidence": row["confidence_min"],
                      "max_confidence": row["confidence_max"]}
        for row in grouped.to_pylist()
    }  # fmt: skip


_SAMPLE = 5


def tolerances_from(config: ReconciliationConfig) -> Tolerances:
    """The configured section as recon's tolerances: the same names, the amount as a Decimal."""
    values = config.model_dump()
    return Tolerances(**{**values, "amount_tolerance": Decimal(values["amount_tolerance"])})


def _build(entity: str, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    matcher, core_tables, recon_entities = _MATCHERS[entity]

    @dg.asset(
        key=match_asset_key(entity),
        deps=[dg.AssetKey(["core", t]) for t in core_tables] + [match_asset_key(e) for e in recon_entities],
        group_name="recon",
        kinds={"duckdb"},
        owners=["team:finance-data"],
        description=f"FreshBooks {entity} matched against Infor, with status, confidence and differences.",
        partitions_def=partitions,
    )
    def _recon(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        settings: SettingsResource,
        ledger: LedgerResource,
    ) -> dg.MaterializeResult:
        tolerances = tolerances_from(settings.get().reconciliation)
        with warehouse.connect(context.partition_key) as connection:
            if entity == "customers":
                # The crosswalk first: pairs finsync created or a person confirmed are facts.
                links = ledger.get().links(context.partition_key, "customers")
                crosswalk = pd.DataFrame(links, columns=["freshbooks_id", "infor_id"]) if links else None
                table = match_customers(connection, tolerances, crosswalk=crosswalk)
            elif entity in _CROSSWALKED:
                pairs = [
                    (link["freshbooks_id"], link["infor_id"])
                    for link in ledger.get().links(context.partition_key, entity)
                ]
                table = _CROSSWALKED[entity](connection, crosswalk=pairs)
            else:
                table = matcher(connection, tolerances)
            rows = replace_match_table(connection, entity, table)
        counted = {c["values"]: c["counts"] for c in pc.value_counts(table.column("status")).to_pylist()}
        exceptions = table.filter(pc.is_in(table.column("status"), pa.array(EXCEPTION_STATUSES)))
        sample = exceptions.select(
            ["status", "reference", "currency_code", "amount_at_stake", "rule", "confidence", "note"]
        ).slice(0, _SAMPLE)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(rows),
                **{status: dg.MetadataValue.int(int(counted.get(status, 0))) for status in STATUSES},
                "exceptions": dg.MetadataValue.int(exceptions.num_rows),
                "by_rule": dg.MetadataValue.json(_by_rule(table)),
                "sample_exceptions": dg.MetadataValue.json(
                    [
                        {k: (str(v) if v is not None else None) for k, v in row.items()}
                        for row in sample.to_pylist()
                    ]
                ),
            }
        )

    return _recon


def build_recon_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [_build(entity, partitions) for entity in _MATCHERS]
