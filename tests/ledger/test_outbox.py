"""The outbox's state machine on SQLite and PostgreSQL: idempotent planning, claims under a fence, the
hand-over of a dead or stalled holder's actions, dependencies, the crosswalk and dead letters.

These are the guarantees the pusher builds on: a completion under a stale fence changes nothing, so a
worker that wakes after its action was taken over cannot finish it a second time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from finsync_dagster.ledger import (
    Call,
    CrosswalkConflictError,
    Ledger,
    Link,
    Outcome,
    PlannedAction,
    State,
    action_key,
    utcnow,
)
from finsync_dagster.ledger.holders import new_owner
from finsync_dagster.ledger.schema import outbox

PAIR = "acme"


def customer_add(source_id: str = "101", version: str = "v1", **changes: object) -> PlannedAction:
    values: dict[str, object] = {
        "pair": PAIR,
        "action": "m3.customer.add",
        "target": "infor",
        "entity": "customers",
        "source_system": "freshbooks",
        "source_id": source_id,
        "source_version": version,
        "payload": {"CUNO": f"FB{source_id}", "CUNM": "Bjørnstad Sjømat AS"},
        "stamp": f"FB{source_id}",
    }
    values.update(changes)
    return PlannedAction(**values)  # type: ignore[arg-type]


def claim_one(ledger: Ledger, owner: str | None = None, **options: object) -> list:
    return ledger.claim(pair=PAIR, target="infor", owner=owner or new_owner(), **options)  # type: ignore[arg-type]


def test_planning_the_same_actions_twice_adds_nothing(ledger: Ledger) -> None:
    first = ledger.plan([customer_add("1"), customer_add("2")], planned_by="test")
    second = ledger.plan([customer_add("1"), customer_add("2")], planned_by="test")
    assert len(first.added) == 2 and second.added == [] and second.unchanged == 2
    assert ledger.outbox_counts(PAIR) == {"planned": 2}


def test_a_create_is_one_action_per_source_record_whatever_its_version(ledger: Ledger) -> None:
    ledger.plan([customer_add("1", "v1")])
    result = ledger.plan([customer_add("1", "v2")])
    assert result.added == [] and result.unchanged == 1
    assert (
        customer_add("1", "v1").key == customer_add("1", "v2").key == action_key(PAIR, "m3.customer.add", "1")
    )


def test_a_newer_update_cancels_the_older_one_not_yet_sent(ledger: Ledger) -> None:
    older = customer_add("1", "v1", action="m3.customer.change", versioned=True)
    newer = customer_add("1", "v2", action="m3.customer.change", versioned=True)
    ledger.plan([older])
    result = ledger.plan([newer])
    assert result.superseded == 1
    assert ledger.action(older.key).state == State.CANCELLED  # type: ignore[union-attr]
    assert ledger.action(newer.key).state == State.PLANNED  # type: ignore[union-attr]


def test_a_newer_update_waits_for_the_one_being_sent(ledger: Ledger) -> None:
    older = customer_add("1", "v1", action="m3.customer.change", versioned=True)
    ledger.plan([older])
    [sending] = claim_one(ledger)
    newer = customer_add("1", "v2", action="m3.customer.change", versioned=True)
    ledger.plan([newer])
    assert ledger.action(newer.key).state == State.BLOCKED  # type: ignore[union-attr]
    assert claim_one(ledger) == []
    assert ledger.finish(sending, Outcome.done("FB1"))
    [next_one] = claim_one(ledger)
    assert next_one.key == newer.key


def test_claims_are_exclusive_and_bump_the_fence(ledger: Ledger) -> None:
    ledger.plan([customer_add(str(n)) for n in range(5)])
    first = claim_one(ledger, limit=3)
    second = claim_one(ledger, limit=3)
    assert len(first) == 3 and len(second) == 2
    assert {a.key for a in first}.isdisjoint({a.key for a in second})
    assert all(a.fence == 1 and a.state == State.SENDING and not a.resumed for a in first + second)
    assert claim_one(ledger) == []


def test_done_writes_the_crosswalk_in_the_same_transaction(ledger: Ledger) -> None:
    ledger.plan([customer_add("7")])
    [action] = claim_one(ledger)
    assert ledger.finish(action, Outcome.done("FB7", Link("customers", "7", "FB7")))
    done = ledger.action(action.key)
    assert done is not None and done.state == State.DONE and done.target_id == "FB7" and done.done_at
    assert [(r["freshbooks_id"], r["infor_id"], r["origin"]) for r in ledger.links(PAIR)] == [
        ("7", "FB7", "created")
    ]


def test_a_stale_fence_changes_nothing(ledger: Ledger) -> None:
    """A worker whose action was taken over cannot complete it, record progress or dead-letter it."""
    ledger.plan([customer_add("8")])
    # a worker on another host whose lease has lapsed: its action is taken over
    [stale] = claim_one(ledger, owner="4242@elsewhere/boot/nonce", lease_seconds=-1)
    [current] = claim_one(ledger)
    assert current.fence == stale.fence + 1 and current.resumed
    assert not ledger.finish(stale, Outcome.done("FB8", Link("customers", "8", "FB8")))
    assert not ledger.record(stale, [Call("CRS610MI/Add", "applied")], progress={"step": "x"})
    assert not ledger.renew(stale)
    assert ledger.links(PAIR) == []
    assert ledger.finish(current, Outcome.done("FB8", Link("customers", "8", "FB8")))
    # the stale worker's call is still a fact in the audit log, under its own fence
    assert [(r["call"], r["fence"]) for r in ledger.audit_rows(pair=PAIR)] == [("CRS610MI/Add", stale.fence)]


def test_a_dead_holders_actions_are_taken_over_at_once(ledger: Ledger) -> None:
    ledger.plan([customer_add("9")])
    child = subprocess.run(
        [sys.executable, "-c", "from finsync_dagster.ledger.holders import new_owner; print(new_owner())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_owner = child.stdout.strip()  # a process of this host that has exited
    [taken] = claim_one(ledger, owner=dead_owner, lease_seconds=300)
    [again] = claim_one(ledger)
    assert again.key == taken.key and again.resumed and again.fence == taken.fence + 1


def test_a_live_holder_keeps_its_actions_past_its_lease_until_the_hang_limit(ledger: Ledger) -> None:
    """A stopped (SIGSTOP) worker of this host comes back and carries on; it is not raced by a successor."""
    ledger.plan([customer_add("10")])
    [held] = claim_one(ledger, owner=new_owner(), lease_seconds=-1)  # this live process, lease lapsed
    assert claim_one(ledger, hang_seconds=600) == []
    [taken] = claim_one(ledger, hang_seconds=0)
    assert taken.key == held.key and taken.resumed


def test_in_doubt_and_retry_wait_come_back_when_due(ledger: Ledger) -> None:
    ledger.plan([customer_add("11"), customer_add("12")])
    doubtful, transient = claim_one(ledger)
    later = utcnow() + timedelta(hours=1)
    assert ledger.finish(doubtful, Outcome(State.IN_DOUBT, error="timed out", next_attempt_at=utcnow()))
    assert ledger.finish(transient, Outcome(State.RETRY_WAIT, error="503", next_attempt_at=later))
    [again] = claim_one(ledger)
    assert again.key == doubtful.key and again.resumed and again.attempts == 1
    assert claim_one(ledger) == []


def test_a_dependency_blocks_until_it_is_done_and_never_dead_letters(ledger: Ledger) -> None:
    customer = customer_add("20")
    order = PlannedAction(
        pair=PAIR,
        action="m3.order.add",
        target="infor",
        entity="invoices",
        source_system="freshbooks",
        source_id="500",
        source_version="v1",
        payload={"CUOR": "FS-500"},
        stamp="FS-500",
        depends_on=customer.key,
    )
    ledger.plan([customer, order])
    assert ledger.action(order.key).state == State.BLOCKED  # type: ignore[union-attr]
    [first] = claim_one(ledger)
    assert first.key == customer.key
    assert ledger.finish(first, Outcome(State.DEAD, error="CUNM is missing", error_class="ValidationError"))
    assert claim_one(ledger) == []
    assert ledger.action(order.key).state == State.BLOCKED  # type: ignore[union-attr]
    assert [d["action_key"] for d in ledger.dead_letters(pair=PAIR)] == [customer.key]


def test_dead_letters_retry_once_and_resolve(ledger: Ledger) -> None:
    ledger.plan([customer_add("30"), customer_add("31")])
    for action in claim_one(ledger):
        assert ledger.finish(
            action,
            Outcome(
                State.DEAD,
                error=f"CRS610MI/Add: field CUNM: Name {action.source_id}x is too long",
                error_class="ValidationError",
                request={"call": "CRS610MI/Add", "payload": action.payload},
            ),
        )
    letters = ledger.dead_letters(pair=PAIR)
    assert len(letters) == 2 and letters[0]["pattern"] == letters[1]["pattern"]  # one error pattern
    first, second = letters
    assert ledger.retry_dead(first["id"], by="ana", payload={"CUNO": "FB30", "CUNM": "Short"}) == "retried"
    assert ledger.retry_dead(first["id"], by="ana") == "already retried"
    retried = ledger.action(first["action_key"])
    assert retried is not None and retried.state == State.PLANNED and retried.payload["CUNM"] == "Short"
    assert ledger.resolve_dead(second["id"], reason="entered by hand in M3", by="ana") == "resolved"
    assert ledger.action(second["action_key"]).state == State.CANCELLED  # type: ignore[union-attr]
    assert ledger.dead_letters(pair=PAIR) == []
    calls = [(r["call"], r["actor"]) for r in ledger.audit_rows(pair=PAIR)]
    assert ("dlq retry (payload edited)", "ana") in calls and ("dlq resolve", "ana") in calls


def test_a_dead_create_is_planned_again_from_a_newer_source_version(ledger: Ledger) -> None:
    ledger.plan([customer_add("40", "v1")])
    [action] = claim_one(ledger)
    assert ledger.finish(action, Outcome(State.DEAD, error="too long", error_class="ValidationError"))
    result = ledger.plan([customer_add("40", "v2", payload={"CUNO": "FB40", "CUNM": "fixed"})])
    assert result.replanned == [action.key]
    replanned = ledger.action(action.key)
    assert replanned is not None and replanned.state == State.PLANNED and replanned.payload["CUNM"] == "fixed"
    assert ledger.dead_letters(pair=PAIR) == []


def test_the_crosswalk_refuses_a_second_partner(ledger: Ledger) -> None:
    ledger.link(PAIR, Link("customers", "1", "C1"), by="ana")
    ledger.link(PAIR, Link("customers", "1", "C1"), by="ana")  # the same pairing again: nothing new
    with pytest.raises(CrosswalkConflictError):
        ledger.link(PAIR, Link("customers", "1", "C2"))
    assert len(ledger.links(PAIR, "customers")) == 1


def test_release_gives_claims_back_without_an_attempt(ledger: Ledger) -> None:
    ledger.plan([customer_add("50")])
    claimed = claim_one(ledger)
    ledger.release(claimed)
    [again] = claim_one(ledger)
    assert again.attempts == 0 and not again.resumed


def test_due_summary_counts_what_a_push_would_take(ledger: Ledger) -> None:
    ledger.plan([customer_add("60"), customer_add("61")])
    [one] = claim_one(ledger, limit=1)
    ledger.finish(
        one, Outcome(State.RETRY_WAIT, error="429", next_attempt_at=utcnow() + timedelta(minutes=5))
    )
    due, upcoming, highest = ledger.due_summary(PAIR)
    assert due == 1 and upcoming is not None and highest >= 2


def test_claims_from_racing_processes_never_overlap(ledger: Ledger, tmp_path) -> None:
    """Four processes claim and complete from one outbox at once: every action is claimed exactly once."""
    ledger.plan([customer_add(str(n)) for n in range(200)])
    script = (
        "import sys, json\n"
        "from finsync_dagster.ledger import Ledger, Outcome\n"
        "from finsync_dagster.ledger.holders import new_owner\n"
        "ledger = Ledger(sys.argv[1]); owner = new_owner(); got = []\n"
        "while True:\n"
        "    batch = ledger.claim(pair='acme', target='infor', owner=owner, limit=7)\n"
        "    if not batch: break\n"
        "    got += [a.key for a in batch if ledger.finish(a, Outcome.done(a.source_id))]\n"
        "print(json.dumps(got))\n"
    )
    env = {**os.environ, "FINSYNC_TOKEN_KEY": os.environ.get("FINSYNC_TOKEN_KEY", "")}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, ledger.url], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(4)
    ]
    import json

    claimed = [key for worker in workers for key in json.loads(worker.communicate(timeout=120)[0])]
    assert len(claimed) == 200 and len(set(claimed)) == 200
    with ledger.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.max(outbox.c.fence))).scalar() == 1


def test_an_action_not_sent_yet_takes_the_payload_planned_now(ledger: Ledger) -> None:
    """A fixed mapping reaches actions that have not gone out; never one that may have reached the target."""
    ledger.plan([customer_add("70"), customer_add("71")])
    [doubtful] = claim_one(ledger, limit=1)
    ledger.finish(doubtful, Outcome(State.IN_DOUBT, error="timed out", next_attempt_at=utcnow()))
    fixed = [customer_add(n, payload={"CUNO": f"FB{n}", "CUNM": "fixed"}) for n in ("70", "71")]
    result = ledger.plan(fixed)
    assert result.refreshed == [customer_add("71").key]
    assert ledger.action(customer_add("71").key).payload["CUNM"] == "fixed"  # type: ignore[union-attr]
    assert ledger.action(doubtful.key).payload["CUNM"] == "Bjørnstad Sjømat AS"  # type: ignore[union-attr]


def test_a_payload_a_person_edited_is_kept_by_later_plans(ledger: Ledger) -> None:
    ledger.plan([customer_add("80")])
    [action] = claim_one(ledger)
    ledger.finish(action, Outcome(State.DEAD, error="too long", error_class="ValidationError"))
    [letter] = ledger.dead_letters(pair=PAIR)
    ledger.retry_dead(letter["id"], by="ana", payload={"CUNO": "FB80", "CUNM": "by hand"})
    assert ledger.plan([customer_add("80", payload={"CUNO": "FB80", "CUNM": "mapped"})]).refreshed == []
    kept = ledger.action(action.key)
    assert kept is not None and kept.payload["CUNM"] == "by hand" and kept.payload["_edited_by"] == "ana"
