"""Shop webhooks as a receiver meets them: subscriptions through ``webhooks.json``, signed deliveries with
every header of contract 6.3, retries, removal of a failing subscription, and the at-least-once and
unordered delivery a receiver must cope with (the ``duplicate_rate`` and ``shuffle_window`` settings)."""

from __future__ import annotations

import json
import time

import pytest

from finsync_dagster.resources.shop import webhooks as receiving
from finsync_dagster.sandbox.shop.webhooks import sign
from tests.fixtures.shop import ShopSandboxHandle
from tests.sandbox.shop.receiver import Receiver, receiver

# Contract 6.4's worked example: made-up secret, the 57-byte body, its header, and a one-cent change.
SECRET = "hush-this-is-a-made-up-client-secret"
BODY = b'{"id":6123456789012,"name":"#1001","total_price":"67.52"}'
EXPECTED = "yGfTjkjlZf0qAlBAJdwswFq2AY03Ul0t0Cvsm25mqHY="
TAMPERED = "FHY1M1pVZUZ+0WNPPIjw38g6I3BzNcXuf73LIHlwXvk="
HEX = "c867d38e48e565fd2a02504025dc2cc05ab6018d37525d2dd02bec9b6e66a876"
BUYER = {
    "email": "priya.raman@example.net",
    "lines": [{"sku": "WIDGET-A", "quantity": 2}, {"sku": "CABLE-5M", "quantity": 1}],
}


def subscribe(shop: ShopSandboxHandle, topic: str, address: str, **extra: object) -> int:
    with shop.api() as api:
        response = api.post("/webhooks.json", json={"webhook": {"topic": topic, "address": address, **extra}})
    assert response.status_code == 201, response.text
    return int(response.json()["webhook"]["id"])


def wait_for(hook: Receiver, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while len(hook.received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(hook.received) >= count, f"{len(hook.received)} of {count} deliveries arrived"


def test_the_contracts_signature_example_is_what_both_sides_compute() -> None:
    assert len(BODY) == 57
    assert sign(SECRET, BODY) == receiving.signature(SECRET, BODY) == EXPECTED
    assert receiving.signature(SECRET, BODY.replace(b"67.52", b"67.53")) == TAMPERED
    assert receiving.verify(SECRET, BODY, EXPECTED)
    assert receiving.verify(["old-secret", SECRET], BODY, EXPECTED)  # during a rotation
    assert not receiving.verify(SECRET, BODY.replace(b"67.52", b"67.53"), EXPECTED)
    assert not receiving.verify(SECRET, BODY, HEX)
    assert not receiving.verify(SECRET, BODY, None)


def test_subscriptions_are_created_listed_counted_updated_and_deleted(
    shop_isolated: ShopSandboxHandle,
) -> None:
    made = subscribe(
        shop_isolated, "orders/create", "https://hooks.example.com/shop", fields=["id", "updated_at"]
    )
    with shop_isolated.api() as api:
        listed = api.get("/webhooks.json").json()["webhooks"]
        counted = api.get("/webhooks/count.json", params={"topic": "orders/create"}).json()["count"]
        moved = api.put(
            f"/webhooks/{made}.json", json={"webhook": {"address": "https://other.example.com/h"}}
        )
        deleted = api.delete(f"/webhooks/{made}.json")
        gone = api.get(f"/webhooks/{made}.json")
    assert [w["id"] for w in listed] == [made] and counted == 1
    assert listed[0]["api_version"] == "2025-10" and listed[0]["fields"] == ["id", "updated_at"]
    assert moved.json()["webhook"]["address"] == "https://other.example.com/h"
    assert deleted.status_code == 200 and gone.status_code == 404


@pytest.mark.parametrize(
    ("webhook", "field", "message"),
    [
        ({"topic": "orders/update", "address": "https://h.example.com"}, "topic", "Invalid topic specified"),
        ({"topic": "orders/paid", "address": "http://h.example.com"}, "address", "is not an HTTPS URL"),
        ({"topic": "orders/paid", "address": "https://dup.example.com"}, "address", "already been taken"),
    ],
)
def test_refused_subscriptions_are_422_naming_the_field(
    shop_isolated: ShopSandboxHandle, webhook: dict[str, str], field: str, message: str
) -> None:
    subscribe(shop_isolated, "orders/paid", "https://dup.example.com")
    with shop_isolated.api() as api:
        response = api.post("/webhooks.json", json={"webhook": webhook})
    assert response.status_code == 422
    assert message in response.json()["errors"][field][0]


def test_a_checkout_delivers_create_and_paid_signed_with_every_header(shop_empty: ShopSandboxHandle) -> None:
    with receiver() as hook:
        for topic in ("orders/create", "orders/paid", "orders/updated"):
            subscribe(shop_empty, topic, hook.url)
        address = {"first_name": "Priya", "last_name": "Raman", "address1": "41 Cedar Lane", "city": "Austin",
                   "province_code": "TX", "country_code": "US", "zip": "78704"}  # fmt: skip
        created = shop_empty.control("/orders", {**BUYER, "address": address}).json()["order"]
        wait_for(hook, 2)
        shop_empty.state.webhooks.wait_idle()
    topics = sorted(r.headers["x-shopify-topic"] for r in hook.received)
    assert topics == ["orders/create", "orders/paid"]  # a checkout is not an update
    secret = shop_empty.info["webhook_secret"]
    for delivery in hook.received:
        headers = delivery.headers
        assert receiving.verify(secret, delivery.body, headers["x-shopify-hmac-sha256"])
        assert headers["x-shopify-shop-domain"] == "finsync-demo.myshopify.com"
        assert headers["x-shopify-api-version"] == "2025-10"
        assert headers["x-shopify-order-id"] == str(created["id"])
        assert (
            headers["x-shopify-triggered-at"].endswith("Z") and len(headers["x-shopify-triggered-at"]) == 30
        )
        order = json.loads(delivery.body)
        assert (
            order["name"] == created["name"] == "WEB-1001" and order["total_price"] == created["total_price"]
        )
    assert len({r.headers["x-shopify-webhook-id"] for r in hook.received}) == 2
    assert len({r.headers["x-shopify-event-id"] for r in hook.received}) == 2


def test_a_failing_receiver_gets_retries_of_the_same_delivery_then_loses_its_subscription(
    shop_empty: ShopSandboxHandle,
) -> None:
    with receiver() as hook:
        hook.statuses = [500, 302]  # a redirect is a failure too
        subscribe(shop_empty, "orders/create", hook.url)
        shop_empty.control("/orders", {**BUYER, "address": _ADDRESS})
        wait_for(hook, 3)
        assert shop_empty.state.webhooks.wait_idle()
        hook.statuses = [500] * 10
        shop_empty.control("/orders", {**BUYER, "address": _ADDRESS})
        deadline = time.monotonic() + 10
        while shop_empty.state.webhooks.subscriptions and time.monotonic() < deadline:
            time.sleep(0.05)
    first = hook.received[:3]
    assert len({r.headers["x-shopify-webhook-id"] for r in first}) == 1  # retries keep the delivery's id
    assert first[0].body == first[2].body
    attempts = [d["attempt"] for d in shop_empty.state.webhooks.deliveries]
    assert attempts[:3] == [1, 2, 3]
    assert shop_empty.state.webhooks.subscriptions == {}  # removed after its last retry failed
    assert len(shop_empty.state.webhooks.removed) == 1


_ADDRESS = {"first_name": "Priya", "last_name": "Raman", "address1": "41 Cedar Lane", "city": "Austin",
            "province_code": "TX", "country_code": "US", "zip": "78704"}  # fmt: skip


def test_with_duplicates_on_every_delivery_arrives_twice_under_one_webhook_id(
    shop_empty: ShopSandboxHandle,
) -> None:
    shop_empty.control("/settings", {"webhooks": {"duplicate_rate": 1, "seed": 5}}, method="PUT")
    with receiver() as hook:
        subscribe(shop_empty, "orders/create", hook.url)
        for _ in range(3):
            shop_empty.control("/orders", {**BUYER, "address": _ADDRESS})
        wait_for(hook, 6)
        shop_empty.state.webhooks.wait_idle()
    ids = [r.headers["x-shopify-webhook-id"] for r in hook.received]
    assert len(ids) == 6 and len(set(ids)) == 3 and all(ids.count(i) == 2 for i in ids)


def test_shuffled_deliveries_arrive_out_of_order_but_all_arrive(shop_empty: ShopSandboxHandle) -> None:
    shop_empty.control("/settings", {"webhooks": {"shuffle_window": 1.0, "seed": 11}}, method="PUT")
    with receiver() as hook:
        subscribe(shop_empty, "orders/create", hook.url)
        names = [
            shop_empty.control("/orders", {**BUYER, "address": _ADDRESS}).json()["order"]["name"]
            for _ in range(8)
        ]
        wait_for(hook, 8)
        shop_empty.state.webhooks.wait_idle()
    arrived = [json.loads(r.body)["name"] for r in hook.received]
    assert sorted(arrived) == sorted(names) and arrived != names
