"""Seeds of the shop: ``demo`` (the demo business's web shop), ``empty``, and ``--scale N`` generated orders.

The demo shop sells the demo business's physical goods (``WIDGET-A``, ``WIDGET-B``, ``SENSOR-K1``,
``CABLE-5M``, at the demo price list) in the US (USD, 8.25 % sales tax) and Canada (CAD, 5 % GST), and
opened nine days before the demo's anchor date. Its first order, ``WEB-1001``, is the shop order the
Infor sandbox already holds and FreshBooks never invoiced (the demo's ``invoice_missing_in_freshbooks``):
Cedar & Pine Design, 4 x WIDGET-A at 24.95 CAD, GST, free shipping, 104.79 CAD. Ten of its buyers are
demo-business companies, under the same names, e-mail addresses and addresses as in FreshBooks; the others
are consumers FreshBooks has never seen, two of them guests without a customer record.

The 36 demo orders cover what order-to-cash must handle: paid and fulfilled (closed), paid and waiting,
partly fulfilled, pending bank payments, an authorization not yet captured, a partial payment, edits
after checkout (a line lowered, a line added), cancellations (unpaid: voided; paid: refunded), refunds
(a line, a goodwill amount, everything), discount codes (10 %, 15.00 off), a test order, two currencies.
Every seed is deterministic: the same seed gives the same ids, names, amounts and times.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from finsync_dagster.sandbox import SEEDS
from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.demo_business import ANCHOR, DemoCustomer, demo_business
from finsync_dagster.sandbox.shop.models import Address, Product
from finsync_dagster.sandbox.shop.shapes import SHOP_ZONE
from finsync_dagster.sandbox.shop.store import NewLine, NewOrder, Store

_GOODS = {  # sku -> (title, variant title, grams); prices come from the demo business
    "WIDGET-A": ("Widget", "Model A", 180),
    "WIDGET-B": ("Widget", "Model B", 240),
    "SENSOR-K1": ("Sensor kit", "K1", 650),
    "CABLE-5M": ("Cable", "5 m", 420),
}
_COUNTRIES = {"US": "United States", "CA": "Canada"}
_PROVINCES = {
    "IL": "Illinois",
    "OR": "Oregon",
    "TX": "Texas",
    "MA": "Massachusetts",
    "CO": "Colorado",
    "ON": "Ontario",
    "BC": "British Columbia",
    "QC": "Quebec",
}
# Demo-business companies that buy in the shop (US and Canadian ones; keys of demo_business customers).
_COMPANY_BUYERS = ("C001", "C002", "C003", "C004", "C005", "C008", "C009", "C010", "C014", "C016")
_CONSUMERS = (  # first, last, e-mail, street, city, province code, zip, country
    ("Priya", "Raman", "priya.raman@example.net", "41 Cedar Lane", "Austin", "TX", "78704", "US"),
    ("Tomás", "Herrera", "tomas.herrera@example.org", "9 Wharf St", "Boston", "MA", "02110", "US"),
    (
        "Élodie",
        "Gagnon",
        "elodie.gagnon@example.ca",
        "220 Rue Sainte-Catherine",
        "Montréal",
        "QC",
        "H2X 1L4",
        "CA",
    ),
    ("Marcus", "Bell", "marcus.bell@example.com", "77 Pine St", "Portland", "OR", "97204", "US"),
    ("Yuki", "Tanaka", "yuki.tanaka@example.ca", "15 Robson St", "Vancouver", "BC", "V6B 2A5", "CA"),
    ("Grace", "O'Neil", "grace.oneil@example.com", "3 Larimer Sq", "Denver", "CO", "80202", "US"),
)
_GUESTS = (
    ("Sam", "Whitfield", "sam.w@example.net", "600 Congress Ave", "Austin", "TX", "78701", "US"),
    ("Noor", "Haddad", "noor.haddad@example.ca", "100 King St W", "Toronto", "ON", "M5X 1A9", "CA"),
)
# What happens to orders WEB-1002..WEB-1036 after checkout, oldest first.
_PLAN = (
    "fulfilled", "fulfilled", "pending", "fulfilled", "refund_line", "fulfilled", "authorized",
    "fulfilled", "cancelled_refunded", "fulfilled", "partially_paid", "fulfilled", "edited_up",
    "fulfilled", "refund_goodwill", "guest", "cancelled_unpaid", "fulfilled", "edited_down",
    "partial_fulfilled", "fulfilled", "test", "fulfilled", "refund_full", "fulfilled", "paid",
    "fulfilled", "pending", "paid", "partial_fulfilled", "paid", "guest", "paid", "paid", "pending",
)  # fmt: skip
OPENED = datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, 9, 0, tzinfo=SHOP_ZONE) - timedelta(days=9)
_HOUR = 3600.0


@dataclass
class Seeded:
    store: Store
    truth: dict[str, Any] | None = None


def products() -> dict[str, Product]:
    prices = {item.sku: item.unit_price for item in demo_business().items}
    return {
        sku: Product(sku, title, variant, prices[sku], 8_011_111_100_000 + n, 45_011_111_100_000 + n, grams)
        for n, (sku, (title, variant, grams)) in enumerate(_GOODS.items(), start=1)
    }


def build(seed: str, scale: int | None, clock: SandboxClock) -> Seeded:
    if seed not in SEEDS:
        raise ValueError(f"unknown shop seed {seed!r}: use 'demo' or 'empty'")
    store = Store(clock, products())
    if scale:
        _scale(store, scale)
        return Seeded(store)
    if seed == "empty":
        return Seeded(store)
    return Seeded(store, _demo(store))


def _company_address(customer: DemoCustomer) -> Address:
    return Address(
        first_name=customer.first_name,
        last_name=customer.last_name,
        company=customer.organization,
        address1=customer.street,
        address2=customer.street2,
        city=customer.city,
        province=_PROVINCES.get(customer.province, customer.province),
        province_code=customer.province,
        country=_COUNTRIES[customer.country],
        country_code=customer.country,
        zip=customer.postcode,
        phone=customer.phone,
    )


def _person_address(row: tuple[str, ...]) -> tuple[str, Address]:
    first, last, email, street, city, province, postcode, country = row
    return email, Address(
        first,
        last,
        None,
        street,
        "",
        city,
        _PROVINCES[province],
        province,
        _COUNTRIES[country],
        country,
        postcode,
    )


def _demo(store: Store) -> dict[str, Any]:
    rng = random.Random(20261031)
    business = demo_business()
    companies = [business.freshbooks.customer(key) for key in _COMPANY_BUYERS]
    buyers = [(c.email, _company_address(c)) for c in companies] + [
        _person_address(row) for row in _CONSUMERS
    ]
    guests = [_person_address(row) for row in _GUESTS]
    start = OPENED.timestamp()
    first = next(c for c in companies if c.key == "C003")
    store.create_order(
        NewOrder(
            lines=(NewLine("WIDGET-A", 4),),
            email=first.email,
            address=_company_address(first),
            currency=first.currency,
            created_at=start + 1.25 * _HOUR,
        ),
        notify=False,
    )
    web_1001 = next(iter(store.orders.values()))
    store.fulfill(web_1001, when=start + 26 * _HOUR)
    scenarios = {web_1001.name: "fulfilled"}
    span = (ANCHOR - OPENED.date()).days * 24 * _HOUR
    for index, scenario in enumerate(_PLAN, start=1):
        created = start + 2 * _HOUR + span * index / (len(_PLAN) + 1) + rng.randrange(0, 50) * 60
        guest = scenario == "guest"
        email, address = guests[index % 2] if guest else buyers[rng.randrange(len(buyers))]
        lines = tuple(
            NewLine(sku, rng.randint(1, 10 if sku == "CABLE-5M" else 4))
            for sku in rng.sample(sorted(_GOODS), rng.randint(1, 3))
        )
        payment = {"pending": "pending", "partially_paid": "pending", "cancelled_unpaid": "pending",
                   "edited_down": "pending", "authorized": "authorized"}.get(scenario, "paid")  # fmt: skip
        order = store.create_order(
            NewOrder(
                lines=lines,
                email=email,
                address=address,
                currency="CAD" if address.country_code == "CA" else "USD",
                discount_code="WELCOME10" if index % 4 == 0 else "SAVE15" if index % 7 == 0 else None,
                payment=payment,
                guest=guest,
                test=scenario == "test",
                created_at=created,
            ),
            notify=False,
        )
        _follow_up(store, order, scenario, created)
        scenarios[order.name] = scenario
    return _truth(store, companies, scenarios)


def _follow_up(store: Store, order: Any, scenario: str, created: float) -> None:
    """What happened to one demo order after checkout (see ``_PLAN``)."""
    later = created + 5 * _HOUR
    first = order.lines[0]
    if scenario in ("fulfilled", "refund_line", "refund_full"):
        store.fulfill(order, when=later)
    if scenario == "refund_line":
        store.refund(order, lines={first.id: 1}, note="One unit arrived damaged", when=later + 20 * _HOUR)
    elif scenario == "refund_full":
        store.refund(
            order,
            lines={line.id: line.current_quantity for line in order.lines},
            shipping=True,
            note="Returned in full",
            when=later + 30 * _HOUR,
        )
    elif scenario == "refund_goodwill":
        store.refund(order, amount=Decimal("5.00"), note="Late delivery", when=later)
    elif scenario == "partially_paid":
        store.pay(order, (order.outstanding / 2).quantize(Decimal("0.01")), when=later)
    elif scenario == "cancelled_unpaid":
        store.cancel(order, reason="customer", when=later)
    elif scenario == "cancelled_refunded":
        store.cancel(order, reason="inventory", when=later)
    elif scenario == "edited_down":
        store.edit(order, quantities={first.id: first.current_quantity - 1} if first.quantity > 1 else {},
                   note="Customer asked for one less", when=later)  # fmt: skip
        store.pay(order, when=later + _HOUR)
    elif scenario == "edited_up":
        store.edit(order, add=(NewLine("CABLE-5M", 2),), note="Added two cables by phone", when=later)
    elif scenario == "partial_fulfilled":
        store.fulfill(
            order, {first.id: first.current_quantity}, tracking_number=f"1Z{order.id % 10**8}", when=later
        )


def _truth(store: Store, companies: list[DemoCustomer], scenarios: dict[str, str]) -> dict[str, Any]:
    orders = list(store.orders.values())
    currencies: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for order in orders:
        currencies[order.presentment_currency] = currencies.get(order.presentment_currency, 0) + 1
        statuses[order.financial_status] = statuses.get(order.financial_status, 0) + 1
    return {
        "anchor_date": ANCHOR.isoformat(),
        "orders": len(orders),
        "lines": sum(len(order.lines) for order in orders),
        "customers": len(store.customers),
        "order_names": [order.name for order in orders],
        "scenarios": scenarios,
        "currencies": currencies,
        "financial_status": statuses,
        "customers_in_freshbooks": sorted(c.email for c in companies),
        # The shop order the Infor sandbox holds and FreshBooks never invoiced (demo_business.py).
        "order_in_infor_only": "WEB-1001",
    }


def _scale(store: Store, count: int) -> None:
    """``count`` paid orders over the year before the anchor, a customer per ten orders (at least 20),
    every third customer Canadian; every other order fulfilled."""
    rng = random.Random(count)
    people = max(20, count // 10)
    buyers = []
    for n in range(people):
        canadian = n % 3 == 2
        buyers.append(
            (
                f"buyer{n:05d}@scale.example",
                Address(
                    f"Buyer{n}",
                    "Scale",
                    None,
                    f"{n + 1} Scale Rd",
                    "",
                    "Toronto" if canadian else "Austin",
                    "Ontario" if canadian else "Texas",
                    "ON" if canadian else "TX",
                    "Canada" if canadian else "United States",
                    "CA" if canadian else "US",
                    "M5V 2T6" if canadian else "78701",
                ),
            )
        )
    skus = sorted(_GOODS)
    start = OPENED.timestamp() - 356 * 24 * _HOUR
    step = 365 * 24 * _HOUR / count
    for n in range(count):
        email, address = buyers[rng.randrange(people)]
        order = store.create_order(
            NewOrder(
                lines=tuple(NewLine(sku, rng.randint(1, 5)) for sku in rng.sample(skus, rng.randint(1, 3))),
                email=email,
                address=address,
                currency="CAD" if address.country_code == "CA" else "USD",
                created_at=start + n * step,
            ),
            notify=False,
        )
        if n % 2:
            store.fulfill(order, when=start + n * step + 3 * _HOUR)
