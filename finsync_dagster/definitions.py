"""The one Definitions object of the finsync code location.

This module assembles; it defines nothing itself. ``dagster dev -w workspace.yaml`` loads ``defs``, which
reads ``finsync.yaml`` at load time (pairs become partitions); the CLI builds the same Definitions from
its own settings with :func:`build_definitions`.
"""

from __future__ import annotations

import dagster as dg

from finsync_dagster.assets import operations
from finsync_dagster.assets.checks import build_quality_checks
from finsync_dagster.assets.connections import build_connection_assets
from finsync_dagster.assets.core import build_core_assets
from finsync_dagster.assets.outbox import PLAN_KEY, PUSH_KEYS, build_outbox_assets
from finsync_dagster.assets.recon import build_recon_assets
from finsync_dagster.assets.reports import build_report_asset
from finsync_dagster.assets.staging_freshbooks import build_freshbooks_staging
from finsync_dagster.assets.staging_infor import build_infor_staging
from finsync_dagster.assets.staging_shop import build_shop_staging
from finsync_dagster.automation import (
    build_event_sync_job,
    build_jobs,
    build_schedules,
    build_sensors,
    build_write_back_jobs,
)
from finsync_dagster.automation.event_sensors import build_event_sensors, build_poll_sensors
from finsync_dagster.mapping import load_specs
from finsync_dagster.partitions import pairs_partitions
from finsync_dagster.resources import LedgerResource, WarehouseResource
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.resources.settings import SettingsResource, SyncOptions, ledger_url_config
from finsync_dagster.settings import Settings, load_settings

__all__ = ["build_definitions", "defs"]


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions = pairs_partitions(settings)
    staging = [
        *build_connection_assets(partitions),
        *build_freshbooks_staging(partitions),
        *build_infor_staging(partitions),
        *build_shop_staging(partitions),
    ]
    core = build_core_assets(partitions, load_specs(overlay=settings.specs_overlay))
    recon = [*build_recon_assets(partitions), build_report_asset(partitions)]
    read_side = [*staging, *core, *recon]
    write_back = build_outbox_assets(partitions)
    jobs = build_jobs(dg.AssetSelection.assets(*read_side), home=settings.home)
    plan, push = dg.AssetSelection.assets(PLAN_KEY), dg.AssetSelection.assets(*PUSH_KEYS.values())
    write_back_jobs = build_write_back_jobs(plan, push, home=settings.home)
    event_sync = build_event_sync_job(dg.AssetSelection.assets(*read_side), plan, push, home=settings.home)
    return dg.Definitions(
        assets=[*operations.ASSETS, *read_side, *write_back],
        asset_checks=build_quality_checks(partitions),
        jobs=[*jobs, *write_back_jobs, event_sync],
        schedules=build_schedules(settings, jobs),
        sensors=[
            *build_sensors(
                settings, reconciling=jobs, write_back=write_back_jobs[0], push=write_back_jobs[1]
            ),
            *build_event_sensors(settings, event_sync=event_sync),
            *build_poll_sensors(settings, event_sync=event_sync),
        ],
        resources=_resources(settings),
    )


def _resources(settings: Settings) -> dict[str, object]:
    return {
        "settings": SettingsResource.of(settings),
        "sync_options": SyncOptions(),
        "ledger": LedgerResource(url=ledger_url_config(settings)),
        "clients": PairClients.of(settings),
        "warehouse": WarehouseResource(home=str(settings.home)),
    }


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
