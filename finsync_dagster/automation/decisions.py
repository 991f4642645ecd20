"""What the sensors decide, as plain functions of what they read, so the decisions are tested without Dagster.

A sensor reads (the outbox, a finished run), calls one of these, and turns the answer into run requests
and a cursor; project-dagster-university keeps ``check_for_new_files`` apart from its sensor the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


# The most inbox rows one tick takes: under a flood, at most one run per pair per this many events.
INBOX_BATCH = 500


@dataclass(frozen=True)
class InboxBatch:
    """The inbox rows of one pair that one event-sync run answers, named by their first and last ids.

    ``fresh`` is False for a batch an earlier tick already took (marked processed) but whose cursor was
    not saved: it is asked for again under the same key, which Dagster skips if it was launched.
    """

    pair: str
    ids: tuple[int, ...]
    run_key: str
    fresh: bool = True


def inbox_run_key(pair: str, ids: Sequence[int]) -> str:
    # The batch itself: new rows always make a new key, the same rows the same key.
    return f"{INBOX_KEY_PREFIX}{pair}:{ids[0]}-{ids[-1]}"


INBOX_KEY_PREFIX = "inbox:"

# Event syncs of one pair that may be in flight at once: the one running and one waiting to run. The waiting
# one reads whatever arrived before it starts, so launching more would only queue runs with nothing to do.
MAX_EVENT_RUNS_IN_FLIGHT = 2


def held_cursor(batches: Sequence[InboxBatch], held: Iterable[str], last_id: int) -> int:
    """Where the inbox sensor's cursor goes: past every row read, or just before the first fresh row of a
    pair held back (its rows are read again, with what arrives meanwhile, once a run of it is done)."""
    firsts = [batch.ids[0] for batch in batches if batch.fresh and batch.pair in set(held)]
    return min(firsts) - 1 if firsts else last_id


def inbox_batches(
    rows: Sequence[tuple[int, str, str | None]], *, pairs: Iterable[str]
) -> tuple[list[InboxBatch], list[int]]:
    """Group ``(id, pair, processed_run)`` inbox rows past the cursor into batches, in id order: one new
    batch per known pair for the rows still waiting, and the batches earlier ticks took again, whole.
    Also the waiting rows of pairs no longer configured (to be set aside, never synced)."""
    known = set(pairs)
    waiting: dict[str, list[int]] = {}
    taken: dict[tuple[str, str], list[int]] = {}
    orphans: list[int] = []
    for row_id, pair, run in sorted(rows):
        if run is not None:
            if run.startswith(INBOX_KEY_PREFIX):
                taken.setdefault((pair, run), []).append(row_id)
        elif pair in known:
            waiting.setdefault(pair, []).append(row_id)
        else:
            orphans.append(row_id)
    batches = [InboxBatch(pair, tuple(ids), run, fresh=False) for (pair, run), ids in taken.items()]
    batches += [InboxBatch(pair, tuple(ids), inbox_run_key(pair, ids)) for pair, ids in waiting.items()]
    return sorted(batches, key=lambda batch: batch.ids[0]), orphans
