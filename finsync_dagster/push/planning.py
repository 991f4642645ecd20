"""Planning a pair's writes from its warehouse and ledger: the glue the plan asset and the CLI share.

``plan_pair`` reads what the ledger knows (crosswalk, creates already planned) and runs the pure planner
(``writeback.plan``) over the pair's ``core.*`` and ``recon.*`` tables; ``record`` puts the result in the
outbox, where planning the same reconciliation twice adds nothing; ``preview`` tells what a push would do
without writing anything anywhere (``finsync push --dry-run``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from finsync_dagster.ledger import Action, Ledger, PlannedAction, PlanResult, State
from finsync_dagster.mapping import load_specs
from finsync_dagster.pairlock import hold_pair
from finsync_dagster.settings import Settings
from finsync_dagster.writeback import KINDS, Context, Plan, creates_for, plan

_CREATES = [name for name, kind in KINDS.items() if not kind.versioned]


def plan_pair(con: duckdb.DuckDBPyConnection, settings: Settings, ledger: Ledger, pair: str) -> Plan:
    return plan(con, _context(settings, ledger, pair))


def plan_for_records(
    settings: Settings,
    ledger: Ledger,
    pair: str,
    entity: str,
    source: str,
    source_ids: Sequence[str],
    planned_by: str,
) -> PlanResult:
    """Plan the creates of the named records in the other system (the console's "create in ...").

    The pair's warehouse is read under the pair's lock, briefly and read-only; the next push sends them.
    """
    with (
        hold_pair(settings.home, pair, what=planned_by, wait_seconds=30),
        duckdb.connect(str(settings.warehouse_path(pair)), read_only=True) as connection,
    ):
        planned = creates_for(connection, _context(settings, ledger, pair), entity, source, list(source_ids))
    return record(ledger, planned, planned_by=planned_by)


def _context(settings: Settings, ledger: Ledger, pair: str) -> Context:
    config = settings.pair(pair)
    creates = {
        (action.action, action.source_id): action
        for action in ledger.actions(pair=pair)
        if action.action in _CREATES
    }
    return Context(
        pair=pair,
        config=config.write_back,
        specs={spec.name: spec for spec in load_specs(overlay=settings.specs_overlay)},
        company=config.infor.company if config.infor is not None else "",
        links=ledger.links(pair),
        creates=creates,
    )


def record(ledger: Ledger, planned: Plan, *, planned_by: str) -> PlanResult:
    return ledger.plan(planned.actions, planned_by=planned_by)


@dataclass(frozen=True)
class Intended:
    """One write a push would make now: newly planned, or already waiting in the outbox."""

    key: str
    action: str
    target: str
    source_id: str
    stamp: str | None
    new: bool

    @property
    def verb(self) -> str:
        return "update" if KINDS[self.action].versioned else "create"


def preview(ledger: Ledger, pair: str, planned: Plan) -> list[Intended]:
    """The writes the next push would make, in outbox order, writing nothing.

    New actions the plan adds (their dependencies taken as they would be) and the actions already due.
    Actions that would wait (blocked on a dependency or a condition in the target) are left out; so are
    the ones a mapping refused, which would go straight to the dead letters.
    """
    existing = {action.key: action for action in ledger.actions(pair=pair)}
    due_now: list[Intended] = [
        _intended(action, new=False)
        for action in existing.values()
        if action.state in (State.PLANNED, State.RETRY_WAIT, State.IN_DOUBT)
        and "_refused" not in action.payload
    ]
    fresh = [a for a in planned.actions if a.key not in existing and "_refused" not in a.payload]
    due_keys = {i.key for i in due_now} | {a.key for a in fresh}
    done = {key for key, action in existing.items() if action.state == State.DONE}
    runnable = [a for a in fresh if a.depends_on is None or a.depends_on in done or a.depends_on in due_keys]
    return due_now + [_intended_new(a) for a in runnable]


def _intended(action: Action, *, new: bool) -> Intended:
    return Intended(action.key, action.action, action.target, action.source_id, action.stamp, new)


def _intended_new(action: PlannedAction) -> Intended:
    return Intended(action.key, action.action, action.target, action.source_id, action.stamp, True)
