"""Infor M3 staging assets: one per M3 table read through EXPORTMI, partitioned by integration pair.

Incremental reads ask for rows changed on or after the last change date seen (``LMDT >= cursor``): the
day overlaps the previous read on purpose and the writer's dedup absorbs it. M3 deletes rows outright, so
only the full refresh (nightly by default) notices a deletion, and flags the row.
"""

from datetime import date

import dagster as dg

from finsync_dagster.assets.connections import connection_key
from finsync_dagster.assets.staging_common import advance_cursor, column_schema, table_metadata
from finsync_dagster.resources import LedgerResource, WarehouseResource
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.resources.settings import SyncOptions
from finsync_dagster.staging.columns import TableSpec
from finsync_dagster.staging.infor_tables import INFOR_TABLES, ExportSource
from finsync_dagster.staging.load import stage_pages


def _unprefixed(rows: list[dict[str, str]], prefix: str) -> list[dict[str, str]]:
    return [{name.removeprefix(prefix): value for name, value in row.items()} for row in rows]


def _build(spec: TableSpec, source: ExportSource, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["staging", spec.name]),
        group_name="infor",
        kinds={"infor", "duckdb"},
        owners=["team:finance-data"],
        description=spec.description,
        partitions_def=partitions,
        pool="infor_api",
        metadata={"dagster/column_schema": column_schema(spec), "m3_table": source.table},
        deps=[connection_key("infor")],
    )
    def _stage(
        context: dg.AssetExecutionContext,
        clients: PairClients,
        warehouse: WarehouseResource,
        ledger: LedgerResource,
        sync_options: SyncOptions,
    ) -> dg.MaterializeResult:
        pair = context.partition_key
        store = ledger.get()
        before = store.get_cursor(pair, spec.name)
        full = sync_options.full_refresh or before is None
        columns = [source.prefix + column for column in source.columns]
        where = [(source.prefix + column, op, value) for column, op, value in source.where]
        if not full:
            where.append((f"{source.prefix}LMDT", ">=", date.fromisoformat(before["lmdt"])))
        with clients.infor(pair) as client, warehouse.connect(pair) as connection:
            pages = (
                _unprefixed(rows, source.prefix)
                for rows in client.iter_export(
                    table=source.table,
                    columns=columns,
                    where=where,
                    key=source.prefix + source.key if source.key else None,
                    batch_size=sync_options.batch_size,
                    typed=False,
                )
            )
            result = stage_pages(
                connection, spec, pages, pair=pair, full_refresh=full, batch_size=sync_options.batch_size
            )
            newest = result.counts.max_source_updated_at
            after = {"lmdt": newest.date().isoformat()} if newest else before
            if before and after and after["lmdt"] < before["lmdt"]:
                after = before
            metadata = table_metadata(
                connection, spec, result.counts, cursor_before=before, cursor_after=after, full_refresh=full
            )
        advance_cursor(store, pair, spec, after)
        context.log.info(
            f"{spec.name}: {result.counts.inserted} new, {result.counts.updated} changed, "
            f"{result.counts.deleted} deleted, {result.counts.unchanged} unchanged"
        )
        return dg.MaterializeResult(metadata=metadata)

    return _stage


def build_infor_staging(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [_build(spec, source, partitions) for spec, source in INFOR_TABLES.values()]
