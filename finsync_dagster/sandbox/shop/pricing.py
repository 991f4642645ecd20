"""Order arithmetic of the shop sandbox, in one currency at a time, exact to the cent.

An order is priced twice: in the shop's currency and in the buyer's (presentment) currency, each from
that currency's own unit prices, so both sets of figures add up on their own (contract 3.6 asks for
internally consistent orders). The rules, as the contract's worked example (section 7) applies them:

- a line's gross is ``price x quantity``; a discount code is spread across lines in proportion to their
  gross (``allocation_method: across``), the last cent going to the largest line;
- tax is per line, on the discounted line, rounded half-up to the cent; shipping is untaxed;
- ``subtotal = line items - discounts``; ``total = subtotal + shipping + tax`` (prices exclude tax).

"Current" figures use each line's current quantity (after edits and refunds); a line's discount
allocation shrinks with it, in proportion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Discount:
    """A discount code: ``percentage`` (value in percent) or ``fixed_amount`` (value in the currency)."""

    code: str
    kind: str  # percentage | fixed_amount
    value: Decimal


@dataclass(frozen=True)
class PricedLine:
    gross: Decimal  # price x quantity
    discount: Decimal  # this line's share of the discount code
    tax: Decimal
    current_gross: Decimal
    current_discount: Decimal
    current_tax: Decimal


@dataclass(frozen=True)
class Totals:
    """One currency's figures of an order."""

    lines: tuple[PricedLine, ...]
    line_items: Decimal
    discounts: Decimal
    subtotal: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal
    current_line_items: Decimal
    current_discounts: Decimal
    current_subtotal: Decimal
    current_shipping: Decimal
    current_tax: Decimal
    current_total: Decimal


@dataclass(frozen=True)
class LineInput:
    unit_price: Decimal
    quantity: int
    current_quantity: int
    taxable: bool = True


def allocate(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``amount`` split in proportion to ``weights``, in cents, summing exactly to ``amount``."""
    total = sum(weights, ZERO)
    if not weights or total <= 0 or amount <= 0:
        return [ZERO for _ in weights]
    shares = [cents(amount * weight / total) for weight in weights]
    largest = max(range(len(weights)), key=lambda i: weights[i])
    shares[largest] += amount - sum(shares, ZERO)
    return shares


def discount_amount(discount: Discount | None, gross: Decimal) -> Decimal:
    if discount is None or gross <= 0:
        return ZERO
    if discount.kind == "percentage":
        return cents(gross * discount.value / 100)
    return min(cents(discount.value), gross)


def price(
    lines: Sequence[LineInput],
    *,
    discount: Discount | None,
    shipping: Decimal,
    current_shipping: Decimal,
    tax_rate: Decimal,
) -> Totals:
    """Price an order's lines in one currency (see the module docstring for the rules)."""
    gross = [cents(line.unit_price * line.quantity) for line in lines]
    allocations = allocate(discount_amount(discount, sum(gross, ZERO)), gross)
    priced = []
    for line, line_gross, allocated in zip(lines, gross, allocations, strict=True):
        rate = tax_rate if line.taxable else ZERO
        current_gross = cents(line.unit_price * line.current_quantity)
        current_discount = cents(allocated * line.current_quantity / line.quantity) if line.quantity else ZERO
        priced.append(
            PricedLine(
                gross=line_gross,
                discount=allocated,
                tax=cents((line_gross - allocated) * rate),
                current_gross=current_gross,
                current_discount=current_discount,
                current_tax=cents((current_gross - current_discount) * rate),
            )
        )

    def total(field: str) -> Decimal:
        return sum((getattr(p, field) for p in priced), ZERO)

    line_items, discounts, tax = total("gross"), total("discount"), total("tax")
    current_items, current_discounts, current_tax = (
        total("current_gross"),
        total("current_discount"),
        total("current_tax"),
    )
    return Totals(
        lines=tuple(priced),
        line_items=line_items,
        discounts=discounts,
        subtotal=line_items - discounts,
        shipping=shipping,
        tax=tax,
        total=line_items - discounts + shipping + tax,
        current_line_items=current_items,
        current_discounts=current_discounts,
        current_subtotal=current_items - current_discounts,
        current_shipping=current_shipping,
        current_tax=current_tax,
        current_total=current_items - current_discounts + current_shipping + current_tax,
    )


def money_text(value: Decimal) -> str:
    """Shopify's money form: a decimal string with two places (contract 3.6, zero-decimal currencies aside)."""
    return f"{cents(value):.2f}"
