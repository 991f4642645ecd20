"""Payments look up their AR invoice one by one, renewing each claim first, so a batch whose lookups
outlast the lease never works on a payment another worker has taken over.

The M3 client is a recorder standing in for M3 (what is tested is the handler's use of its claims); the
other worker takes the second payment over while the first one's invoice is being looked up.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from finsync_dagster.ledger import Ledger, PlannedAction, State
from finsync_dagster.push.lane import Lane
from finsync_dagster.push.m3 import push_payment_adds
from finsync_dagster.resources.infor.models import MiOutcome
from finsync_dagster.writeback.config import WriteBackConfig


class TakeoverM3:
    """Answers like M3; while looking up the first payment's order, another worker claims the rest."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.looked_up: list[str] = []
        self.taken: list[str] = []

    def iter_export(self, *, table: str, columns: list[str], where: Any = ()) -> Any:
        reference = where[0][2]
        self.looked_up.append(reference)
        if not self.taken:
            time.sleep(0.2)  # the first lookup outlasts the claim's short lease
            self.taken = [a.key for a in self.ledger.claim(pair="p", target="infor", owner="other")]
        yield [{"OAORNO": f"10{reference}", "OACUNO": "CUST1", "OACUOR": reference}]

    def execute(self, **_: Any) -> list[dict[str, str]]:
        return [{"IVNO": "100001", "YEA4": "2026", "DLIX": "1"}]

    def execute_bulk(self, *, program: str, calls: list[Any], idempotent: bool = False) -> list[MiOutcome]:
        return [MiOutcome(index=i, transaction=c.transaction) for i, c in enumerate(calls)]


def _payment(n: int) -> PlannedAction:
    return PlannedAction(
        pair="p", action="m3.payment.add", target="infor", entity="payments", source_system="freshbooks",
        source_id=str(n), source_version="v1", stamp=f"FBP{n}",
        payload={"line": {"CUNO": "CUST1", "PYAM": "10.00", "LPDT": "20261001"}, "invoice_reference": f"INV{n}"},
    )  # fmt: skip


def test_a_payment_taken_over_during_the_lookups_before_it_is_left_alone(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    ledger.plan([_payment(1), _payment(2)])
    claimed = ledger.claim(pair="p", target="infor", owner="worker", lease_seconds=0.1)
    client = TakeoverM3(ledger)
    lane: Lane[Any] = Lane(ledger, client, WriteBackConfig(), owner="worker", lease_seconds=30)

    results = push_payment_adds(lane, claimed)

    first, second = claimed
    assert client.taken == [second.key]
    assert client.looked_up == ["INV1"]  # the second payment's invoice is the new holder's to look up
    assert [(action.key, outcome.state) for action, outcome in results] == [(first.key, State.DONE)]
