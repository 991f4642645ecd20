"""The FreshBooks client's webhook-callback calls against the sandbox (contract §5.1): create, list, verify,
resend and delete, and creates through 500s and dropped connections that still make one callback each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from finsync_dagster.errors import NotFoundError, ValidationError
from finsync_dagster.sandbox.faults import FaultPlan
from tests.clients.freshbooks.helpers import SandboxAccount, connect, loopback_client

NOWHERE = "http://127.0.0.1:9/webhooks/freshbooks/demo"  # nothing listens: deliveries fail, retried


@pytest.fixture
def sandbox(freshbooks_sandbox: Any) -> Iterator[Any]:
    yield freshbooks_sandbox
    freshbooks_sandbox.restore()
    freshbooks_sandbox.state.webhooks.clear()


def test_create_list_verify_resend_delete(sandbox_resource: SandboxAccount, sandbox: Any) -> None:
    connect(sandbox_resource)
    with loopback_client(sandbox_resource) as client:
        created = client.create_callback("invoice.create", NOWHERE)
        other = client.create_callback("payment.update", NOWHERE)
        assert (created.event, created.uri, created.verified) == ("invoice.create", NOWHERE, False)

        assert [c.callback_id for c in client.list_callbacks()] == [created.callback_id, other.callback_id]
        assert [c.callback_id for c in client.list_callbacks(event="payment.update")] == [other.callback_id]

        with pytest.raises(ValidationError, match="Invalid verifier"):
            client.verify_callback(created.callback_id, "not-the-verifier")
        verifier = sandbox.state.webhooks.callbacks[created.callback_id].verifier
        assert client.verify_callback(created.callback_id, verifier).verified
        assert client.resend_verification(other.callback_id).callback_id == other.callback_id

        client.delete_callback(created.callback_id)
        with pytest.raises(NotFoundError):
            client.delete_callback(created.callback_id)
        assert [c.callback_id for c in client.list_callbacks()] == [other.callback_id]


def test_unknown_event_is_a_validation_error(sandbox_resource: SandboxAccount, sandbox: Any) -> None:
    connect(sandbox_resource)
    with loopback_client(sandbox_resource) as client, pytest.raises(ValidationError, match="event"):
        client.create_callback("invoice.explode", NOWHERE)


def test_creates_through_failures_make_one_callback_each(
    sandbox_resource: SandboxAccount, sandbox: Any
) -> None:
    connect(sandbox_resource)
    events = [
        f"{o}.{verb}"
        for o in ("invoice", "payment", "client", "expense", "item")
        for verb in ("create", "update")
    ]
    with loopback_client(sandbox_resource) as client:
        sandbox.state.faults.set_plan(
            FaultPlan(rate=0.4, kinds=("500", "drop"), paths=("/events/*",), seed=3)
        )
        for event in events:
            client.create_callback(event, NOWHERE)
        injected = sandbox.state.faults.injected
        sandbox.restore()
        made = sorted(c.event for c in client.list_callbacks())
    assert injected > 0
    assert made == sorted(events)
