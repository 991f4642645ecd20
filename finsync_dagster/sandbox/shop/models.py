"""The shop's records: products, customers, orders with their lines, transactions, refunds and fulfilments.

Records hold what happened (quantities, amounts paid and refunded, times as epoch seconds); everything the
API derives from that (totals in both currencies, ``financial_status``, ``fulfillment_status``, current
quantities, ``total_outstanding``) is a property here, so it can never drift from the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from finsync_dagster.sandbox.shop.pricing import ZERO, Discount, LineInput, Totals, cents, price

SHOP_CURRENCY = "USD"
# Buyers in Canada pay in CAD. Their prices are the market's fixed prices (the catalogue's numbers, as the
# demo business bills its Canadian clients); the shop's own figures convert them at this rate.
CAD_PER_USD = Decimal("1.37")
PRESENTMENT_CURRENCIES = ("USD", "CAD")


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    variant_title: str
    price: Decimal  # the catalogue number, in every market's currency
    product_id: int
    variant_id: int
    grams: int
    vendor: str = "Finsync Demo Trading Co."
    taxable: bool = True
    requires_shipping: bool = True


@dataclass(frozen=True)
class Address:
    first_name: str
    last_name: str
    company: str | None
    address1: str
    address2: str
    city: str
    province: str
    province_code: str
    country: str
    country_code: str
    zip: str
    phone: str | None = None


@dataclass
class Customer:
    id: int
    email: str | None
    first_name: str
    last_name: str
    phone: str | None
    currency: str
    created_at: float
    updated_at: float
    address: Address | None = None
    tags: str = ""
    note: str | None = None
    tax_exempt: bool = False


@dataclass
class LineItem:
    id: int
    product: Product
    quantity: int
    price_shop: Decimal
    price_presentment: Decimal
    removed: int = 0  # taken out by order edits
    refunded: int = 0
    fulfilled: int = 0

    @property
    def current_quantity(self) -> int:
        return self.quantity - self.removed - self.refunded

    @property
    def fulfillment_status(self) -> str | None:
        if self.fulfilled and self.fulfilled >= self.current_quantity:
            return "fulfilled"
        return "partial" if self.fulfilled else None


@dataclass
class Transaction:
    id: int
    kind: str  # authorization | capture | sale | void | refund
    amount: Decimal  # in the order's presentment currency
    created_at: float
    gateway: str
    status: str = "success"
    parent_id: int | None = None
    authorization: str | None = None


@dataclass
class RefundLine:
    id: int
    line_item_id: int
    quantity: int
    subtotal: Decimal  # presentment currency
    total_tax: Decimal
    restock_type: str = "no_restock"


@dataclass
class Refund:
    id: int
    created_at: float
    note: str | None
    lines: list[RefundLine]
    shipping: Decimal  # shipping refunded, presentment currency
    adjustment: Decimal  # refunded beyond lines and shipping (an order adjustment)
    transactions: list[Transaction]

    @property
    def amount(self) -> Decimal:
        return sum((t.amount for t in self.transactions if t.status == "success"), ZERO)


@dataclass
class Fulfillment:
    id: int
    created_at: float
    lines: dict[int, int]  # line item id -> quantity
    tracking_number: str | None = None
    tracking_company: str | None = None


@dataclass
class Order:
    id: int
    number: int  # 1, 2, ... (order_number is 1000 + number)
    name: str
    confirmation_number: str
    email: str | None
    phone: str | None
    customer_id: int | None
    billing_address: Address | None
    shipping_address: Address | None
    presentment_currency: str
    tax_title: str
    tax_rate: Decimal
    discount: Discount | None
    shipping_title: str
    shipping_price: Decimal  # the catalogue number (presentment currency)
    lines: list[LineItem]
    created_at: float
    updated_at: float
    processed_at: float
    gateway: str
    currency: str = SHOP_CURRENCY
    source_name: str = "web"
    tags: str = ""
    note: str | None = None
    test: bool = False
    cancelled_at: float | None = None
    cancel_reason: str | None = None
    closed_at: float | None = None
    shipping_removed: bool = False  # cancelled before shipping was charged
    transactions: list[Transaction] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)

    # -- money

    @property
    def rate(self) -> Decimal:
        """Presentment units per shop unit."""
        return CAD_PER_USD if self.presentment_currency == "CAD" else Decimal(1)

    def to_shop(self, amount: Decimal) -> Decimal:
        return amount if self.rate == 1 else cents(amount / self.rate)

    @property
    def shipping_refunded(self) -> Decimal:
        return sum((r.shipping for r in self.refunds), ZERO)

    def totals(self, presentment: bool = False) -> Totals:
        """The order's figures in the buyer's currency (``presentment``) or the shop's."""
        shipping = self.shipping_price if presentment else self.to_shop(self.shipping_price)
        left = ZERO if self.shipping_removed else self.shipping_price - self.shipping_refunded
        discount = self.discount
        if discount is not None and discount.kind == "fixed_amount" and not presentment:
            discount = Discount(discount.code, discount.kind, self.to_shop(discount.value))
        return price(
            [
                LineInput(
                    line.price_presentment if presentment else line.price_shop,
                    line.quantity,
                    line.current_quantity,
                    line.product.taxable,
                )
                for line in self.lines
            ],
            discount=discount,
            shipping=shipping,
            current_shipping=left if presentment else self.to_shop(left),
            tax_rate=self.tax_rate,
        )

    def _sum(self, *kinds: str) -> Decimal:
        return sum(
            (t.amount for t in self.all_transactions() if t.kind in kinds and t.status == "success"), ZERO
        )

    def all_transactions(self) -> list[Transaction]:
        return [*self.transactions, *(t for r in self.refunds for t in r.transactions)]

    @property
    def captured(self) -> Decimal:
        return self._sum("sale", "capture")

    @property
    def refunded(self) -> Decimal:
        return self._sum("refund")

    @property
    def open_authorization(self) -> Decimal:
        voided = {t.parent_id for t in self.transactions if t.kind in ("void", "capture")}
        return sum(
            (
                t.amount
                for t in self.transactions
                if t.kind == "authorization" and t.status == "success" and t.id not in voided
            ),
            ZERO,
        )

    @property
    def outstanding(self) -> Decimal:
        """What the buyer still owes, presentment currency: refunds beyond lines and shipping owe nothing."""
        adjustments = sum((r.adjustment for r in self.refunds), ZERO)
        due = self.totals(presentment=True).current_total
        return max(ZERO, due - self.captured + self.refunded - adjustments)

    @property
    def outstanding_shop(self) -> Decimal:
        presentment = self.totals(presentment=True).total
        if self.rate == 1 or presentment == 0:
            return self.outstanding
        return cents(self.outstanding * self.totals().total / presentment)

    # -- statuses (contract 3.7)

    @property
    def financial_status(self) -> str:
        captured = self.captured
        if self.cancelled_at is not None and captured == 0:
            return "voided"
        if self.refunded > 0:
            return "refunded" if self.refunded >= captured else "partially_refunded"
        if captured == 0:
            return "authorized" if self.open_authorization > 0 else "pending"
        return "paid" if captured >= self.totals(presentment=True).current_total else "partially_paid"

    @property
    def fulfillment_status(self) -> str | None:
        shipping = [line for line in self.lines if line.current_quantity > 0 or line.fulfilled]
        if not any(line.fulfilled for line in shipping):
            return None
        if all(line.fulfilled >= line.current_quantity for line in shipping):
            return "fulfilled"
        return "partial"

    def line(self, line_id: int) -> LineItem | None:
        return next((line for line in self.lines if line.id == line_id), None)
