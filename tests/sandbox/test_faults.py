"""The fault plan shared by both sandboxes: its spec, its checks, and which requests a kind may hit.

``finsync sandbox --faults SPEC`` and ``/sandbox/faults`` read the same plan; a bad plan is refused with a
message that names the fix, and ``commit_then_timeout`` is drawn only for writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from finsync_dagster.cli import cli
from finsync_dagster.sandbox.faults import FaultInjector, FaultPlan


def test_the_spec_names_commit_then_timeout_and_how_it_loses_the_answer() -> None:
    plan = FaultPlan.parse("rate=0.05;kinds=commit_then_timeout;ctt=delay;slow_ms=2500;seed=3")

    assert (plan.rate, plan.kinds, plan.ctt, plan.slow_ms) == (0.05, ("commit_then_timeout",), "delay", 2500)
    assert FaultPlan.parse("kinds=commit_then_timeout").ctt == "drop"  # the default
    assert FaultPlan.from_dict(plan.to_dict()) == plan


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("kinds=commit_then_timeout;ctt=sometimes", "ctt must be drop or delay, not 'sometimes'"),
        ("kinds=commit_then_timout", "unknown fault kind 'commit_then_timout': use 5xx statuses, 429, slow, "
         "drop, revoke or commit_then_timeout"),
    ],
)  # fmt: skip
def test_a_bad_plan_is_refused_with_the_fix(spec: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        FaultPlan.parse(spec)
    assert str(caught.value) == message


@given(write=st.booleans(), seed=st.integers(0, 2**16))
def test_commit_then_timeout_is_drawn_for_writes_only(write: bool, seed: int) -> None:
    injector = FaultInjector(FaultPlan(rate=1.0, kinds=("commit_then_timeout", "503"), seed=seed))

    drawn = {injector.draw("/accounting/x", write=write) for _ in range(20)}

    assert drawn <= ({"commit_then_timeout", "503"} if write else {"503"})


def test_a_plan_of_commit_then_timeout_alone_leaves_reads_untouched() -> None:
    injector = FaultInjector(FaultPlan(rate=1.0, kinds=("commit_then_timeout",)))

    assert injector.draw("/M3/x", write=False) is None
    assert injector.injected == 0
    assert injector.draw("/M3/x", write=True) == "commit_then_timeout"


def test_the_sandbox_command_reads_commit_then_timeout_from_faults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started: list[Any] = []

    class Started(Exception):
        pass

    def start(options: Any, _names: Any) -> None:
        started.append(options)
        raise Started

    monkeypatch.setattr("finsync_dagster.cli.sandbox.start", start)
    ok = CliRunner().invoke(
        cli, ["sandbox", "--dir", str(tmp_path), "--faults", "rate=0.05;kinds=commit_then_timeout;ctt=delay"]
    )
    bad = CliRunner().invoke(
        cli, ["sandbox", "--dir", str(tmp_path), "--faults", "kinds=commit_then_timeout;ctt=x"]
    )

    assert isinstance(ok.exception, Started)
    assert (started[0].faults.kinds, started[0].faults.ctt) == (("commit_then_timeout",), "delay")
    assert bad.exit_code == 2 and "ctt must be drop or delay, not 'x'" in bad.output
