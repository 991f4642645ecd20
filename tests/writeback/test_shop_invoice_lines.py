"""The invoice lines finsync makes of a shop order add up, in FreshBooks' own arithmetic, to the order's total.

Orders are priced by the shop sandbox's rules (discount codes spread across lines, tax per line on the
discounted amount, shipping untaxed) from generated lines, discounts, shipping and tax rates; their lines
and finsync's discount, shipping and tax lines are then totalled as the FreshBooks sandbox totals an
invoice. The two must agree to the cent, for every order.
"""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from finsync_dagster.sandbox.freshbooks.values import invoice_totals, make_line, parse_cents
from finsync_dagster.sandbox.shop.pricing import Discount, LineInput, price
from finsync_dagster.writeback.shop_orders import DISCOUNT, SHIPPING, TAX, _extra_lines, _total_differs

PRICES = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2500"), places=2)
DISCOUNTS = st.one_of(
    st.none(),
    st.builds(
        lambda v: Discount("PCT", "percentage", v),
        st.sampled_from([Decimal(5), Decimal(10), Decimal("12.5")]),
    ),
    st.builds(
        lambda v: Discount("OFF", "fixed_amount", v), st.decimals(min_value=1, max_value=200, places=2)
    ),
)


@given(
    lines=st.lists(st.tuples(PRICES, st.integers(min_value=1, max_value=25)), min_size=1, max_size=6),
    discount=DISCOUNTS,
    shipping=st.sampled_from([Decimal(0), Decimal("9.99"), Decimal("24.50")]),
    rate=st.sampled_from([Decimal(0), Decimal("0.05"), Decimal("0.0825"), Decimal("0.2"), Decimal("0.13")]),
)
def test_the_lines_make_the_order_total_in_freshbooks_arithmetic(lines, discount, shipping, rate) -> None:
    totals = price(
        [LineInput(unit, qty, qty) for unit, qty in lines],
        discount=discount,
        shipping=shipping,
        current_shipping=shipping,
        tax_rate=rate,
    )
    raw = {
        "line_items": [{"price": str(unit), "quantity": qty} for unit, qty in lines],
        "discount_codes": [{"code": discount.code}] if discount else [],
        "shipping_lines": [{"title": "Standard Shipping"}],
        "tax_lines": [{"title": "VAT", "rate": float(rate)}] if totals.tax else [],
    }
    order = {"raw": json.dumps(raw), "presentment_currency": "CAD", "subtotal": totals.subtotal,
             "shipping": totals.shipping, "tax": totals.tax, "total": totals.total, "taxes_included": False}  # fmt: skip
    items = [
        {"name": "SKU", "qty": str(qty), "unit_cost": {"amount": str(unit), "code": "CAD"}}
        for unit, qty in lines
    ]
    extra = _extra_lines(order)
    invoice_lines = [*items, *extra]

    assert _total_differs(order, invoice_lines) is None
    fb_lines = [
        make_line(
            line["name"], "", line["qty"], parse_cents(line["unit_cost"], object="line", field="unit_cost")
        )
        for line in invoice_lines
    ]
    assert invoice_totals(fb_lines, "0")[2] == int(totals.total * 100)
    by_name = {line["name"]: Decimal(line["unit_cost"]["amount"]) for line in extra}
    assert by_name.get(DISCOUNT, Decimal(0)) == -totals.discounts
    assert by_name.get(SHIPPING, Decimal(0)) == totals.shipping
    assert by_name.get(TAX, Decimal(0)) == totals.tax
    assert all(line["unit_cost"]["amount"] == f"{Decimal(line['unit_cost']['amount']):.2f}" for line in extra)


def test_lines_that_miss_the_total_are_refused_with_both_figures() -> None:
    order = {"total": Decimal("10.00")}
    lines = [{"qty": "3", "unit_cost": {"amount": "3.33"}}]
    assert _total_differs(order, lines) == "the invoice lines add up to 9.99, the shop order's total is 10.00"
