"""Reconciliation assets: ``recon.<entity>_matches`` per integration pair, from the pair's ``core.*`` tables.

Thin: read the tolerances from the settings, call the pure matcher in ``finsync_dagster.recon``, write the
table, and report counts per status and the exceptions. (No ``from __future__ import annotations`` here:
Dagster reads the ``context`` annotation at definition.)
"""

from collections.abc import Callable
from decimal import Decimal

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from finsync_dagster.recon import (
    EXCEPTION_STATUSES,
    STATUSES,
    Tolerances,
    match_customers,
    match_expenses,
    match_invoices,
    match_payments,
    replace_match_table,
)
from finsync_dagster.resources import WarehouseResource
from finsync_dagster.resources.settings import SettingsResource
from finsync_dagster.settings import ReconciliationConfig

# entity -> (matcher, the core tables it reads, the recon assets it reads)
_MATCHERS: dict[
    str, tuple[Callable[[duckdb.DuckDBPyConnection, Tolerances], pa.Table], tuple[str, ...], tuple[str, ...]]
] = {
    "customers": (match_customers, ("customers",), ()),
    "invoices": (match_invoices, ("invoices", "invoice_lines", "orders", "customers"), ("customer_matches",)),
    "payments": (match_payments, ("payments", "customers"), ("invoice_matches", "customer_matches")),
    "expenses": (match_expenses, ("expenses",), ()),
}
_SAMPLE = 5


def tolerances_from(config: ReconciliationConfig) -> Tolerances:
    """The configured section as recon's tolerances: the same names, the amount as a Decimal."""
    values = config.model_dump()
    return Tolerances(**{**values, "amount_tolerance": Decimal(values["amount_tolerance"])})


def _build(entity: str, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    matcher, core_tables, recon_tables = _MATCHERS[entity]
    name = f"{entity.removesuffix('s')}_matches"

    @dg.asset(
        key=dg.AssetKey(["recon", name]),
        deps=[dg.AssetKey(["core", t]) for t in core_tables]
        + [dg.AssetKey(["recon", t]) for t in recon_tables],
        group_name="recon",
        kinds={"duckdb"},
        owners=["team:finance-data"],
        description=f"FreshBooks {entity} matched against Infor, with status, confidence and differences.",
        partitions_def=partitions,
    )
    def _recon(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, settings: SettingsResource
    ) -> dg.MaterializeResult:
        tolerances = tolerances_from(settings.get().reconciliation)
        with warehouse.connect(context.partition_key) as connection:
            table = matcher(connection, tolerances)
            rows = replace_match_table(connection, entity, table)
        counted = {c["values"]: c["counts"] for c in pc.value_counts(table.column("status")).to_pylist()}
        exceptions = table.filter(pc.is_in(table.column("status"), pa.array(EXCEPTION_STATUSES)))
        sample = exceptions.select(["status", "reference", "currency_code", "amount_at_stake", "note"]).slice(
            0, _SAMPLE
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(rows),
                **{status: dg.MetadataValue.int(int(counted.get(status, 0))) for status in STATUSES},
                "exceptions": dg.MetadataValue.int(exceptions.num_rows),
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
