"""The one Definitions object of the finsync code location.

This module assembles; it defines nothing itself. ``dagster dev -w workspace.yaml`` loads ``defs``, which
reads ``finsync.yaml`` at load time (pairs become partitions); the CLI builds the same Definitions from
its own settings with :func:`build_definitions`.
"""

from __future__ import annotations

import dagster as dg

from finsync_dagster.assets import operations
from finsync_dagster.resources import LedgerResource, WarehouseResource
from finsync_dagster.settings import Settings, load_settings

READ_SIDE_JOB = "read_side"


def build_definitions(settings: Settings) -> dg.Definitions:
    assets = [*operations.ASSETS]
    read_side = dg.define_asset_job(
        READ_SIDE_JOB,
        selection=dg.AssetSelection.assets(*assets),
        description="Everything that reads: extract, validate, map, reconcile, report.",
    )
    return dg.Definitions(
        assets=assets,
        jobs=[read_side],
        resources={
            "ledger": LedgerResource(url=settings.ledger_url),
            "warehouse": WarehouseResource(home=str(settings.home)),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
