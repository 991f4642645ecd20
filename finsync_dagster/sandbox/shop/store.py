"""The shop's data and every change a shopper or the merchant makes to it, with the webhooks each one fires.

Changes stamp ``updated_at`` from the sandbox clock and call ``emit(topics, order)``; which topics fire for
which change follows contract 6.1: a new order fires ``orders/create`` (and ``orders/paid`` when paid at
checkout), every later change ``orders/updated`` plus its own topic (``orders/paid`` once fully paid,
``orders/cancelled``, ``refunds/create``, ``orders/fulfilled`` or ``orders/partially_fulfilled``).
An order that is paid and fulfilled is closed (archived), as with the shop setting "automatically
archive"; so is a cancelled one. Ids grow with creation.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.shop.models import (
    CAD_PER_USD,
    PRESENTMENT_CURRENCIES,
    Address,
    Customer,
    Fulfillment,
    LineItem,
    Order,
    Product,
    Refund,
    RefundLine,
    Transaction,
)
from finsync_dagster.sandbox.shop.pricing import ZERO, Discount, cents

ORDER_ID_BASE = 6_123_456_000_000
CUSTOMER_ID_BASE = 7_345_678_000_000
LINE_ID_BASE = 15_012_345_000_000
TRANSACTION_ID_BASE = 8_101_000_000_000
REFUND_ID_BASE = 9_201_000_000_000
FULFILLMENT_ID_BASE = 4_301_000_000_000
ORDER_PREFIX = "WEB-"
FREE_SHIPPING_FROM = Decimal("75.00")
STANDARD_SHIPPING = Decimal("9.99")
TAXES = {"US": ("Sales Tax", Decimal("0.0825")), "CA": ("GST", Decimal("0.05"))}
DISCOUNT_CODES = {
    "WELCOME10": Discount("WELCOME10", "percentage", Decimal("10")),
    "SAVE15": Discount("SAVE15", "fixed_amount", Decimal("15.00")),
}
CANCEL_REASONS = ("customer", "fraud", "inventory", "declined", "other")

Emit = Callable[[Sequence[str], Order], None]


class StoreError(ValueError):
    """A shopper or merchant action the shop refuses (control plane: 400 or 404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class NewLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class NewOrder:
    """What a checkout needs; the customer is found by e-mail or created from the address's names."""

    lines: tuple[NewLine, ...]
    email: str | None
    address: Address
    currency: str = "USD"
    discount_code: str | None = None
    payment: str = "paid"  # paid | pending | authorized
    guest: bool = False
    test: bool = False
    note: str | None = None
    tags: str = ""
    created_at: float | None = None


@dataclass
class Store:
    clock: SandboxClock
    products: dict[str, Product]
    emit: Emit = lambda _topics, _order: None
    customers: dict[int, Customer] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._order_numbers = itertools.count(1)
        self._customer_ids = itertools.count(CUSTOMER_ID_BASE + 101, 37)
        self._line_ids = itertools.count(LINE_ID_BASE + 1, 11)
        self._transaction_ids = itertools.count(TRANSACTION_ID_BASE + 1, 7)
        self._refund_ids = itertools.count(REFUND_ID_BASE + 1, 13)
        self._fulfillment_ids = itertools.count(FULFILLMENT_ID_BASE + 1, 19)
        self._by_email: dict[str, int] = {}

    # -- lookups

    def order(self, order_id: int) -> Order:
        found = self.orders.get(order_id)
        if found is None:
            raise StoreError(f"no order {order_id}", 404)
        return found

    def customer_of(self, order: Order) -> Customer | None:
        return self.customers.get(order.customer_id) if order.customer_id is not None else None

    def customer_by_email(self, email: str) -> Customer | None:
        found = self._by_email.get(email.strip().lower())
        return self.customers.get(found) if found is not None else None

    def product(self, sku: str) -> Product:
        found = self.products.get(sku)
        if found is None:
            raise StoreError(f"unknown sku {sku!r}; the shop sells {', '.join(sorted(self.products))}")
        return found

    # -- a shopper checks out

    def add_customer(self, email: str | None, address: Address, currency: str, when: float) -> Customer:
        customer = Customer(
            id=next(self._customer_ids),
            email=email,
            first_name=address.first_name,
            last_name=address.last_name,
            phone=address.phone,
            currency=currency,
            created_at=when,
            updated_at=when,
            address=address,
        )
        self.customers[customer.id] = customer
        if email:
            self._by_email[email.strip().lower()] = customer.id
        return customer

    def create_order(self, spec: NewOrder, *, notify: bool = True) -> Order:
        if not spec.lines:
            raise StoreError("an order needs at least one line")
        if spec.currency not in PRESENTMENT_CURRENCIES:
            raise StoreError(
                f"the shop sells in {' and '.join(PRESENTMENT_CURRENCIES)}, not {spec.currency!r}"
            )
        if spec.payment not in ("paid", "pending", "authorized"):
            raise StoreError("payment is 'paid', 'pending' or 'authorized'")
        if spec.address.country_code not in TAXES:
            raise StoreError("the shop ships to the US and Canada only (country_code US or CA)")
        discount = None
        if spec.discount_code:
            discount = DISCOUNT_CODES.get(spec.discount_code.upper())
            if discount is None:
                raise StoreError(f"unknown discount code {spec.discount_code!r}")
        when = self.clock.time() if spec.created_at is None else spec.created_at
        customer = None
        if not spec.guest:
            customer = self.customer_by_email(spec.email) if spec.email else None
            if customer is None:
                customer = self.add_customer(spec.email, spec.address, spec.currency, when)
        number = next(self._order_numbers)
        order_id = ORDER_ID_BASE + number * 1013
        rate = CAD_PER_USD if spec.currency == "CAD" else Decimal(1)
        lines = []
        for wanted in spec.lines:
            if wanted.quantity < 1:
                raise StoreError("a line's quantity is 1 or more")
            product = self.product(wanted.sku)
            lines.append(
                LineItem(
                    id=next(self._line_ids),
                    product=product,
                    quantity=wanted.quantity,
                    price_shop=product.price if rate == 1 else cents(product.price / rate),
                    price_presentment=product.price,
                )
            )
        gross = sum((line.price_presentment * line.quantity for line in lines), ZERO)
        free = gross >= FREE_SHIPPING_FROM
        tax_title, tax_rate = TAXES[spec.address.country_code]
        order = Order(
            id=order_id,
            number=number,
            name=f"{ORDER_PREFIX}{1000 + number}",
            confirmation_number=_confirmation(order_id),
            email=spec.email,
            phone=spec.address.phone,
            customer_id=customer.id if customer else None,
            billing_address=spec.address,
            shipping_address=spec.address,
            presentment_currency=spec.currency,
            tax_title=tax_title,
            tax_rate=tax_rate,
            discount=discount,
            shipping_title="Free Shipping" if free else "Standard Shipping",
            shipping_price=ZERO if free else STANDARD_SHIPPING,
            lines=lines,
            created_at=when,
            updated_at=when,
            processed_at=when,
            gateway="manual" if spec.payment == "pending" else "shopify_payments",
            tags=spec.tags,
            note=spec.note,
            test=spec.test,
        )
        self.orders[order.id] = order
        topics = ["orders/create"]
        total = order.totals(presentment=True).total
        if spec.payment == "paid":
            self._transaction(order, "sale", total, when)
            topics.append("orders/paid")
        elif spec.payment == "authorized":
            self._transaction(order, "authorization", total, when)
        if notify:
            self.emit(topics, order)
        return order

    # -- payments, edits, cancellations, refunds, fulfilment

    def pay(self, order: Order, amount: Decimal | None = None, *, when: float | None = None) -> Transaction:
        """Take a payment (captures an open authorization first); default: everything outstanding."""
        self._open(order)
        outstanding = order.outstanding
        amount = outstanding if amount is None else cents(amount)
        if amount <= 0 or amount > outstanding:
            raise StoreError(
                f"pay between 0.01 and the outstanding {outstanding} {order.presentment_currency}"
            )
        when = self._now(when)
        authorization = next(
            (
                t
                for t in order.transactions
                if t.kind == "authorization" and order.open_authorization > 0 and t.amount >= amount
            ),
            None,
        )
        was_paid = order.financial_status == "paid"
        kind = "capture" if authorization is not None else "sale"
        made = self._transaction(order, kind, amount, when, parent=authorization)
        self._touch(order, when)
        topics = ["orders/updated"]
        if order.financial_status == "paid" and not was_paid:
            topics.insert(0, "orders/paid")
        self.emit(topics, order)
        return made

    def edit(
        self,
        order: Order,
        *,
        quantities: dict[int, int] | None = None,
        add: Iterable[NewLine] = (),
        note: str | None = None,
        tags: str | None = None,
        email: str | None = None,
        when: float | None = None,
    ) -> Order:
        """Change an open order: lower line quantities, add lines, change the note, tags or e-mail."""
        self._open(order)
        for line_id, wanted in (quantities or {}).items():
            line = order.line(line_id)
            if line is None:
                raise StoreError(f"order {order.name} has no line {line_id}", 404)
            if not 0 <= wanted <= line.current_quantity:
                raise StoreError(f"line {line_id} can go down to 0..{line.current_quantity}, not {wanted}")
            if wanted < line.fulfilled:
                raise StoreError(f"line {line_id} has {line.fulfilled} fulfilled already")
            line.removed += line.current_quantity - wanted
        rate = order.rate
        for new in add:
            product = self.product(new.sku)
            if new.quantity < 1:
                raise StoreError("a line's quantity is 1 or more")
            order.lines.append(
                LineItem(
                    id=next(self._line_ids),
                    product=product,
                    quantity=new.quantity,
                    price_shop=product.price if rate == 1 else cents(product.price / rate),
                    price_presentment=product.price,
                )
            )
        if note is not None:
            order.note = note
        if tags is not None:
            order.tags = tags
        if email is not None:
            order.email = email
        self._touch(order, self._now(when))
        self.emit(["orders/updated"], order)
        return order

    def cancel(
        self, order: Order, *, reason: str = "customer", refund: bool = True, when: float | None = None
    ) -> Order:
        """Cancel: void an open authorization, refund what was paid (unless told not to), close the order."""
        if order.cancelled_at is not None:
            raise StoreError(f"order {order.name} is cancelled already")
        if reason not in CANCEL_REASONS:
            raise StoreError(f"reason is one of {', '.join(CANCEL_REASONS)}")
        if any(line.fulfilled for line in order.lines):
            raise StoreError(f"order {order.name} has fulfilled lines; refund them instead")
        when = self._now(when)
        topics = ["orders/cancelled", "orders/updated"]
        for auth in [t for t in order.transactions if t.kind == "authorization"]:
            if order.open_authorization > 0:
                self._transaction(order, "void", auth.amount, when, parent=auth)
        paid = order.captured - order.refunded
        if refund and paid > 0:
            self._refund(
                order,
                {line.id: line.current_quantity for line in order.lines if line.current_quantity},
                shipping=True,
                extra=None,
                note="Order cancelled",
                when=when,
            )
            topics.append("refunds/create")
        elif paid <= 0:
            for line in order.lines:
                line.removed += line.current_quantity
            order.shipping_removed = True
        order.cancelled_at = when
        order.cancel_reason = reason
        order.closed_at = when
        self._touch(order, when)
        self.emit(topics, order)
        return order

    def refund(
        self,
        order: Order,
        *,
        lines: dict[int, int] | None = None,
        shipping: bool = False,
        amount: Decimal | None = None,
        note: str | None = None,
        when: float | None = None,
    ) -> Refund:
        """Refund line quantities (with their tax), the shipping, and/or an amount on top (a goodwill
        refund, recorded as an order adjustment); never more than was paid."""
        when = self._now(when)
        made = self._refund(order, lines or {}, shipping=shipping, extra=amount, note=note, when=when)
        self._touch(order, when)
        self.emit(["refunds/create", "orders/updated"], order)
        return made

    def fulfill(
        self,
        order: Order,
        lines: dict[int, int] | None = None,
        *,
        tracking_number: str | None = None,
        when: float | None = None,
    ) -> Fulfillment:
        """Ship line quantities (default: everything still to ship)."""
        self._open(order)
        wanted = lines or {
            line.id: line.current_quantity - line.fulfilled
            for line in order.lines
            if line.current_quantity > line.fulfilled
        }
        if not wanted:
            raise StoreError(f"order {order.name} has nothing left to fulfil")
        for line_id, quantity in wanted.items():
            line = order.line(line_id)
            if line is None:
                raise StoreError(f"order {order.name} has no line {line_id}", 404)
            if not 1 <= quantity <= line.current_quantity - line.fulfilled:
                raise StoreError(
                    f"line {line_id} has {line.current_quantity - line.fulfilled} left to fulfil"
                )
        when = self._now(when)
        for line_id, quantity in wanted.items():
            line = order.line(line_id)
            assert line is not None
            line.fulfilled += quantity
        made = Fulfillment(
            next(self._fulfillment_ids),
            when,
            dict(wanted),
            tracking_number=tracking_number,
            tracking_company="UPS" if tracking_number else None,
        )
        order.fulfillments.append(made)
        self._touch(order, when)
        status = order.fulfillment_status
        self.emit(
            ["orders/fulfilled" if status == "fulfilled" else "orders/partially_fulfilled", "orders/updated"],
            order,
        )
        return made

    def delete(self, order: Order) -> None:
        del self.orders[order.id]
        self.emit(["orders/delete"], order)

    # -- queries

    def matching(self, test: Callable[[Order], bool]) -> list[Order]:
        return [order for order in self.orders.values() if test(order)]

    # -- internals

    def _open(self, order: Order) -> None:
        if order.cancelled_at is not None:
            raise StoreError(f"order {order.name} is cancelled")

    def _now(self, when: float | None) -> float:
        return self.clock.time() if when is None else when

    def _touch(self, order: Order, when: float) -> None:
        order.updated_at = max(when, order.updated_at)
        archivable = order.financial_status == "paid" and order.fulfillment_status == "fulfilled"
        if archivable and order.cancelled_at is None and order.closed_at is None:
            order.closed_at = when

    def _transaction(
        self, order: Order, kind: str, amount: Decimal, when: float, *, parent: Transaction | None = None
    ) -> Transaction:
        made = Transaction(
            id=next(self._transaction_ids),
            kind=kind,
            amount=amount,
            created_at=when,
            gateway=order.gateway,
            parent_id=parent.id if parent else None,
            authorization=f"auth-{order.id % 100000}" if kind == "authorization" else None,
        )
        order.transactions.append(made)
        return made

    def _refund(
        self,
        order: Order,
        quantities: dict[int, int],
        *,
        shipping: bool,
        extra: Decimal | None,
        note: str | None,
        when: float,
    ) -> Refund:
        refundable = order.captured - order.refunded
        if refundable <= 0:
            raise StoreError(f"order {order.name} has nothing paid to refund")
        before = order.totals(presentment=True)
        for line_id, quantity in quantities.items():
            line = order.line(line_id)
            if line is None:
                raise StoreError(f"order {order.name} has no line {line_id}", 404)
            if not 1 <= quantity <= line.current_quantity:
                raise StoreError(f"line {line_id} can refund 1..{line.current_quantity}, not {quantity}")
        for line_id, quantity in quantities.items():
            line = order.line(line_id)
            assert line is not None
            line.refunded += quantity
        after = order.totals(presentment=True)
        refund_lines = []
        for index, line in enumerate(order.lines):
            if line.id not in quantities:
                continue
            old, new = before.lines[index], after.lines[index]
            refund_lines.append(
                RefundLine(
                    id=line.id + 3,
                    line_item_id=line.id,
                    quantity=quantities[line.id],
                    subtotal=(old.current_gross - old.current_discount)
                    - (new.current_gross - new.current_discount),
                    total_tax=old.current_tax - new.current_tax,
                )
            )
        shipping_amount = before.current_shipping if shipping else ZERO
        extra_amount = cents(extra) if extra is not None else ZERO
        amount = sum((r.subtotal + r.total_tax for r in refund_lines), ZERO) + shipping_amount + extra_amount
        if amount <= 0 or amount > refundable:
            for line_id, quantity in quantities.items():  # undo: nothing was refunded
                line = order.line(line_id)
                assert line is not None
                line.refunded -= quantity
            raise StoreError(f"refund between 0.01 and the {refundable} paid ({amount} asked)")
        parent = next((t for t in order.transactions if t.kind in ("sale", "capture")), None)
        made = Refund(
            id=next(self._refund_ids),
            created_at=when,
            note=note,
            lines=refund_lines,
            shipping=shipping_amount,
            adjustment=extra_amount,
            transactions=[],
        )
        made.transactions.append(
            Transaction(
                id=next(self._transaction_ids),
                kind="refund",
                amount=amount,
                created_at=when,
                gateway=order.gateway,
                parent_id=parent.id if parent else None,
            )
        )
        order.refunds.append(made)
        return made


def _confirmation(order_id: int) -> str:
    digest = hashlib.sha256(str(order_id).encode()).hexdigest().upper()
    return "".join(ch for ch in digest if ch.isalnum() and ch not in "O0I1")[:9]


def parse_amount(value: Any, what: str = "amount") -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise StoreError(f"{what} must be a decimal string such as '12.50'") from None
    if not amount.is_finite():
        raise StoreError(f"{what} must be a decimal string such as '12.50'")
    return amount
