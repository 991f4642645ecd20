"""The one place the console reaches for the write-back planner: "create in the other system".

``finsync_dagster.push.planning.plan_for_records`` plans the outbox actions that create the given records
in the other system, with the same builders and payload specs as ``finsync push``; the next push (or the
outbox sensor) sends them. The app takes the planner from :func:`find_planner` once, when it is built, so a
test can hand it another; an app built without one shows the button disabled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from finsync_dagster.push.planning import plan_for_records

Planner = Callable[..., Any]


def find_planner() -> Planner | None:
    return plan_for_records


def describe(result: Any) -> str:
    """What the planner did, in a sentence, whatever it returns (a PlanResult, a list of keys...)."""
    added = getattr(result, "added", None)
    if isinstance(added, Sequence):
        unchanged = getattr(result, "unchanged", 0)
        return f"{len(added)} action(s) planned" + (f", {unchanged} already planned" if unchanged else "")
    if isinstance(result, Sequence) and not isinstance(result, str):
        return f"{len(result)} action(s) planned"
    return "planned"
