"""The shop client against the real sandbox on loopback: long listings across many pages, the leaky bucket
respected so that no 429 is ever seen, injected faults that change nothing in the result, subscriptions
made once, and the errors a user would read. Money stays ``Decimal``, times become UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from finsync_dagster.errors import AuthenticationError, NotFoundError, ValidationError
from finsync_dagster.resources.http_policy import HttpPolicy
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.resources.shop import ShopClient, ShopResource, money, utc
from finsync_dagster.sandbox.faults import FaultPlan
from finsync_dagster.sandbox.runner import SandboxOptions, running_sandboxes
from finsync_dagster.settings import PairConfig, load_settings
from tests.fixtures.shop import ShopSandboxHandle

FAST = {"max_attempts": 8}


def resource(shop: ShopSandboxHandle, **overrides: Any) -> ShopResource:
    fields: dict[str, Any] = {
        "shop_domain": shop.info["shop_domain"],
        "api_url": shop.info["api_url"],
        "access_token": shop.token,
        "token_key": "test",
        **FAST,
        **overrides,
    }
    return ShopResource(**fields)


@pytest.fixture(scope="module")
def thousand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopSandboxHandle]:
    """A shop with 1,000 generated orders (module-wide; tests restore what they change)."""
    options = SandboxOptions(dir=tmp_path_factory.mktemp("shop-scale"), seed="demo", scale=1000)
    with running_sandboxes(options, ["shop"]) as running:
        handle = ShopSandboxHandle(running.info["shop"], running.state("shop"), options.dir, running)
        handle.restore()
        yield handle
        handle.state.webhooks.close()


def test_a_listing_across_many_pages_yields_every_order_once(thousand: ShopSandboxHandle) -> None:
    with resource(thousand).get_client() as client:
        ids = [order["id"] for page in client.iter_pages("orders", limit=50) for order in page]
        count = client.count_orders()
    assert len(ids) == len(set(ids)) == count == 1000
    assert client.stats.requests == 21  # 20 pages and the count
    assert client.served_version == "2025-10"


@pytest.mark.slow
def test_a_long_listing_keeps_to_the_bucket_and_meets_no_429(thousand: ShopSandboxHandle) -> None:
    """200 calls through a bucket of 10 leaking 20 a second: the client paces itself (about 10 s)."""
    thousand.state.update_settings({"bucket_size": 10, "leak_per_second": 20})
    try:
        with resource(thousand, leak_per_second=20).get_client() as client:
            ids = [order["id"] for order in client.iter_orders(limit=5)]
    finally:
        thousand.restore()
    assert len(set(ids)) == 1000
    assert client.stats.requests == 200
    assert client.stats.rate_limited == 0 and thousand.state.bucket.refused == 0
    assert client.bucket.size == 10  # learnt from the answers' call-limit header
    assert client.bucket.waited > 0


def test_the_bucket_size_is_learnt_from_the_shop_and_shared_use_is_respected(
    shop_isolated: ShopSandboxHandle,
) -> None:
    """Another process has used 9 of 10 calls: this client waits instead of meeting a 429."""
    shop_isolated.state.update_settings({"bucket_size": 10, "leak_per_second": 10})
    with shop_isolated.api() as other:
        for _ in range(9):
            other.get("/orders/count.json")
    with resource(shop_isolated, leak_per_second=10).get_client() as client:
        for _ in range(12):
            client.count_orders()
    assert client.stats.rate_limited == 0 and shop_isolated.state.bucket.refused == 0


def test_429s_are_retried_after_retry_after_and_fill_the_bucket(shop_isolated: ShopSandboxHandle) -> None:
    shop_isolated.state.faults.set_plan(FaultPlan(rate=0.5, kinds=("429",), seed=3, retry_after=1))
    with resource(shop_isolated).get_client() as client:
        counts = [client.count_orders() for _ in range(4)]
    assert counts == [36] * 4
    assert client.stats.rate_limited == shop_isolated.state.faults.injected > 0
    assert client.bucket.waited > 0  # after a 429 the client takes the bucket as full


def test_injected_faults_change_nothing_in_a_listing(shop_isolated: ShopSandboxHandle) -> None:
    with resource(shop_isolated).get_client() as client:
        clean = [order["id"] for order in client.iter_orders(limit=4)]
    shop_isolated.state.faults.set_plan(
        FaultPlan(rate=0.3, kinds=("500", "503", "429", "drop"), seed=7, retry_after=0)
    )
    with resource(shop_isolated, max_attempts=12).get_client() as client:
        faulty = [order["id"] for order in client.iter_orders(limit=4)]
    assert faulty == clean and len(clean) == 36
    assert shop_isolated.state.faults.injected > 0 and client.stats.transient_errors > 0


def test_incremental_reads_see_a_change_to_an_old_order(shop_empty: ShopSandboxHandle) -> None:
    address = {"first_name": "Ann", "last_name": "Lee", "address1": "1 Main St", "city": "Austin",
               "province_code": "TX", "country_code": "US", "zip": "78701"}  # fmt: skip
    order = shop_empty.control("/orders", {"email": "ann@example.com", "address": address,
                                           "lines": [{"sku": "WIDGET-A", "quantity": 1}]}).json()["order"]  # fmt: skip
    with resource(shop_empty).get_client() as client:
        newest = max(utc(o["updated_at"]) for o in client.iter_orders())
        shop_empty.control("/clock", {"advance": 3600}, method="PUT")
        shop_empty.control(f"/orders/{order['id']}/refund", {"amount": "1.00"})
        changed = list(client.iter_orders(updated_at_min=newest + timedelta(seconds=1)))
        unchanged = list(client.iter_orders(updated_at_max=newest))
    assert [o["id"] for o in changed] == [order["id"]] and changed[0][
        "financial_status"
    ] == "partially_refunded"
    assert unchanged == []
    assert utc(changed[0]["updated_at"]).tzinfo == UTC


def test_money_stays_decimal_and_numbers_never_become_floats(shop_sandbox: ShopSandboxHandle) -> None:
    with resource(shop_sandbox).get_client() as client:
        first = client.get_order(next(iter(shop_sandbox.state.store.orders)))
        refunded = next(
            o for o in shop_sandbox.state.store.orders.values() if o.refunds and o.refunds[0].lines
        )
        refunds = client.refunds(refunded.id)
    assert money(first["total_price"]) == Decimal("76.48")
    assert isinstance(first["tax_lines"][0]["rate"], Decimal) and first["tax_lines"][0]["rate"] == Decimal(
        "0.05"
    )
    assert isinstance(refunds[0]["refund_line_items"][0]["subtotal"], Decimal)
    with pytest.raises(TypeError, match="never be a float"):
        money(0.1)


def test_subscribing_twice_returns_the_one_subscription(shop_isolated: ShopSandboxHandle) -> None:
    with resource(shop_isolated).get_client() as client:
        first = client.subscribe("orders/paid", "https://hooks.example.com/shop", fields=("id", "updated_at"))
        again = client.subscribe("orders/paid", "https://hooks.example.com/shop")
        listed = client.webhooks(topic="orders/paid")
        with pytest.raises(ValidationError) as refused:
            client.subscribe("orders/paid", "http://hooks.example.com/plain")
        client.unsubscribe(first["id"])
        client.unsubscribe(first["id"])  # already gone: fine
        assert client.webhooks() == []
    assert again["id"] == first["id"] and [w["id"] for w in listed] == [first["id"]]
    assert refused.value.field == "address" and refused.value.status == 422


def test_errors_a_user_reads(shop_sandbox: ShopSandboxHandle) -> None:
    with (
        resource(shop_sandbox, access_token="shpat_wrong").get_client() as client,
        pytest.raises(AuthenticationError) as refused,
    ):
        client.count_orders()
    assert "Invalid API key or access token" in str(refused.value) and "shpat_wrong" not in str(refused.value)
    with resource(shop_sandbox).get_client() as client:
        with pytest.raises(NotFoundError):
            client.get_order(1)
        with pytest.raises(ValueError, match="timezone-aware"):
            next(client.iter_pages("orders", updated_at_min=datetime(2026, 1, 1)))


def test_a_pair_gets_its_shop_client_from_sandbox_json(
    shop_sandbox: ShopSandboxHandle, tmp_path: Path
) -> None:
    settings = load_settings(tmp_path / "none.yaml", env={"FINSYNC_HOME": str(tmp_path)}, require_file=False)
    settings = settings.with_pair(PairConfig(name="shop-pair", sandbox_dir=str(shop_sandbox.dir)))
    clients = PairClients.of(settings)
    assert clients.has_shop("shop-pair")
    with clients.shop("shop-pair") as client:
        assert isinstance(client, ShopClient) and client.count_orders() == 36
    assert shop_sandbox.token not in repr(clients.shop_resource("shop-pair"))


def test_the_policy_is_the_shared_one(shop_sandbox: ShopSandboxHandle) -> None:
    made = resource(shop_sandbox, max_attempts=3, read_timeout=7.0)
    assert made.policy() == HttpPolicy(read_timeout=7.0, max_attempts=3)
