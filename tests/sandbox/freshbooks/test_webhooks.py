"""Webhook callbacks of the FreshBooks sandbox (contract section 5), end to end on loopback.

A tiny receiver runs on loopback: it records every POST and can be told to fail. The tests register a
callback, complete the verification handshake with the verifier the sandbox posted, then check that
each create/update/delete arrives form-encoded, in the documented field order, signed exactly as the
contract's recipe says, and retried when the receiver fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from finsync_dagster.sandbox.freshbooks.webhooks import SIGNATURE_HEADER, sign
from tests.fixtures.freshbooks import FreshBooksSandboxHandle


def test_signature_recipe_on_the_contract_vector() -> None:
    body = (
        "name=invoice.create&object_id=1234567&account_id=6BApk&business_id=6543&identity_id=1234&user_id=1"
    )
    assert sign("test-verifier", parse_qsl(body)) == "xZJX+xO+LjYfVDYfVCIAK9Xk1gy1TLgKAOyGqibyyfQ="


def _verify_as_a_receiver_would(verifier: str, body: bytes, signature: str) -> bool:
    """The receiver's side of the recipe, written independently of the sandbox's ``sign``."""
    fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))  # dicts keep posted order
    message = json.dumps({k: str(v) for k, v in fields.items()}).encode("utf-8")
    digest = hmac.new(verifier.encode("utf-8"), message, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode("ascii"), signature)


@dataclass
class Receiver:
    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while not (found := [p for p in self.posts if predicate(p)]):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching delivery; got {[p['fields'] for p in self.posts]}")
                self.arrived.wait(remaining)
            return found

    def names(self) -> list[str]:
        return [p["fields"].get("name") for p in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            rec = box["r"]
            with rec.arrived:
                failing = rec.fail_next > 0
                rec.fail_next -= 1 if failing else 0
                rec.posts.append(
                    {
                        "body": body,
                        "fields": dict(parse_qsl(body.decode())),
                        "order": [k for k, _ in parse_qsl(body.decode())],
                        "content_type": self.headers.get("Content-Type"),
                        "signature": self.headers.get(SIGNATURE_HEADER),
                        "status": 500 if failing else 200,
                    }
                )
                rec.arrived.notify_all()
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box["r"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks/freshbooks")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box["r"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api(freshbooks_empty_sandbox: FreshBooksSandboxHandle) -> Iterator[httpx.Client]:
    with freshbooks_empty_sandbox.client() as client:
        yield client
    freshbooks_empty_sandbox.restore()
    freshbooks_empty_sandbox.state.webhooks.clear()  # no callback outlives its receiver


def _callbacks_url(sb: FreshBooksSandboxHandle) -> str:
    return f"{sb.api_url}/events/account/{sb.account_id}/events/callbacks"


def _register(api: httpx.Client, sb: FreshBooksSandboxHandle, event: str, uri: str) -> dict[str, Any]:
    response = api.post(_callbacks_url(sb), json={"callback": {"event": event, "uri": uri}})
    assert response.status_code == 200, response.text
    return response.json()["response"]["result"]["callback"]


def _verified(
    api: httpx.Client, sb: FreshBooksSandboxHandle, receiver: Receiver, event: str
) -> dict[str, Any]:
    callback = _register(api, sb, event, receiver.url)
    handshake = receiver.wait_for(
        lambda p: (
            p["fields"].get("name") == "callback.verify"
            and p["fields"].get("object_id") == str(callback["callbackid"])
        )
    )[-1]
    response = api.put(
        f"{_callbacks_url(sb)}/{callback['callbackid']}",
        json={"callback": {"verifier": handshake["fields"]["verifier"]}},
    )
    assert (
        response.status_code == 200 and response.json()["response"]["result"]["callback"]["verified"] is True
    )
    return {**callback, "verifier": handshake["fields"]["verifier"]}


def test_callback_crud_and_envelopes(
    api: httpx.Client, freshbooks_empty_sandbox: FreshBooksSandboxHandle
) -> None:
    sb = freshbooks_empty_sandbox
    url = _callbacks_url(sb)
    created = _register(api, sb, "invoice.create", "https://hooks.example/fb")
    assert set(created) == {"callbackid", "event", "uri", "verified", "updated_at"}
    assert created["verified"] is False and created["updated_at"].endswith("Z")
    parent = _register(api, sb, "invoice", "https://hooks.example/fb-all")
    other = _register(api, sb, "client.delete", "https://hooks.example/fb-clients")
    listed = api.get(url, params={"search[event]": "invoice.create"}).json()["response"]["result"]
    assert {cb["callbackid"] for cb in listed["callbacks"]} == {created["callbackid"], parent["callbackid"]}
    assert {"page", "pages", "per_page", "total"} <= set(listed)
    moved = api.put(f"{url}/{other['callbackid']}", json={"callback": {"event": "client.update"}})
    assert moved.json()["response"]["result"]["callback"]["event"] == "client.update"
    assert api.get(f"{url}/{created['callbackid']}").json()["response"]["result"]["callback"] == created
    for cb in (created, parent, other):
        deleted = api.delete(f"{url}/{cb['callbackid']}")
        assert deleted.status_code == 204 and deleted.content == b""
    gone = api.get(f"{url}/{created['callbackid']}")
    assert gone.status_code == 404
    assert gone.json() == {"errno": 404, "message": "Requested resource could not be found."}


def test_callback_validation_uses_the_flat_events_envelope(
    api: httpx.Client, freshbooks_empty_sandbox: FreshBooksSandboxHandle
) -> None:
    response = api.post(
        _callbacks_url(freshbooks_empty_sandbox),
        json={"callback": {"event": "invoice.explode", "uri": "not a url"}},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errno"] == 422
    assert body["details"] == [
        "event: Value error, Unrecognized event.",
        "uri: Input should be a valid URL, relative URL without a base",
    ]


def test_callbacks_without_a_token(freshbooks_empty_sandbox: FreshBooksSandboxHandle) -> None:
    response = httpx.get(_callbacks_url(freshbooks_empty_sandbox))
    assert response.status_code == 401
    assert response.json() == {
        "errno": 401,
        "message": "invalid_token: The request token failed to authenticate or validate.",
    }


def test_handshake_then_signed_events_in_documented_order(
    api: httpx.Client, freshbooks_empty_sandbox: FreshBooksSandboxHandle, receiver: Receiver
) -> None:
    sb = freshbooks_empty_sandbox
    callback = _register(api, sb, "invoice", receiver.url)
    handshake = receiver.wait_for(lambda p: p["fields"].get("name") == "callback.verify")[0]
    verifier = handshake["fields"]["verifier"]
    assert handshake["fields"]["object_id"] == str(callback["callbackid"])
    assert _verify_as_a_receiver_would(verifier, handshake["body"], handshake["signature"])
    # Not verified yet: nothing is delivered.
    client = api.post(
        sb.accounting_url("users/clients"), json={"client": {"organization": "Hook Co"}}
    ).json()["response"]["result"]["client"]
    early = api.post(
        sb.accounting_url("invoices/invoices"),
        json={"invoice": {"customerid": client["id"], "create_date": "2026-05-01"}},
    )
    sb.state.webhooks.wait_idle()
    assert receiver.names() == ["callback.verify"]
    wrong = api.put(
        f"{_callbacks_url(sb)}/{callback['callbackid']}", json={"callback": {"verifier": "guess"}}
    )
    assert wrong.status_code == 400 and wrong.json()["errno"] == 422
    assert (
        api.put(
            f"{_callbacks_url(sb)}/{callback['callbackid']}", json={"callback": {"verifier": verifier}}
        ).status_code
        == 200
    )

    invoice_id = early.json()["response"]["result"]["invoice"]["id"]
    api.put(sb.accounting_url(f"invoices/invoices/{invoice_id}"), json={"invoice": {"notes": "updated"}})
    api.delete(sb.accounting_url(f"invoices/invoices/{invoice_id}"))
    new = api.post(
        sb.accounting_url("invoices/invoices"),
        json={"invoice": {"customerid": client["id"], "create_date": "2026-05-02"}},
    )
    new_id = new.json()["response"]["result"]["invoice"]["id"]
    receiver.wait_for(lambda p: p["fields"].get("name") == "invoice.create")
    sb.state.webhooks.wait_idle()
    events = [(p["fields"]["name"], p["fields"]["object_id"]) for p in receiver.posts[1:]]
    assert events == [
        ("invoice.update", str(invoice_id)),
        ("invoice.delete", str(invoice_id)),
        ("invoice.create", str(new_id)),
    ]
    for post in receiver.posts[1:]:
        assert post["content_type"] == "application/x-www-form-urlencoded"
        assert post["order"] == ["name", "object_id", "account_id", "business_id", "identity_id", "user_id"]
        assert post["fields"]["account_id"] == sb.account_id
        assert post["fields"]["business_id"] == str(sb.info["business_id"])
        assert _verify_as_a_receiver_would(verifier, post["body"], post["signature"])
        assert not _verify_as_a_receiver_would("another-verifier", post["body"], post["signature"])


def test_only_subscribed_events_are_delivered(
    api: httpx.Client, freshbooks_empty_sandbox: FreshBooksSandboxHandle, receiver: Receiver
) -> None:
    sb = freshbooks_empty_sandbox
    _verified(api, sb, receiver, "client.create")
    created = api.post(sb.accounting_url("users/clients"), json={"client": {"organization": "Only Create"}})
    cid = created.json()["response"]["result"]["client"]["id"]
    api.put(sb.accounting_url(f"users/clients/{cid}"), json={"client": {"note": "changed"}})
    sb.state.webhooks.wait_idle()
    assert receiver.names() == ["callback.verify", "client.create"]


def test_failed_deliveries_are_retried(
    api: httpx.Client, freshbooks_empty_sandbox: FreshBooksSandboxHandle, receiver: Receiver
) -> None:
    sb = freshbooks_empty_sandbox
    _verified(api, sb, receiver, "item.create")
    receiver.fail_next = 2
    api.post(sb.accounting_url("items/items"), json={"item": {"name": "Retried"}})
    deliveries = receiver.wait_for(lambda p: p["fields"].get("name") == "item.create" and p["status"] == 200)
    assert len(deliveries) == 1
    attempts = [p["status"] for p in receiver.posts if p["fields"].get("name") == "item.create"]
    assert attempts == [500, 500, 200]
    log = [
        d
        for d in httpx.get(f"{sb.info['control_url']}/webhooks/deliveries").json()["deliveries"]
        if d["name"] == "item.create"
    ]
    assert [(d["attempt"], d["ok"]) for d in log] == [(1, False), (2, False), (3, True)]


def test_resend_posts_the_verifier_again(
    api: httpx.Client, freshbooks_empty_sandbox: FreshBooksSandboxHandle, receiver: Receiver
) -> None:
    sb = freshbooks_empty_sandbox
    callback = _register(api, sb, "tax", receiver.url)
    receiver.wait_for(lambda p: p["fields"].get("name") == "callback.verify")
    response = api.put(f"{_callbacks_url(sb)}/{callback['callbackid']}", json={"callback": {"resend": True}})
    assert response.status_code == 200
    sb.state.webhooks.wait_idle()
    handshakes = [p for p in receiver.posts if p["fields"].get("name") == "callback.verify"]
    assert len(handshakes) == 2 and handshakes[0]["fields"]["verifier"] == handshakes[1]["fields"]["verifier"]


def test_delivery_delay_does_not_block_the_api(
    api: httpx.Client, freshbooks_empty_sandbox: FreshBooksSandboxHandle, receiver: Receiver
) -> None:
    sb = freshbooks_empty_sandbox
    _verified(api, sb, receiver, "expense.create")
    httpx.put(f"{sb.info['control_url']}/settings", json={"webhooks": {"delay": 0.6}})
    category = api.get(sb.accounting_url("expenses/categories")).json()["response"]["result"]["categories"][0]
    started = time.monotonic()
    api.post(
        sb.accounting_url("expenses/expenses"),
        json={"expense": {"categoryid": category["id"], "amount": "5", "date": "2026-01-02"}},
    )
    answered = time.monotonic() - started
    receiver.wait_for(lambda p: p["fields"].get("name") == "expense.create")
    delivered = time.monotonic() - started
    assert answered < 0.5 <= delivered
