"""Write-back, the pure half: which reconciliation outcomes become writes, keyed and built how.

``config`` is the ``write_back`` section of ``finsync.yaml``; ``actions`` names every write finsync
makes; ``planner`` turns a pair's reconciliation into ``PlannedAction`` rows for the ledger's outbox. The
writes themselves are made by ``finsync_dagster.push``. Members load on first use
(``finsync_dagster.lazy``), so the settings can read ``config`` without the planner.
"""

from typing import TYPE_CHECKING

from finsync_dagster import lazy

if TYPE_CHECKING:
    from finsync_dagster.writeback.actions import KINDS, ActionKind, kind, m3_number
    from finsync_dagster.writeback.config import Rules, WriteBackConfig
    from finsync_dagster.writeback.planner import Context, Left, Plan, creates_for, plan

_WHERE = {
    "KINDS": "actions",
    "ActionKind": "actions",
    "kind": "actions",
    "m3_number": "actions",
    "Rules": "config",
    "WriteBackConfig": "config",
    "Context": "planner",
    "Left": "planner",
    "Plan": "planner",
    "plan": "planner",
    "creates_for": "planner",
}
__getattr__ = lazy.members(__name__, _WHERE)
__all__ = [
    "KINDS",
    "ActionKind",
    "Context",
    "Left",
    "Plan",
    "Rules",
    "WriteBackConfig",
    "creates_for",
    "kind",
    "m3_number",
    "plan",
]
