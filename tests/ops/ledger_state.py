"""A ledger holding what the write side leaves behind: done, planned, in-doubt and dead actions, their
audit entries and dead letters (one of them carrying secrets in its request and response)."""

from __future__ import annotations

from typing import Any

from finsync_dagster.ledger import Call, Ledger, Outcome, PlannedAction, State
from finsync_dagster.ledger.holders import new_owner

SECRET_BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLXZhbHVl"
SECRET_VALUES = ("eyJhbGciOiJIUzI1NiJ9", "s3cr3t-refresh", "hunter2-password", "c2lnbmF0dXJlLXZhbHVl")


def customer(pair: str, source_id: str, **payload: Any) -> PlannedAction:
    return PlannedAction(
        pair=pair,
        action="m3.customer.add",
        target="infor",
        entity="customers",
        source_system="freshbooks",
        source_id=source_id,
        source_version="v1",
        payload={"CUNO": f"FB{source_id}", "CUNM": f"Customer {source_id}", **payload},
        stamp=f"FB{source_id}",
    )


def gl_entry(pair: str, source_id: str) -> PlannedAction:
    return PlannedAction(
        pair=pair,
        action="m3.gl.add",
        target="infor",
        entity="expenses",
        source_system="freshbooks",
        source_id=source_id,
        source_version="v1",
        payload={"AIT1": "9999", "CUAM": "12.50"},
    )


def claim_all(ledger: Ledger, pair: str) -> list[Any]:
    return ledger.claim(pair=pair, target="infor", owner=new_owner(), limit=1000)


def build(ledger: Ledger, pair: str = "acme") -> dict[str, str]:
    """Two customers done, one planned, one in doubt, and three GL entries dead on one invalid account."""
    ledger.plan([customer(pair, "1"), customer(pair, "2"), customer(pair, "3"), customer(pair, "4")])
    ledger.plan([gl_entry(pair, str(n)) for n in (10, 11, 12)])
    claimed = {a.source_id: a for a in claim_all(ledger, pair)}
    for source_id in ("1", "2"):
        action = claimed[source_id]
        ledger.record(action, [Call("CRS610MI/Add", "applied", target_id=f"FB{source_id}", latency_ms=40)])
        assert ledger.finish(action, Outcome.done(f"FB{source_id}"))
    ledger.record(claimed["3"], [Call("CRS610MI/Add", "in_doubt", error="ReadTimeout", latency_ms=30000)])
    assert ledger.finish(
        claimed["3"], Outcome(State.IN_DOUBT, error="ReadTimeout", error_class="UnavailableError")
    )
    for source_id in ("10", "11", "12"):
        action = claimed[source_id]
        message = f"field 'AIT1': account 9999 does not exist (GL{source_id})"
        ledger.record(action, [Call("GLS840MI/AddBatchLine", "refused", error=message, latency_ms=55)])
        assert ledger.finish(
            action,
            Outcome(
                State.DEAD,
                error=message,
                error_class="M3ValidationError",
                error_code="WAI1203",
                request={
                    "call": "GLS840MI/AddBatchLine",
                    "headers": {"Authorization": SECRET_BEARER},
                    "payload": {"AIT1": "9999", "CUAM": "12.50", "refresh_token": "s3cr3t-refresh"},
                },
                response={"status": 400, "body": {"message": message, "password": "hunter2-password"}},
            ),
        )
    # customer 4 stays planned: released untouched
    ledger.release([claimed["4"]])
    return {a.source_id: a.key for a in claimed.values()}
