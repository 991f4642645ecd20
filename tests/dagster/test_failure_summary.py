"""What `finsync sync` says when steps fail: each root cause once, however many steps it failed.

A connection that breaks mid-run fails every step that uses it with the same error; listing that error
once per step buried the one line that matters (issue 13, item 1)."""

from __future__ import annotations

import dagster as dg

from finsync_dagster.errors import AuthenticationError
from finsync_dagster.pipeline import failure_summary

DEAD = "the FreshBooks token of 'p' cannot be refreshed; run `finsync connect freshbooks --pair p`"


def _failing(name: str, error: Exception) -> dg.AssetsDefinition:
    @dg.asset(name=name)
    def _asset() -> None:
        raise error

    return _asset


def test_steps_failing_for_one_reason_are_counted_and_others_listed() -> None:
    result = dg.materialize(
        [
            *(_failing(f"table_{n}", AuthenticationError(DEAD, system="freshbooks")) for n in range(3)),
            _failing("other", KeyError("CUNO")),
        ],
        raise_on_error=False,
    )
    summary = failure_summary([e for e in result.all_events if e.is_step_failure])
    assert sorted(summary.splitlines()) == [f"3 steps failed: freshbooks: {DEAD}", "other: KeyError: 'CUNO'"]


def test_a_failure_with_a_description_is_told_by_it() -> None:
    @dg.asset
    def connection() -> None:
        raise dg.Failure(description=DEAD, metadata={"reason": DEAD})

    result = dg.materialize([connection], raise_on_error=False)
    assert failure_summary([e for e in result.all_events if e.is_step_failure]) == f"connection: {DEAD}"
