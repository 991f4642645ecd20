"""Dead letters through the console: grouped by pattern, request and response with secrets masked, the
payload edited (masked values kept) and retried once, resolved with a reason, and both for a group."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from finsync_dagster.console.masking import MASK, masked, unmasked
from finsync_dagster.ledger import Ledger, Outcome, PlannedAction, State
from finsync_dagster.ledger.outbox import EDITED
from tests.console.conftest import PAIR, ConsoleWorld, sign_in


def dead(
    ledger: Ledger, source_id: str, *, message: str, payload: dict[str, Any] | None = None, pair: str = PAIR
) -> int:
    """Plan one FreshBooks client create and let the target refuse it for good; returns the letter id."""
    ledger.plan(
        [PlannedAction(pair, "freshbooks.client.create", "freshbooks", "customers", "infor", source_id, "v1",
                       payload or {"client": {"organization": f"Customer {source_id}", "email": "bad@"}})]
    )  # fmt: skip
    (action,) = ledger.claim(pair=pair, target="freshbooks", owner="test-pusher")
    ledger.finish(
        action,
        Outcome(
            State.DEAD,
            error=f"422 field email is invalid for client {source_id}",
            error_class="ValidationError",
            error_code="1004",
            request={
                "method": "POST",
                "headers": {"Authorization": "Bearer abcdef0123456789"},
                "body": action.payload,
            },
            response={"errors": [{"field": "email", "message": message}]},
        ),
    )
    return int(ledger.dead_letters(pair=pair)[-1]["id"])


def test_masking_hides_secret_keys_and_credentials_and_an_edit_gets_them_back() -> None:
    original = {
        "client": {"email": "x@y", "api_key": "k-123"},
        "auth": "Bearer abcdefgh123",
        "list": [{"token": "t"}],
    }
    shown = masked(original)
    assert shown == {
        "client": {"email": "x@y", "api_key": MASK},
        "auth": f"Bearer {MASK}",
        "list": [{"token": MASK}],
    }
    edited = json.loads(json.dumps(shown))
    edited["client"]["email"] = "x@y.example"
    assert unmasked(edited, original) == {**original, "client": {"email": "x@y.example", "api_key": "k-123"}}


def test_letters_are_grouped_by_pattern_with_request_and_response_masked(
    app_client: httpx.Client, world: ConsoleWorld
) -> None:
    for n in range(3):
        dead(world.ledger, f"C{n}", message="email is invalid")
    sign_in(app_client, "vic")
    page = app_client.get("/dead-letters").text
    assert page.count('<section class="group"') == 1 and '<span class="count">3</span>' in page
    assert "ValidationError: # field email is invalid for client #" in page
    assert "abcdef0123456789" not in page and f"&#34;Authorization&#34;: &#34;{MASK}&#34;" in page
    assert "email is invalid" in page
    assert 'class="retry-one"' not in page  # a viewer sees, does not act


def test_retry_with_an_edited_payload_plans_it_again_once(
    app_client: httpx.Client, world: ConsoleWorld
) -> None:
    letter = dead(world.ledger, "C1", message="email is invalid")
    token = sign_in(app_client, "rita")
    fixed = {"client": {"organization": "Customer C1", "email": "ap@c1.example"}}
    for _ in range(2):  # the second retry finds nothing dead and changes nothing
        response = app_client.post(
            "/dead-letters/retry",
            data={
                "csrf_token": token,
                "id": str(letter),
                "payload": json.dumps(fixed),
                "back": "/dead-letters",
            },
        )
        assert response.status_code == 303
    (action,) = world.ledger.actions(pair=PAIR)
    assert action.state == State.PLANNED and action.payload == {**fixed, EDITED: "rita"}
    retries = [r for r in world.ledger.audit_rows(pair=PAIR) if r["call"].startswith("dlq retry")]
    assert [(r["call"], r["outcome"], r["actor"]) for r in retries] == [
        ("dlq retry (payload edited)", "requested", "rita")
    ]
    assert "already retried" in app_client.get("/dead-letters").text


@pytest.mark.parametrize(
    ("text", "said"), [("{not json", "not valid JSON"), ("[1, 2]", "must be a JSON object")]
)
def test_a_payload_that_is_not_a_json_object_is_not_retried(
    app_client: httpx.Client, world: ConsoleWorld, text: str, said: str
) -> None:
    letter = dead(world.ledger, "C1", message="email is invalid")
    token = sign_in(app_client, "rita")
    app_client.post("/dead-letters/retry", data={"csrf_token": token, "id": str(letter), "payload": text})
    assert world.ledger.actions(pair=PAIR)[0].state == State.DEAD
    assert said in app_client.get("/dead-letters").text


def test_resolve_needs_a_reason_and_cancels_the_action(app_client: httpx.Client, world: ConsoleWorld) -> None:
    letter = dead(world.ledger, "C1", message="email is invalid")
    token = sign_in(app_client, "rita")
    app_client.post("/dead-letters/resolve", data={"csrf_token": token, "id": str(letter), "reason": " "})
    assert world.ledger.actions(pair=PAIR)[0].state == State.DEAD
    app_client.post(
        "/dead-letters/resolve", data={"csrf_token": token, "id": str(letter), "reason": "client closed"}
    )
    assert world.ledger.actions(pair=PAIR)[0].state == State.CANCELLED
    resolved = app_client.get("/dead-letters?show=resolved").text
    assert "resolved</strong>: client closed (rita)" in resolved


def test_a_whole_group_is_retried_or_resolved(app_client: httpx.Client, world: ConsoleWorld) -> None:
    for n in range(3):
        dead(world.ledger, f"C{n}", message="email is invalid")
    pattern = world.ledger.dead_letters(pair=PAIR)[0]["pattern"]
    token = sign_in(app_client, "rita")
    app_client.post(
        "/dead-letters/group",
        data={"csrf_token": token, "pattern": pattern, "do": "resolve", "reason": "test data"},
    )
    assert {a.state for a in world.ledger.actions(pair=PAIR)} == {State.CANCELLED}
    assert "Group resolve: 3 resolved" in app_client.get("/dead-letters").text
    dead(world.ledger, "C9", message="email is invalid")
    app_client.post("/dead-letters/group", data={"csrf_token": token, "pattern": pattern, "do": "retry"})
    newest = world.ledger.action(
        world.ledger.dead_letters(pair=PAIR, include_resolved=True)[-1]["action_key"]
    )
    assert newest is not None and newest.state == State.PLANNED
