"""A worker stopped after renewing its claim does not send once it wakes past its lease.

The fence stops a stalled worker from recording anything, but M3 and FreshBooks do not check fences: the
write itself must not go out. Time is the boundary here (a stall is simulated by moving the lane's
monotonic clock past the lease); the M3 client is a recorder, since what is tested is that nothing reaches it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from finsync_dagster.ledger import Ledger, PlannedAction, State
from finsync_dagster.push.lane import Lane
from finsync_dagster.push.m3 import push_customer_adds
from finsync_dagster.resources.infor.models import MiOutcome
from finsync_dagster.writeback.config import WriteBackConfig

LEASE = 30.0


class RecordingM3:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def execute_bulk(self, *, program: str, calls: list[Any], idempotent: bool = False) -> list[MiOutcome]:
        self.sent.extend(calls)
        return [
            MiOutcome(index=i, transaction=c.transaction, records=({"CUNO": "FB1"},))
            for i, c in enumerate(calls)
        ]


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    store = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    store.migrate()
    store.plan([PlannedAction(pair="p", action="m3.customer.add", target="infor", entity="customers",
                              source_system="freshbooks", source_id="1", source_version="v1",
                              payload={"CUNO": "FB1", "CUNM": "One"}, stamp="FB1")])  # fmt: skip
    return store


def _lane(ledger: Ledger, client: RecordingM3) -> Lane[Any]:
    return Lane(ledger, client, WriteBackConfig(), owner="worker", lease_seconds=LEASE)


def test_a_claim_renewed_just_now_may_send(ledger: Ledger) -> None:
    [action] = ledger.claim(pair="p", target="infor", owner="worker", lease_seconds=LEASE)
    client = RecordingM3()
    [(_, outcome)] = push_customer_adds(_lane(ledger, client), [action])
    assert outcome.state == State.DONE and len(client.sent) == 1


def test_a_worker_stalled_past_its_lease_after_renewing_sends_nothing(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    [action] = ledger.claim(pair="p", target="infor", owner="worker", lease_seconds=LEASE)
    client = RecordingM3()
    lane = _lane(ledger, client)
    real = time.monotonic
    renewed = lane.held([action])
    assert renewed == [action] and lane.may_send(action)
    monkeypatch.setattr(time, "monotonic", lambda: real() + LEASE + 1)  # SIGSTOP ... SIGCONT
    assert not lane.may_send(action)
    monkeypatch.setattr(lane, "held", lambda actions: list(actions))  # stalled right after its renewal
    [(_, outcome)] = push_customer_adds(lane, [action])
    assert client.sent == []
    assert outcome.state == State.RETRY_WAIT and "not sent" in (outcome.error or "")
