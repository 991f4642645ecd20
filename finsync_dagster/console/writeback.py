"""The one place the console reaches for the write-back planner: "create in the other system".

``finsync_dagster.writeback.plan_for_records(settings, ledger, pair, entity, source, source_ids,
planned_by)`` plans the outbox actions that create the given records of ``source`` in the other system
(the same rules and payload specs as ``finsync push``). It is looked up once, when the app is built;
without it the button is shown disabled, saying write-back is not available.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

Planner = Callable[..., Any]
PLANNER_MODULE = "finsync_dagster.writeback"


def find_planner() -> Planner | None:
    """``plan_for_records`` if this finsync has it; None when the write-back module is not there."""
    try:
        module = importlib.import_module(PLANNER_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == PLANNER_MODULE:
            return None
        raise  # the module is there but broken: say so, do not hide it
    planner = getattr(module, "plan_for_records", None)
    return planner if callable(planner) else None


def describe(result: Any) -> str:
    """What the planner did, in a sentence, whatever it returns (a PlanResult, a list of keys...)."""
    added = getattr(result, "added", None)
    if isinstance(added, Sequence):
        unchanged = getattr(result, "unchanged", 0)
        return f"{len(added)} action(s) planned" + (f", {unchanged} already planned" if unchanged else "")
    if isinstance(result, Sequence) and not isinstance(result, str):
        return f"{len(result)} action(s) planned"
    return "planned"
