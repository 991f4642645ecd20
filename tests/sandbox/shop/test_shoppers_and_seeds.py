"""The shop as shoppers and the merchant change it through the control plane, and the seeds it starts from.

Every change shows in the Admin API as Shopify would show it: statuses, current quantities and totals,
transactions, refunds, ``updated_at``; the demo seed is the demo business's web shop (its companies, its
price list, the ``WEB-1001`` order Infor already holds); every seed is deterministic.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.demo_business import demo_business
from finsync_dagster.sandbox.shop import seed as seeding
from finsync_dagster.sandbox.shop import shapes
from finsync_dagster.sandbox.shop.pricing import Discount, LineInput, allocate, price
from tests.fixtures.shop import ShopSandboxHandle

CANADA = {"first_name": "Élodie", "last_name": "Gagnon", "address1": "220 Rue Sainte-Catherine",
          "city": "Montréal", "province_code": "QC", "country_code": "CA", "zip": "H2X 1L4"}  # fmt: skip


def checkout(shop: ShopSandboxHandle, **body: Any) -> dict[str, Any]:
    order = {"email": "elodie.gagnon@example.ca", "address": CANADA, "currency": "CAD", **body}
    response = shop.control("/orders", order)
    assert response.status_code == 201, response.text
    return response.json()["order"]


def act(shop: ShopSandboxHandle, order: dict[str, Any], step: str, body: dict[str, Any] | None = None) -> Any:
    return shop.control(f"/orders/{order['name']}/{step}", body or {})


def test_a_pending_order_paid_in_two_parts(shop_empty: ShopSandboxHandle) -> None:
    order = checkout(shop_empty, lines=[{"sku": "SENSOR-K1", "quantity": 1}], payment="pending")
    assert order["financial_status"] == "pending" and order["payment_gateway_names"] == ["manual"]
    assert order["total_price_set"]["presentment_money"] == {"amount": "135.45", "currency_code": "CAD"}
    half = act(shop_empty, order, "pay", {"amount": "60.00"}).json()["order"]
    assert half["financial_status"] == "partially_paid"
    rest = act(shop_empty, order, "pay").json()["order"]
    assert rest["financial_status"] == "paid" and rest["total_outstanding"] == "0.00"
    assert datetime.fromisoformat(rest["updated_at"]) >= datetime.fromisoformat(order["updated_at"])
    with shop_empty.api() as api:
        kinds = [
            t["kind"] for t in api.get(f"/orders/{order['id']}/transactions.json").json()["transactions"]
        ]
    assert kinds == ["sale", "sale"]


def test_an_authorization_is_captured(shop_empty: ShopSandboxHandle) -> None:
    order = checkout(shop_empty, lines=[{"sku": "WIDGET-B", "quantity": 2}], payment="authorized")
    assert order["financial_status"] == "authorized"
    paid = act(shop_empty, order, "pay").json()["order"]
    assert paid["financial_status"] == "paid"
    with shop_empty.api() as api:
        kinds = [
            t["kind"] for t in api.get(f"/orders/{order['id']}/transactions.json").json()["transactions"]
        ]
    assert kinds == ["authorization", "capture"]


def test_edits_lower_current_quantities_and_added_lines_are_owed(shop_empty: ShopSandboxHandle) -> None:
    order = checkout(shop_empty, lines=[{"sku": "WIDGET-A", "quantity": 3}], payment="pending")
    lowered = act(shop_empty, order, "edit", {"quantities": [{"sku": "WIDGET-A", "quantity": 1}]}).json()[
        "order"
    ]
    line = lowered["line_items"][0]
    assert (line["quantity"], line["current_quantity"]) == (3, 1)
    assert Decimal(lowered["current_total_price"]) < Decimal(lowered["total_price"])
    act(shop_empty, order, "pay")
    grown = act(
        shop_empty, order, "edit", {"add": [{"sku": "CABLE-5M", "quantity": 2}], "note": "by phone"}
    ).json()
    assert grown["order"]["financial_status"] == "partially_paid" and grown["order"]["note"] == "by phone"
    assert Decimal(grown["order"]["total_outstanding"]) > 0


def test_refunds_of_a_line_shipping_and_a_goodwill_amount(shop_empty: ShopSandboxHandle) -> None:
    order = checkout(shop_empty, lines=[{"sku": "WIDGET-A", "quantity": 2}])  # 49.90 CAD: shipping charged
    one = act(shop_empty, order, "refund", {"lines": [{"sku": "WIDGET-A", "quantity": 1}], "shipping": True})
    after = one.json()["order"]
    assert after["financial_status"] == "partially_refunded"
    refund = after["refunds"][0]
    line = refund["refund_line_items"][0]
    assert (Decimal(str(line["subtotal"])), Decimal(str(line["total_tax"]))) == (
        Decimal("24.95"),
        Decimal("1.25"),
    )
    assert refund["transactions"][0]["amount"] == "36.19"  # 24.95 + 1.25 tax + 9.99 shipping
    goodwill = act(shop_empty, order, "refund", {"amount": "5.00", "note": "sorry"}).json()["order"]
    assert goodwill["refunds"][1]["order_adjustments"][0]["kind"] == "refund_discrepancy"
    assert goodwill["total_outstanding"] == "0.00"
    too_much = act(shop_empty, order, "refund", {"amount": "500.00"})
    assert too_much.status_code == 400 and "refund between" in too_much.json()["error"]


def test_cancelling_voids_an_unpaid_order_and_refunds_a_paid_one(shop_empty: ShopSandboxHandle) -> None:
    unpaid = checkout(shop_empty, lines=[{"sku": "WIDGET-A", "quantity": 1}], payment="pending")
    voided = act(shop_empty, unpaid, "cancel", {"reason": "customer"}).json()["order"]
    assert voided["financial_status"] == "voided" and voided["cancel_reason"] == "customer"
    assert voided["cancelled_at"] and voided["closed_at"] and voided["current_total_price"] == "0.00"
    paid = checkout(shop_empty, lines=[{"sku": "SENSOR-K1", "quantity": 1}])
    refunded = act(shop_empty, paid, "cancel", {"reason": "inventory"}).json()["order"]
    assert refunded["financial_status"] == "refunded"
    again = act(shop_empty, paid, "cancel")
    assert again.status_code == 400 and "cancelled already" in again.json()["error"]


def test_fulfilling_a_paid_order_closes_it_and_hides_it_from_the_default_list(
    shop_empty: ShopSandboxHandle,
) -> None:
    order = checkout(
        shop_empty, lines=[{"sku": "WIDGET-A", "quantity": 2}, {"sku": "CABLE-5M", "quantity": 1}]
    )
    part = act(shop_empty, order, "fulfill", {"lines": [{"sku": "WIDGET-A", "quantity": 2}]}).json()["order"]
    assert part["fulfillment_status"] == "partial" and part["closed_at"] is None
    done = act(shop_empty, order, "fulfill", {"tracking_number": "1Z999"}).json()["order"]
    assert done["fulfillment_status"] == "fulfilled" and done["closed_at"]
    with shop_empty.api() as api:
        assert api.get("/orders/count.json").json()["count"] == 0
        assert api.get("/orders/count.json", params={"status": "any"}).json()["count"] == 1
        assert len(api.get(f"/orders/{order['id']}/fulfillments.json").json()["fulfillments"]) == 2


def test_a_deleted_order_vanishes_and_bad_actions_say_why(shop_empty: ShopSandboxHandle) -> None:
    order = checkout(shop_empty, lines=[{"sku": "WIDGET-A", "quantity": 1}])
    assert shop_empty.control(f"/orders/{order['id']}", method="DELETE").json() == {"deleted": order["id"]}
    with shop_empty.api() as api:
        assert api.get(f"/orders/{order['id']}.json").status_code == 404
    assert shop_empty.control("/orders/WEB-9999/pay").status_code == 404
    unknown = shop_empty.control(
        "/orders", {"email": "x@example.com", "address": CANADA, "lines": [{"sku": "NOPE"}]}
    )
    assert unknown.status_code == 400 and "unknown sku" in unknown.json()["error"]
    nowhere = shop_empty.control("/orders", {"email": "new@example.com", "lines": [{"sku": "WIDGET-A"}]})
    assert nowhere.status_code == 400 and "needs an address" in nowhere.json()["error"]


def test_a_known_buyer_checks_out_without_an_address_and_keeps_one_customer(
    shop_empty: ShopSandboxHandle,
) -> None:
    first = checkout(shop_empty, lines=[{"sku": "WIDGET-A", "quantity": 1}])
    second = shop_empty.control(
        "/orders", {"email": "elodie.gagnon@example.ca", "currency": "CAD", "lines": [{"sku": "WIDGET-B"}]}
    ).json()["order"]
    assert first["customer"]["id"] == second["customer"]["id"]
    assert second["shipping_address"]["city"] == "Montréal"
    guest = checkout(shop_empty, lines=[{"sku": "WIDGET-A", "quantity": 1}], guest=True)
    assert guest["customer"] is None and guest["email"] == "elodie.gagnon@example.ca"


# -- seeds ---------------------------------------------------------------------------------------------


def test_the_demo_shop_sells_to_the_demo_business_companies_in_two_currencies() -> None:
    seeded = seeding.build("demo", None, SandboxClock())
    truth, store = seeded.truth or {}, seeded.store
    business = demo_business()
    fb_emails = {c.email: c for c in business.freshbooks.customers}
    buyers = {c.email: c for c in store.customers.values() if c.email}
    shared = set(buyers) & set(fb_emails)
    assert len(shared) == 10 and sorted(shared) == truth["customers_in_freshbooks"]
    for email in shared:
        shop_customer, fb = buyers[email], fb_emails[email]
        assert shop_customer.address is not None
        assert (shop_customer.address.company, shop_customer.address.zip) == (fb.organization, fb.postcode)
    assert len(buyers) > len(shared)  # consumers FreshBooks has never seen
    assert truth["currencies"] == {"CAD": 16, "USD": 20} and truth["orders"] == 36
    statuses = set(truth["financial_status"])
    assert {
        "paid",
        "pending",
        "authorized",
        "partially_paid",
        "partially_refunded",
        "refunded",
        "voided",
    } <= statuses
    prices = {item.sku: item.unit_price for item in business.items}
    assert all(
        line.price_presentment == prices[line.product.sku] for o in store.orders.values() for line in o.lines
    )


def test_web_1001_is_the_shop_order_infor_holds_and_freshbooks_lacks() -> None:
    store = seeding.build("demo", None, SandboxClock()).store
    order = next(iter(store.orders.values()))
    rendered = shapes.order(order, store.customer_of(order))
    planted = next(p for p in demo_business().planted if p.kind == "invoice_missing_in_freshbooks")
    infor = next(i for i in demo_business().infor.invoices if i.number == planted.infor_ref)
    assert rendered["name"] == planted.infor_ref == "WEB-1001"
    assert rendered["total_price_set"]["presentment_money"]["amount"] == str(infor.total)
    assert rendered["presentment_currency"] == infor.currency
    assert [(line["sku"], line["quantity"]) for line in rendered["line_items"]] == [
        (line.sku, int(line.quantity)) for line in infor.lines
    ]


def test_seeds_are_deterministic_and_scale_makes_n_orders() -> None:
    def digest(seed: str, scale: int | None) -> list[tuple[int, str, str]]:
        store = seeding.build(seed, scale, SandboxClock()).store
        return [(o.id, o.name, str(o.totals(presentment=True).total)) for o in store.orders.values()]

    assert digest("demo", None) == digest("demo", None)
    assert digest("empty", None) == []
    scaled = digest("demo", 500)
    assert len(scaled) == 500 and scaled == digest("demo", 500)
    with pytest.raises(ValueError, match="unknown shop seed"):
        seeding.build("nonsense", None, SandboxClock())


# -- the arithmetic ------------------------------------------------------------------------------------

_cents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.tuples(_cents, st.integers(1, 9), st.integers(0, 9)), min_size=1, max_size=5),
    percent=st.sampled_from([None, Decimal("10"), Decimal("15"), Decimal("100")]),
    shipping=st.sampled_from([Decimal("0.00"), Decimal("9.99")]),
)
def test_any_order_adds_up_to_the_cent(
    lines: list[tuple[Decimal, int, int]], percent: Decimal | None, shipping: Decimal
) -> None:
    inputs = [LineInput(unit, qty, min(cur, qty)) for unit, qty, cur in lines]
    discount = Discount("X", "percentage", percent) if percent else None
    totals = price(
        inputs, discount=discount, shipping=shipping, current_shipping=shipping, tax_rate=Decimal("0.0825")
    )
    assert totals.subtotal == totals.line_items - totals.discounts
    assert totals.total == totals.subtotal + shipping + totals.tax
    assert totals.discounts <= totals.line_items
    assert totals.current_total <= totals.total
    assert all(p.discount <= p.gross for p in totals.lines)


@given(amount=_cents, weights=st.lists(_cents, min_size=1, max_size=6))
def test_an_allocation_sums_exactly_to_the_amount(amount: Decimal, weights: list[Decimal]) -> None:
    assert sum(allocate(amount, weights), Decimal(0)) == amount
