"""FreshBooks staging assets: one per accounting resource, partitioned by integration pair.

Incremental reads use ``search[updated_min]``, which FreshBooks honours to the day only (contract §3.4):
the cursor is the Eastern calendar day of the newest update seen, so each window overlaps the previous one
by up to a day and the writer's dedup on id and update time absorbs the overlap. Deleted records
(``vis_state`` 1) are hidden from lists, so every incremental read makes a second pass for them. Resources
without an ``updated`` filter are small and read whole each time, which also catches their deletions.
"""

from datetime import date
from typing import Any

import dagster as dg

from finsync_dagster.assets.connections import connection_key
from finsync_dagster.assets.staging_common import advance_cursor, column_schema, table_metadata
from finsync_dagster.resources import LedgerResource, WarehouseResource
from finsync_dagster.resources.freshbooks.clock import day_on_or_before
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.resources.settings import SyncOptions
from finsync_dagster.staging.columns import TableSpec
from finsync_dagster.staging.freshbooks_tables import FRESHBOOKS_TABLES, ListingSource
from finsync_dagster.staging.load import stage_pages


def _cursor_after(before: dict[str, Any] | None, newest: Any) -> dict[str, Any] | None:
    if newest is None:
        return before
    day = day_on_or_before(newest)  # FreshBooks filters by US/Eastern day
    if before and before.get("updated_min", "") > day:
        return before
    return {"updated_min": day}


def _build(
    spec: TableSpec, source: ListingSource, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    resource, child = source.resource, source.child
    tables = [spec] + ([child.table] if child else [])
    specs = [
        dg.AssetSpec(
            key=dg.AssetKey(["staging", table.name]),
            group_name="freshbooks",
            kinds={"freshbooks", "duckdb"},
            owners=["team:finance-data"],
            description=table.description,
            partitions_def=partitions,
            metadata={"dagster/column_schema": column_schema(table)},
            deps=[connection_key("freshbooks")],
        )
        for table in tables
    ]

    @dg.multi_asset(
        name=f"stage_{spec.name}",
        specs=specs,
        partitions_def=partitions,
        pool="freshbooks_api",
        description=f"Extract FreshBooks {resource} into staging.",
    )
    def _stage(
        context: dg.AssetExecutionContext,
        clients: PairClients,
        warehouse: WarehouseResource,
        ledger: LedgerResource,
        sync_options: SyncOptions,
    ):
        pair = context.partition_key
        store = ledger.get()
        incremental = source.incremental and not sync_options.full_refresh
        before = store.get_cursor(pair, spec.name)
        full = not incremental or before is None
        since = date.fromisoformat(before["updated_min"]) if (before and not full) else None
        with clients.freshbooks(pair) as client, warehouse.connect(pair) as connection:
            pages = client.iter_pages(
                resource, updated_min=since, include=source.includes, include_deleted=True
            )
            result = stage_pages(
                connection,
                spec,
                pages,
                pair=pair,
                full_refresh=full,
                child=child,
                batch_size=sync_options.batch_size,
            )
            after = _cursor_after(before, result.counts.max_source_updated_at) if source.incremental else None
            metadata = table_metadata(
                connection, spec, result.counts, cursor_before=before, cursor_after=after, full_refresh=full
            )
            child_metadata = (
                table_metadata(
                    connection,
                    child.table,
                    result.child_counts,
                    cursor_before=before,
                    cursor_after=after,
                    full_refresh=full,
                )
                if child is not None and result.child_counts is not None
                else None
            )
        advance_cursor(store, pair, spec, after)
        context.log.info(
            f"{spec.name}: {result.counts.inserted} new, {result.counts.updated} changed, "
            f"{result.counts.deleted} deleted, {result.counts.unchanged} unchanged"
        )
        yield dg.MaterializeResult(asset_key=specs[0].key, metadata=metadata)
        if child is not None and child_metadata is not None:
            yield dg.MaterializeResult(asset_key=specs[1].key, metadata=child_metadata)

    return _stage


def build_freshbooks_staging(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [_build(spec, source, partitions) for spec, source in FRESHBOOKS_TABLES.values()]
