"""The shop sandbox's Admin REST API over plain HTTP, as the contract describes it (sections 1-5).

What a client meets: the access-token header and its 401, versions that fall forward, ``status=any``
versus the default ``open``, ``Link`` cursors that may carry only ``limit`` and ``fields``, filters,
counts, single orders, the leaky bucket's header and 429, and JSON error bodies.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.fixtures.shop import ShopSandboxHandle


def follow(api: httpx.Client, params: dict[str, str]) -> tuple[list[dict], int]:
    """Every order of a listing through its ``rel="next"`` links, and the number of requests."""
    orders: list[dict] = []
    response = api.get("/orders.json", params=params)
    requests = 1
    while True:
        assert response.status_code == 200, response.text
        orders += response.json()["orders"]
        link = response.links.get("next")
        if not link:
            return orders, requests
        response = api.get(link["url"])
        requests += 1


def test_a_request_without_the_token_is_refused_as_shopify_refuses_it(
    shop_sandbox: ShopSandboxHandle,
) -> None:
    with shop_sandbox.api(token="shpat_wrong") as api:
        response = api.get("/orders.json")
    assert response.status_code == 401
    assert response.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }
    assert response.headers["www-authenticate"] == 'Basic Realm="Shopify API Authentication"'


def test_every_answer_names_its_version_request_and_call_limit(shop_sandbox: ShopSandboxHandle) -> None:
    with shop_sandbox.api() as api:
        response = api.get("/orders/count.json")
    assert response.headers["x-shopify-api-version"] == "2025-10"
    assert response.headers["x-request-id"]
    used, size = response.headers["x-shopify-shop-api-call-limit"].split("/")
    assert int(used) >= 1 and int(size) >= 1


def test_a_retired_version_falls_forward_and_a_malformed_one_is_not_found(
    shop_sandbox: ShopSandboxHandle,
) -> None:
    with shop_sandbox.api(version="2021-07") as api:
        old = api.get("/orders/count.json")
    with shop_sandbox.api(version="v1") as api:
        bad = api.get("/orders/count.json")
    assert old.status_code == 200 and old.headers["x-shopify-api-version"] == "2025-01"
    assert bad.status_code == 404 and bad.json() == {"errors": "Not Found"}


def test_the_default_status_hides_closed_and_cancelled_orders_and_any_shows_them(
    shop_sandbox: ShopSandboxHandle,
) -> None:
    truth = shop_sandbox.state.truth or {}
    with shop_sandbox.api() as api:
        default = api.get("/orders/count.json").json()["count"]
        every = api.get("/orders/count.json", params={"status": "any"}).json()["count"]
        closed = api.get("/orders/count.json", params={"status": "closed"}).json()["count"]
        cancelled = api.get("/orders/count.json", params={"status": "cancelled"}).json()["count"]
    assert every == truth["orders"] == 36
    assert default == every - closed and closed > 0
    assert cancelled == 2


def test_link_cursors_page_through_every_order_once_newest_first(shop_sandbox: ShopSandboxHandle) -> None:
    with shop_sandbox.api() as api:
        orders, requests = follow(api, {"status": "any", "limit": "5"})
        first = api.get("/orders.json", params={"status": "any", "limit": "5"})
    names = [o["name"] for o in orders]
    assert len(names) == len(set(names)) == 36 and requests == 8
    assert names == sorted(names, reverse=True)
    assert set(first.links) == {"next"}  # no "previous" on the first page
    header = first.headers["link"]
    assert header.startswith("<http://") and header.endswith('>; rel="next"')
    query = parse_qs(urlsplit(first.links["next"]["url"]).query)
    assert set(query) == {"limit", "page_info"}


def test_previous_leads_back_to_the_page_before(shop_sandbox: ShopSandboxHandle) -> None:
    with shop_sandbox.api() as api:
        page1 = api.get("/orders.json", params={"status": "any", "limit": "4"})
        page2 = api.get(page1.links["next"]["url"])
        back = api.get(page2.links["previous"]["url"])
    assert [o["id"] for o in back.json()["orders"]] == [o["id"] for o in page1.json()["orders"]]
    assert set(page2.links) == {"previous", "next"}


def test_one_page_that_holds_everything_has_no_link_header(shop_sandbox: ShopSandboxHandle) -> None:
    with shop_sandbox.api() as api:
        response = api.get("/orders.json", params={"status": "any", "limit": "250"})
    assert len(response.json()["orders"]) == 36 and "link" not in response.headers


@pytest.mark.parametrize("extra", ["status", "updated_at_min", "since_id"])
def test_page_info_refuses_any_filter_beside_it(shop_sandbox: ShopSandboxHandle, extra: str) -> None:
    with shop_sandbox.api() as api:
        cursor = api.get("/orders.json", params={"status": "any", "limit": "3"}).links["next"]["url"]
        value = "any" if extra == "status" else "2026-10-01T00:00:00Z" if extra.endswith("_min") else "1"
        response = api.get(f"{cursor}&{urlencode({extra: value})}")
    assert response.status_code == 400
    message = response.json()["errors"][extra]
    assert message.startswith(f"{extra} cannot be passed when page_info is present")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_info": "not-a-cursor"}, "page_info"),
        ({"limit": "251"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"page": "2"}, "page"),
        ({"updated_at_min": "yesterday"}, "updated_at_min"),
        ({"status": "archived"}, "status"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    shop_sandbox: ShopSandboxHandle, params: dict[str, str], field: str
) -> None:
    with shop_sandbox.api() as api:
        response = api.get("/orders.json", params=params)
    assert response.status_code == 400 and field in response.json()["errors"]


def test_since_id_lists_later_ids_in_ascending_order(shop_sandbox: ShopSandboxHandle) -> None:
    with shop_sandbox.api() as api:
        every, _ = follow(api, {"status": "any", "limit": "250"})
        pivot = sorted(o["id"] for o in every)[10]
        after, _ = follow(api, {"status": "any", "since_id": str(pivot), "limit": "7"})
    ids = [o["id"] for o in after]
    assert ids == sorted(o["id"] for o in every if o["id"] > pivot)


def test_updated_at_min_is_inclusive_and_takes_any_offset(shop_sandbox: ShopSandboxHandle) -> None:
    with shop_sandbox.api() as api:
        every, _ = follow(api, {"status": "any", "limit": "250"})
        newest = max(every, key=lambda o: datetime.fromisoformat(o["updated_at"]))
        moment = datetime.fromisoformat(newest["updated_at"])
        in_utc, _ = follow(api, {"status": "any", "updated_at_min": moment.astimezone(UTC).isoformat()})
        as_shop, _ = follow(api, {"status": "any", "updated_at_min": newest["updated_at"]})
        later, _ = follow(
            api, {"status": "any", "updated_at_min": (moment + timedelta(seconds=1)).isoformat()}
        )
    assert newest["id"] in {o["id"] for o in in_utc} == {o["id"] for o in as_shop}
    assert newest["id"] not in {o["id"] for o in later}


def test_financial_and_fulfillment_filters_agree_with_each_order(shop_sandbox: ShopSandboxHandle) -> None:
    with shop_sandbox.api() as api:
        paid, _ = follow(api, {"status": "any", "financial_status": "paid"})
        unshipped, _ = follow(api, {"status": "any", "fulfillment_status": "unshipped"})
    assert paid and all(o["financial_status"] == "paid" for o in paid)
    assert unshipped and all(o["fulfillment_status"] is None for o in unshipped)


def test_one_order_by_id_with_fields_and_an_unknown_id(shop_sandbox: ShopSandboxHandle) -> None:
    order_id = next(iter(shop_sandbox.state.store.orders))
    with shop_sandbox.api() as api:
        trimmed = api.get(f"/orders/{order_id}.json", params={"fields": "id,name,total_price"})
        missing = api.get("/orders/1.json")
    assert trimmed.json() == {"order": {"id": order_id, "name": "WEB-1001", "total_price": "76.48"}}
    assert missing.status_code == 404 and missing.json() == {"errors": "Not Found"}


def test_an_order_carries_what_invoicing_needs_and_its_figures_add_up(
    shop_sandbox: ShopSandboxHandle,
) -> None:
    with shop_sandbox.api() as api:
        orders, _ = follow(api, {"status": "any", "limit": "250"})
    for order in orders:
        for money in ("shop_money", "presentment_money"):

            def amount(name: str, money: str = money, order: dict = order) -> Decimal:
                return Decimal(order[f"{name}_set"][money]["amount"])

            lines = sum(
                Decimal(line["price_set"][money]["amount"]) * line["quantity"] for line in order["line_items"]
            )
            assert lines == amount("total_line_items_price")
            assert amount("subtotal_price") == amount("total_line_items_price") - amount("total_discounts")
            assert amount("total_price") == amount("subtotal_price") + amount(
                "total_shipping_price"
            ) + amount("total_tax")
            line_tax = sum(
                Decimal(tax["price_set"][money]["amount"])
                for line in order["line_items"]
                for tax in line["tax_lines"]
            )
            assert line_tax == amount("total_tax")
        assert isinstance(order["tax_lines"][0]["rate"], float)
        assert order["currency"] == "USD" and order["presentment_currency"] in ("USD", "CAD")
        assert datetime.fromisoformat(order["created_at"]).utcoffset() is not None


def test_transactions_and_refunds_of_a_refunded_order(shop_sandbox: ShopSandboxHandle) -> None:
    refunded = next(o for o in shop_sandbox.state.store.orders.values() if o.financial_status == "refunded")
    with shop_sandbox.api() as api:
        transactions = api.get(f"/orders/{refunded.id}/transactions.json").json()["transactions"]
        refunds = api.get(f"/orders/{refunded.id}/refunds.json").json()["refunds"]
        count = api.get(f"/orders/{refunded.id}/transactions/count.json").json()["count"]
    kinds = [t["kind"] for t in transactions]
    assert "refund" in kinds and count == len(transactions)
    paid = sum(Decimal(t["amount"]) for t in transactions if t["kind"] in ("sale", "capture"))
    back = sum(Decimal(t["amount"]) for t in transactions if t["kind"] == "refund")
    assert paid == back and refunds and refunds[0]["transactions"][0]["kind"] == "refund"


def test_a_full_bucket_answers_429_with_retry_after_and_drains(shop_isolated: ShopSandboxHandle) -> None:
    shop_isolated.state.update_settings({"bucket_size": 3, "leak_per_second": 10})
    with shop_isolated.api() as api:
        answers = [api.get("/orders/count.json") for _ in range(6)]
        refused = next(a for a in answers if a.status_code == 429)
        assert refused.json()["errors"].startswith("Exceeded 10 calls per second for api client.")
        assert 0 < float(refused.headers["retry-after"]) <= 1
        assert refused.headers["x-shopify-shop-api-call-limit"] == "3/3"
        time.sleep(float(refused.headers["retry-after"]) + 0.05)
        assert api.get("/orders/count.json").status_code == 200


def test_client_credentials_tokens_work_and_expire(shop_isolated: ShopSandboxHandle) -> None:
    info = shop_isolated.info
    form = {
        "grant_type": "client_credentials",
        "client_id": info["client_id"],
        "client_secret": info["webhook_secret"],
    }
    granted = httpx.post(info["token_url"], data=form).json()
    assert granted["expires_in"] == 86399 and granted["access_token"].startswith("shpca_")
    with shop_isolated.api(token=granted["access_token"]) as api:
        assert api.get("/orders/count.json").status_code == 200
        shop_isolated.control("/clock", {"advance": 86400}, method="PUT")
        assert api.get("/orders/count.json").status_code == 401
    wrong = httpx.post(info["token_url"], data={**form, "client_secret": "nope"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"
