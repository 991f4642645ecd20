"""What the sensors decide, as plain functions of what they read, so the decisions are tested without Dagster.

A sensor reads (the outbox, a finished run), calls one of these, and turns the answer into run requests
and a cursor; project-dagster-university keeps ``check_for_new_files`` apart from its sensor the same way.
"""

from __future__ import annotations

from datetime import datetime

# How often, at most, a push is launched for actions that are only retries (nothing newly planned).
RETRY_PUSH_MINUTES = 2


def push_run_key(pair: str, *, due: int, highest_id: int, now: datetime) -> str | None:
    """The run key of the push to launch for ``pair``, or None when nothing is due.

    The key names the newest planned action and a short time bucket: a new plan launches a push at once;
    retries and in-doubt lookups falling due launch at most one push per bucket. A key already used is
    skipped by Dagster, so a tick that finds nothing new launches nothing twice.
    """
    if due <= 0:
        return None
    bucket = int(now.timestamp() // (RETRY_PUSH_MINUTES * 60))
    return f"push:{pair}:{highest_id}:{bucket}"


def plans_after(job_name: str, *, pair: str | None, watched: frozenset[str], writes: frozenset[str]) -> bool:
    """Whether a successful run of ``job_name`` for ``pair`` should be followed by planning and pushing:
    a reconciling job, for a pair whose write-back rules are not all off."""
    return job_name in watched and pair is not None and pair in writes
