"""Write-back assets: the plan (outbox rows from the latest reconciliation) and the pushes to each system.

Thin: ``writeback/plan`` runs the planner over the pair's warehouse and records the actions in the
ledger's outbox; ``writeback/pushed_to_m3`` and ``writeback/pushed_to_freshbooks`` run the pusher for one
system each, in that API's pool, so concurrent runs never exceed its budget. Their checks fail (ERROR)
when an action is dead or has been in doubt for more than ten minutes: a partial write is never a
silent success. (No ``from __future__ import annotations`` here: Dagster reads the annotations.)
"""

from datetime import timedelta
from typing import Any

import dagster as dg

from finsync_dagster.assets.recon import match_asset_key
from finsync_dagster.automation.decisions import INBOX_KEY_PREFIX
from finsync_dagster.ledger import State, utcnow
from finsync_dagster.push import Pusher
from finsync_dagster.push.planning import plan_pair, record
from finsync_dagster.recon import MATCH_TABLES
from finsync_dagster.resources import LedgerResource, WarehouseResource
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.resources.settings import SettingsResource, SyncOptions
from finsync_dagster.status.figures import percentile

PLAN_KEY = dg.AssetKey(["writeback", "plan"])
PUSH_KEYS = {
    "infor": dg.AssetKey(["writeback", "pushed_to_m3"]),
    "freshbooks": dg.AssetKey(["writeback", "pushed_to_freshbooks"]),
}
RUN_KEY_TAG = "dagster/run_key"
POOLS = {"infor": "infor_api", "freshbooks": "freshbooks_api"}
IN_DOUBT_LIMIT = timedelta(minutes=10)
_SAMPLE = 20


def build_outbox_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [_plan_asset(partitions), *(_push_asset(target, partitions) for target in PUSH_KEYS)]


def _plan_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=PLAN_KEY,
        # The shop's staged orders too: the shop_orders_to_freshbooks rule plans from them directly.
        deps=[
            *(match_asset_key(entity) for entity in MATCH_TABLES),
            dg.AssetKey(["staging", "shop_orders"]),
            dg.AssetKey(["staging", "shop_order_lines"]),
        ],
        group_name="writeback",
        kinds={"duckdb"},
        owners=["team:finance-data"],
        description="The writes the latest reconciliation calls for, recorded in the ledger's outbox once.",
        partitions_def=partitions,
    )
    def plan(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        ledger: LedgerResource,
        settings: SettingsResource,
    ) -> dg.MaterializeResult:
        pair = context.partition_key
        store = ledger.get()
        with warehouse.connect(pair, read_only=True) as connection:
            planned = plan_pair(connection, settings.get(), store, pair)
        result = record(store, planned, planned_by=planned_by(context.run))
        left = [
            {"entity": item.entity, "source": item.source_system, "id": item.source_id,
             "reference": item.reference, "would": item.action, "why": item.reason}
            for item in planned.left[:_SAMPLE]
        ]  # fmt: skip
        return dg.MaterializeResult(
            metadata={
                "planned_now": dg.MetadataValue.int(len(result.added) + len(result.replanned)),
                "already_planned": dg.MetadataValue.int(result.unchanged),
                "superseded": dg.MetadataValue.int(result.superseded),
                "by_action": dg.MetadataValue.json(planned.count()),
                "left_for_people": dg.MetadataValue.int(len(planned.left)),
                "left_sample": dg.MetadataValue.json(left),
            }
        )

    return plan


def _push_asset(target: str, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    system = "M3" if target == "infor" else "FreshBooks"

    @dg.asset(
        key=PUSH_KEYS[target],
        deps=[PLAN_KEY],
        group_name="writeback",
        kinds={"infor" if target == "infor" else "freshbooks"},
        owners=["team:finance-data"],
        description=f"The outbox's due writes to {system}, sent exactly once in effect.",
        partitions_def=partitions,
        pool=POOLS[target],
        check_specs=[
            dg.AssetCheckSpec(
                "no_dead_actions",
                asset=PUSH_KEYS[target],
                description=(f"No write to {system} is dead: every refused write is in `finsync dlq list`."),
            ),
            dg.AssetCheckSpec(
                "nothing_in_doubt_for_long",
                asset=PUSH_KEYS[target],
                description=(f"No write to {system} has been in doubt for more than ten minutes."),
            ),
        ],
    )
    def push(
        context: dg.AssetExecutionContext,
        ledger: LedgerResource,
        settings: SettingsResource,
        clients: PairClients,
        sync_options: SyncOptions,
    ) -> Any:
        pair = context.partition_key
        store = ledger.get()
        config = settings.get().pair(pair)
        openers = {"infor": lambda: clients.infor(pair), "freshbooks": lambda: clients.freshbooks(pair)}
        pusher = Pusher(
            store,
            pair,
            config.write_back,
            {target: openers[target]},
            peers=openers,
            company=config.infor.company if config.infor is not None else "",
            settle_seconds=sync_options.push_settle_seconds,
            lease_seconds=config.write_back.lease_seconds,
            hang_seconds=config.write_back.hang_seconds,
        )
        report = pusher.run([target])
        latencies = store.event_latencies(planned_by(context.run))
        yield dg.MaterializeResult(
            metadata={
                **_latency_metadata(latencies),
                "outcomes": dg.MetadataValue.json(report.as_dict()["by_action"]),
                "done": dg.MetadataValue.int(report.count(State.DONE)),
                "dead": dg.MetadataValue.int(report.count(State.DEAD)),
                "in_doubt": dg.MetadataValue.int(report.count(State.IN_DOUBT)),
                "waiting": dg.MetadataValue.int(report.count(State.BLOCKED) + report.count(State.RETRY_WAIT)),
                "claims_lost": dg.MetadataValue.int(report.lost),
            }
        )
        yield from _checks(store, pair, target, PUSH_KEYS[target])

    return push


def planned_by(run: dg.DagsterRun) -> str:
    """Who planned an action: the inbox batch when the run answers one (its run key, which the inbox rows
    name as ``processed_run``: that is how ``finsync status`` times webhook -> target), else the run."""
    key = run.tags.get(RUN_KEY_TAG, "")
    return key if key.startswith(INBOX_KEY_PREFIX) else f"run {run.run_id}"


def _latency_metadata(latencies: list[float]) -> dict[str, Any]:
    """Received -> written, per delivery this run answered (empty for runs no webhook started)."""
    if not latencies:
        return {}
    return {
        "events": dg.MetadataValue.int(len(latencies)),
        "event_latency_p50_seconds": dg.MetadataValue.float(percentile(latencies, 0.5) or 0.0),
        "event_latency_p95_seconds": dg.MetadataValue.float(percentile(latencies, 0.95) or 0.0),
    }


def _checks(store: Any, pair: str, target: str, key: dg.AssetKey) -> Any:
    actions = store.actions(pair=pair, states=[State.DEAD, State.IN_DOUBT])
    mine = [a for a in actions if a.target == target]
    dead = [a for a in mine if a.state == State.DEAD]
    stale = [a for a in mine if a.state == State.IN_DOUBT and utcnow() - a.updated_at > IN_DOUBT_LIMIT]
    yield dg.AssetCheckResult(
        check_name="no_dead_actions",
        asset_key=key,
        passed=not dead,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(dead)} dead write(s); see `finsync dlq list --pair {pair}`" if dead else None,
        metadata={
            "dead": len(dead),
            "sample": [f"{a.action} {a.source_id}: {a.last_error}" for a in dead[:5]],
        },
    )
    yield dg.AssetCheckResult(
        check_name="nothing_in_doubt_for_long",
        asset_key=key,
        passed=not stale,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(stale)} write(s) in doubt for over ten minutes" if stale else None,
        metadata={"in_doubt_over_10_minutes": len(stale)},
    )
