"""Shop staging assets: orders and their lines, partitioned by integration pair.

Incremental reads ask for orders updated at or after the newest ``updated_at`` seen, less five minutes:
``updated_at_min`` is inclusive and moves on every payment, fulfilment, refund, edit and cancellation, so
old orders that change come back, and the overlap costs only rows the writer finds unchanged. Lists always
include closed and cancelled orders. A deleted order vanishes from the lists; only the full refresh
notices it, and flags the row.

A pair without a shop still materializes both tables, empty, with a ``shop`` note saying so. Skipping
the asset instead (``output_required=False``) would leave the pair's partitions missing for ever, so the
UI and every "materialize missing" backfill would keep offering them, the blocking quality checks would
have no table to check, and anything built on the shop's orders later would be skipped with them; an
empty table is the truth for a pair that sells through no shop, and downstream code needs no special case.
"""

from datetime import datetime, timedelta
from typing import Any

import dagster as dg

from finsync_dagster.assets.staging_common import advance_cursor, column_schema, table_metadata
from finsync_dagster.resources import LedgerResource, WarehouseResource
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.resources.settings import SyncOptions
from finsync_dagster.staging.columns import TableSpec
from finsync_dagster.staging.load import StageResult, stage_pages
from finsync_dagster.staging.shop_tables import SHOP_TABLES, ShopListing

OVERLAP = timedelta(minutes=5)


def _cursor_after(before: dict[str, Any] | None, newest: datetime | None) -> dict[str, Any] | None:
    if newest is None:
        return before
    stamp = newest.isoformat()
    if before and datetime.fromisoformat(before["updated_at"]) > newest:
        return before
    return {"updated_at": stamp}


def _build(spec: TableSpec, source: ShopListing, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    child = source.child
    tables = [spec] + ([child.table] if child else [])
    specs = [
        dg.AssetSpec(
            key=dg.AssetKey(["staging", table.name]),
            group_name="shop",
            kinds={"shopify", "duckdb"},
            owners=["team:finance-data"],
            description=table.description,
            partitions_def=partitions,
            metadata={"dagster/column_schema": column_schema(table)},
        )
        for table in tables
    ]

    @dg.multi_asset(
        name=f"stage_{spec.name}",
        specs=specs,
        partitions_def=partitions,
        pool="shop_api",
        description=f"Extract the shop's {source.resource} into staging (an empty table for a pair without a shop).",
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
        if not clients.has_shop(pair):
            note = (
                f"pair {pair!r} has no shop: section, so there is nothing to extract; the tables stay empty"
            )
            with warehouse.connect(pair) as connection:
                result = stage_pages(connection, spec, iter(()), pair=pair, full_refresh=False, child=child)
                yield from _results(connection, specs, tables, result, None, None, note=note)
            context.log.info(note)
            return
        before = store.get_cursor(pair, spec.name)
        since = None
        if before is not None and not sync_options.full_refresh:
            since = datetime.fromisoformat(before["updated_at"]) - OVERLAP
        full = since is None
        with clients.shop(pair) as client, warehouse.connect(pair) as connection:
            pages = client.iter_pages(source.resource, updated_at_min=since)
            result = stage_pages(
                connection,
                spec,
                pages,
                pair=pair,
                full_refresh=full,
                child=child,
                batch_size=sync_options.batch_size,
            )
            after = _cursor_after(before, result.counts.max_source_updated_at)
            note = f"API version {client.served_version or client.api_version}; " + (
                f"{client.stats.requests} requests, {client.stats.rate_limited} rate limited"
            )
            outcomes = list(_results(connection, specs, tables, result, before, after, note=note, full=full))
        advance_cursor(store, pair, spec, after)
        context.log.info(
            f"{spec.name}: {result.counts.inserted} new, {result.counts.updated} changed, "
            f"{result.counts.deleted} deleted, {result.counts.unchanged} unchanged"
        )
        yield from outcomes

    return _stage


def _results(
    connection: Any,
    specs: list[dg.AssetSpec],
    tables: list[TableSpec],
    result: StageResult,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    note: str,
    full: bool = False,
) -> Any:
    counts = [result.counts, result.child_counts]
    for asset, table, table_counts in zip(specs, tables, counts, strict=False):
        if table_counts is None:
            continue
        metadata = table_metadata(
            connection, table, table_counts, cursor_before=before, cursor_after=after, full_refresh=full
        )
        yield dg.MaterializeResult(
            asset_key=asset.key, metadata={**metadata, "shop": dg.MetadataValue.text(note)}
        )


def build_shop_staging(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [_build(spec, source, partitions) for spec, source in SHOP_TABLES.values()]
