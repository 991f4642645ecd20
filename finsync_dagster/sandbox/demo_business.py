"""The demo business both sandboxes seed from: one small company, seen by FreshBooks and by Infor.

It is pure and deterministic (a seeded generator, a fixed anchor date), so the same seed always gives the
same records in both systems, and the tests can read the planted truth. The Infor side is derived from the
FreshBooks side and then the planted discrepancies are applied, each chosen so that it causes exactly one
finding (an unpaid invoice for an amount error, a customer without invoices for a missing customer), never
a cascade of secondary ones.

What is planted (``PlantedDiscrepancy.kind``):

- ``customer_name_differs``: Infor spells a customer's name differently (same email) -> matched_with_differences
- ``customer_missing_in_infor``: a FreshBooks client that has no Infor customer -> missing_in_infor
- ``invoice_missing_in_infor``: a sent FreshBooks invoice with no Infor order -> missing_in_infor
- ``invoice_missing_in_freshbooks``: an Infor order (a shop order) with no FreshBooks invoice -> missing_in_freshbooks
- ``invoice_amount_differs``: an Infor order line priced a few cents off -> matched_with_differences
- ``invoice_currency_differs``: an Infor order in another currency -> matched_with_differences
- ``payment_duplicated_in_infor``: one FreshBooks payment recorded twice in Infor -> duplicate_suspected
- ``payment_missing_in_infor``: a FreshBooks payment never posted in Infor -> missing_in_infor
- ``expense_missing_in_infor``: a FreshBooks expense with no GL entry in Infor -> missing_in_infor
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

ANCHOR = date(2026, 10, 31)  # the demo's "today": fixed, so every run sees the same data
CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class DemoCustomer:
    key: str
    organization: str
    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    street2: str
    city: str
    province: str
    postcode: str
    country: str
    currency: str
    vat_number: str | None
    customer_type: str


@dataclass(frozen=True)
class DemoItem:
    sku: str
    name: str
    unit_price: Decimal
    currency: str
    qty_on_hand: Decimal


@dataclass(frozen=True)
class DemoTax:
    name: str
    percent: Decimal


@dataclass(frozen=True)
class DemoGLAccount:
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class DemoExpenseCategory:
    name: str
    gl_account: str


@dataclass(frozen=True)
class DemoVendor:
    key: str
    name: str
    email: str
    currency: str


@dataclass(frozen=True)
class DemoLine:
    sku: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_name: str | None
    tax_percent: Decimal

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.unit_price)

    @property
    def tax(self) -> Decimal:
        return money(self.amount * self.tax_percent / 100)


@dataclass(frozen=True)
class DemoInvoice:
    number: str
    customer_key: str
    issue_date: date
    due_date: date
    currency: str
    lines: tuple[DemoLine, ...]
    status: str  # sent | partial | paid
    stage: str = "invoiced"  # Infor: confirmed | delivered | invoiced

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


@dataclass(frozen=True)
class DemoPayment:
    key: str
    invoice_number: str
    amount: Decimal
    currency: str
    date: date
    method: str


@dataclass(frozen=True)
class DemoExpense:
    key: str
    category: str
    vendor_key: str
    amount: Decimal
    currency: str
    date: date
    notes: str


@dataclass(frozen=True)
class DemoBill:
    key: str
    vendor_key: str
    issue_date: date
    due_date: date
    currency: str
    amount: Decimal
    category: str


@dataclass(frozen=True)
class DemoSide:
    customers: list[DemoCustomer]
    invoices: list[DemoInvoice]
    payments: list[DemoPayment]
    expenses: list[DemoExpense]
    bills: list[DemoBill]

    def customer(self, key: str) -> DemoCustomer:
        return next(c for c in self.customers if c.key == key)

    def invoice(self, number: str) -> DemoInvoice:
        return next(i for i in self.invoices if i.number == number)


@dataclass(frozen=True)
class PlantedDiscrepancy:
    id: str
    kind: str
    entity: str  # customer | invoice | payment | expense
    freshbooks_ref: str | None  # customer key, invoice number, payment key or expense key
    infor_ref: str | None
    expected_status: str
    detail: str


@dataclass(frozen=True)
class DemoBusiness:
    customers: list[DemoCustomer]
    items: list[DemoItem]
    taxes: list[DemoTax]
    gl_accounts: list[DemoGLAccount]
    expense_categories: list[DemoExpenseCategory]
    vendors: list[DemoVendor]
    freshbooks: DemoSide
    infor: DemoSide
    planted: list[PlantedDiscrepancy] = field(default_factory=list)

    def truth(self) -> dict[str, Any]:
        """The planted discrepancies as JSON-ready data, for tests and the demo's self-check."""
        return {
            "anchor_date": ANCHOR.isoformat(),
            "counts": {
                "freshbooks": {
                    "customers": len(self.freshbooks.customers),
                    "invoices": len(self.freshbooks.invoices),
                    "payments": len(self.freshbooks.payments),
                    "expenses": len(self.freshbooks.expenses),
                },
                "infor": {
                    "customers": len(self.infor.customers),
                    "invoices": len(self.infor.invoices),
                    "payments": len(self.infor.payments),
                    "expenses": len(self.infor.expenses),
                },
            },
            "planted": [
                {
                    "id": p.id,
                    "kind": p.kind,
                    "entity": p.entity,
                    "freshbooks_ref": p.freshbooks_ref,
                    "infor_ref": p.infor_ref,
                    "expected_status": p.expected_status,
                    "detail": p.detail,
                }
                for p in self.planted
            ],
        }


_COMPANIES = [
    ("Acme Widgets", "US"),
    ("Blue Harbor Foods", "US"),
    ("Cedar & Pine Design", "CA"),
    ("Delta Marine Supply", "US"),
    ("Evergreen Dental", "CA"),
    ("Fjord Analytics", "GB"),
    ("Nordwind Logistics", "DE"),
    ("Granite Peak Outfitters", "US"),
    ("Helios Solar", "US"),
    ("Iris Florals", "CA"),
    ("Juniper Legal", "US"),
    ("Kestrel Aviation", "GB"),
    ("Lumen Optics", "DE"),
    ("Maple Leaf Bakery", "CA"),
    ("Northstar Consulting", "US"),
    ("Orchard Health", "US"),
    ("Pioneer Freight", "US"),
    ("Quartz Labs", "GB"),
    ("Riverbend Vineyards", "US"),
    ("Summit Dental Group", "CA"),
    ("Tidewater Realty", "US"),
    ("Umbra Studios", "DE"),
    ("Vantage Engineering", "US"),
    ("Willow Pediatrics", "CA"),
    ("Xenon Robotics", "US"),
    ("Yellowtail Seafood", "US"),
    ("Zephyr Bikes", "GB"),
    ("Atlas Architects", "US"),
    ("Beacon Schools", "CA"),
    ("Copperline Brewing", "US"),
]
_PEOPLE = [
    ("Ava", "Martin"),
    ("Liam", "Chen"),
    ("Noah", "Dubois"),
    ("Emma", "Okafor"),
    ("Mia", "Kowalski"),
    ("Lucas", "Schmidt"),
    ("Olivia", "Rossi"),
    ("Ethan", "Nakamura"),
    ("Sofia", "García"),
    ("Leo", "Anders"),
    ("Chloe", "Tremblay"),
    ("Jack", "Walsh"),
    ("Hannah", "Becker"),
    ("Owen", "Patel"),
    ("Grace", "Lindqvist"),
]
_PLACES = {
    "US": [
        ("Springfield", "IL", "62701"),
        ("Portland", "OR", "97205"),
        ("Austin", "TX", "78701"),
        ("Boston", "MA", "02108"),
        ("Denver", "CO", "80202"),
    ],
    "CA": [("Toronto", "ON", "M5V 2T6"), ("Vancouver", "BC", "V6B 1A1"), ("Montréal", "QC", "H2Y 1C6")],
    "GB": [("London", "", "EC1A 1BB"), ("Manchester", "", "M1 1AE")],
    "DE": [("Hamburg", "", "20095"), ("München", "", "80331")],
}
_CURRENCY = {"US": "USD", "CA": "CAD", "GB": "GBP", "DE": "EUR"}
_TAX_BY_COUNTRY = {"US": "Sales Tax", "CA": "GST", "GB": "VAT", "DE": "MwSt"}
_STREETS = ["Main St", "Harbour Rd", "King St W", "Market Ave", "Station Rd", "Elm St", "Mill Lane"]


def _customers(rng: random.Random) -> list[DemoCustomer]:
    customers = []
    for index, (organization, country) in enumerate(_COMPANIES, start=1):
        first, last = _PEOPLE[(index * 7) % len(_PEOPLE)]
        city, province, postcode = rng.choice(_PLACES[country])
        domain = "".join(ch for ch in organization.lower() if ch.isalnum())[:16]
        vat = None if country in ("US", "CA") else f"{country}{rng.randrange(10**8, 10**9)}"
        customers.append(
            DemoCustomer(
                key=f"C{index:03d}",
                organization=organization
                + (" GmbH" if country == "DE" else " Ltd" if country == "GB" else ""),
                first_name=first,
                last_name=last,
                email=f"{first.lower()}@{domain}.example",
                phone=f"+1-555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
                street=f"{rng.randrange(1, 999)} {rng.choice(_STREETS)}",
                street2=rng.choice(["", "", "Suite 200", "Floor 3"]),
                city=city,
                province=province,
                postcode=postcode,
                country=country,
                currency=_CURRENCY[country],
                vat_number=vat,
                customer_type="ENT" if index % 5 == 0 else "SMB",
            )
        )
    return customers


_ITEMS = [
    ("CONSULT-HR", "Consulting hour", "150.00", "0"),
    ("SUPPORT-MO", "Monthly support plan", "499.00", "0"),
    ("WIDGET-A", "Widget, model A", "24.95", "1200"),
    ("WIDGET-B", "Widget, model B", "39.50", "800"),
    ("SENSOR-K1", "Sensor kit K1", "129.00", "300"),
    ("CABLE-5M", "Cable, 5 m", "8.75", "5000"),
    ("INSTALL", "On-site installation", "350.00", "0"),
    ("TRAINING", "Training day", "1200.00", "0"),
]
_TAXES = [("Sales Tax", "8.25"), ("GST", "5"), ("VAT", "20"), ("MwSt", "19")]
_GL = [
    ("1100", "Cash at bank", "asset"),
    ("1200", "Accounts receivable", "asset"),
    ("2100", "Sales tax payable", "liability"),
    ("2200", "Accounts payable", "liability"),
    ("4000", "Product revenue", "revenue"),
    ("4100", "Service revenue", "revenue"),
    ("6100", "Travel", "expense"),
    ("6200", "Office supplies", "expense"),
    ("6300", "Software", "expense"),
    ("6400", "Meals and entertainment", "expense"),
    ("6500", "Advertising", "expense"),
    ("6600", "Rent", "expense"),
    ("6700", "Utilities", "expense"),
    ("6800", "Professional fees", "expense"),
]
_CATEGORIES = [
    ("Travel", "6100"),
    ("Office Supplies", "6200"),
    ("Software", "6300"),
    ("Meals and Entertainment", "6400"),
    ("Advertising", "6500"),
    ("Rent", "6600"),
    ("Utilities", "6700"),
    ("Professional Fees", "6800"),
]
_VENDORS = [
    ("V01", "Staples", "billing@staples.example"),
    ("V02", "Delta Air Lines", "receipts@delta.example"),
    ("V03", "Adobe", "invoices@adobe.example"),
    ("V04", "City Power & Light", "accounts@cpl.example"),
    ("V05", "Landmark Properties", "rent@landmark.example"),
    ("V06", "Google Ads", "ads@google.example"),
    ("V07", "Baker & Co CPAs", "office@bakercpa.example"),
    ("V08", "Bistro 21", "hello@bistro21.example"),
]
_CATEGORY_VENDOR = {
    "Travel": "V02",
    "Office Supplies": "V01",
    "Software": "V03",
    "Meals and Entertainment": "V08",
    "Advertising": "V06",
    "Rent": "V05",
    "Utilities": "V04",
    "Professional Fees": "V07",
}
_METHODS = ["Credit Card", "Bank Transfer", "Check", "Cash", "ACH"]


def _invoices(
    rng: random.Random, customers: list[DemoCustomer], items: list[DemoItem], taxes: dict[str, Decimal]
) -> list[DemoInvoice]:
    invoices = []
    start = ANCHOR - timedelta(days=240)
    for index in range(1, 181):
        customer = customers[rng.randrange(len(customers) - 1)]  # the last customer never buys
        issue = start + timedelta(days=rng.randrange(0, 230))
        tax_name = _TAX_BY_COUNTRY[customer.country]
        lines = []
        for _ in range(rng.randint(1, 4)):
            item = rng.choice(items)
            hours = item.sku in ("CONSULT-HR",)
            quantity = (
                Decimal(rng.choice(["1", "2", "3", "5", "10"]))
                if not hours
                else Decimal(rng.choice(["1.5", "2", "4", "7.5", "12"]))
            )
            lines.append(
                DemoLine(
                    sku=item.sku,
                    description=item.name,
                    quantity=quantity,
                    unit_price=item.unit_price,
                    tax_name=tax_name,
                    tax_percent=taxes[tax_name],
                )
            )
        age = (ANCHOR - issue).days
        status = "paid" if age > 60 else rng.choice(["paid", "partial", "sent", "sent"])
        invoices.append(
            DemoInvoice(
                number=f"FS-{index:04d}",
                customer_key=customer.key,
                issue_date=issue,
                due_date=issue + timedelta(days=30),
                currency=customer.currency,
                lines=tuple(lines),
                status=status,
                stage=_stage(status, age, rng.choice(["confirmed", "delivered", "invoiced"])),
            )
        )
    return sorted(invoices, key=lambda inv: inv.number)


def _stage(status: str, age: int, drawn: str) -> str:
    """M3 applies cash only to invoiced orders, so anything paid has been invoiced there."""
    return "invoiced" if age > 20 or status != "sent" else drawn


def _payments(rng: random.Random, invoices: list[DemoInvoice]) -> list[DemoPayment]:
    payments: list[DemoPayment] = []
    for invoice in invoices:
        if invoice.status == "sent":
            continue
        paid_on = invoice.issue_date + timedelta(days=rng.randrange(5, 40))
        paid_on = min(paid_on, ANCHOR)
        method = rng.choice(_METHODS)
        if invoice.status == "partial":
            amounts = [money(invoice.total * Decimal("0.5"))]
        elif invoice.total > 2000 and rng.random() < 0.3:
            first = money(invoice.total * Decimal("0.4"))
            amounts = [first, invoice.total - first]  # paid in two instalments
        else:
            amounts = [invoice.total]
        for offset, amount in enumerate(amounts):
            payments.append(
                DemoPayment(
                    key=f"P{len(payments) + 1:04d}",
                    invoice_number=invoice.number,
                    amount=amount,
                    currency=invoice.currency,
                    date=min(paid_on + timedelta(days=14 * offset), ANCHOR),
                    method=method,
                )
            )
    return payments


def _expenses(rng: random.Random) -> list[DemoExpense]:
    expenses = []
    for index in range(1, 61):
        category, _ = rng.choice(_CATEGORIES)
        low, high = (800, 2500) if category == "Rent" else (12, 900)
        expenses.append(
            DemoExpense(
                key=f"E{index:04d}",
                category=category,
                vendor_key=_CATEGORY_VENDOR[category],
                amount=money(Decimal(rng.randrange(low * 100, high * 100)) / 100),
                currency="USD",
                date=ANCHOR - timedelta(days=rng.randrange(1, 220)),
                notes=f"{category} expense",
            )
        )
    return expenses


def _bills(rng: random.Random) -> list[DemoBill]:
    bills = []
    for index in range(1, 11):
        vendor_key, _, _ = rng.choice(_VENDORS)
        category = next(c for c, v in _CATEGORY_VENDOR.items() if v == vendor_key)
        issue = ANCHOR - timedelta(days=rng.randrange(5, 120))
        bills.append(
            DemoBill(
                key=f"B{index:03d}",
                vendor_key=vendor_key,
                issue_date=issue,
                due_date=issue + timedelta(days=30),
                currency="USD",
                amount=money(Decimal(rng.randrange(5000, 300000)) / 100),
                category=category,
            )
        )
    return bills


def _pick(invoices: list[DemoInvoice], status: str, skip: set[str], nth: int) -> DemoInvoice:
    candidates = [inv for inv in invoices if inv.status == status and inv.number not in skip]
    return candidates[nth % len(candidates)]


def _plant(freshbooks: DemoSide, rng: random.Random) -> tuple[DemoSide, list[PlantedDiscrepancy]]:
    """Derive the Infor side from the FreshBooks side, then apply one of each discrepancy kind."""
    planted: list[PlantedDiscrepancy] = []
    used: set[str] = set()
    customers = list(freshbooks.customers)
    invoices = list(freshbooks.invoices)
    payments = list(freshbooks.payments)
    expenses = list(freshbooks.expenses)

    def note(kind: str, entity: str, fb: str | None, infor: str | None, status: str, detail: str) -> None:
        planted.append(
            PlantedDiscrepancy(f"D{len(planted) + 1:02d}", kind, entity, fb, infor, status, detail)
        )

    # A customer whose name Infor spells differently (the email still ties them together).
    target = customers[6]
    respelled = target.organization.replace("Logistics", "Logistik")
    customers[6] = replace(target, organization=respelled)
    note(
        "customer_name_differs",
        "customer",
        target.key,
        target.key,
        "matched_with_differences",
        f"organization: FreshBooks {target.organization!r}, Infor {respelled!r}",
    )

    # The customer who never bought anything exists only in FreshBooks.
    lonely = customers.pop()
    note(
        "customer_missing_in_infor",
        "customer",
        lonely.key,
        None,
        "missing_in_infor",
        f"{lonely.organization} was never created in Infor",
    )

    # A sent, unpaid invoice that never reached Infor.
    missing = _pick(invoices, "sent", used, 3)
    used.add(missing.number)
    invoices.remove(missing)
    note(
        "invoice_missing_in_infor",
        "invoice",
        missing.number,
        None,
        "missing_in_infor",
        f"{missing.number} ({missing.currency} {missing.total}) has no Infor order",
    )

    # An unpaid invoice whose Infor order has a line priced three cents higher.
    off = next(
        inv
        for inv in invoices
        if inv.status == "sent" and inv.number not in used and inv.lines[0].quantity == 1
    )
    used.add(off.number)
    first, *rest = off.lines
    bumped = replace(first, unit_price=first.unit_price + Decimal("0.03"))
    changed = replace(off, lines=(bumped, *rest))
    invoices[invoices.index(off)] = changed
    note(
        "invoice_amount_differs",
        "invoice",
        off.number,
        off.number,
        "matched_with_differences",
        f"total: FreshBooks {off.total}, Infor {changed.total} (difference {changed.total - off.total})",
    )

    # An unpaid invoice that Infor holds in another currency.
    other = _pick(invoices, "sent", used, 11)
    used.add(other.number)
    swapped = "USD" if other.currency != "USD" else "CAD"
    invoices[invoices.index(other)] = replace(other, currency=swapped)
    note(
        "invoice_currency_differs",
        "invoice",
        other.number,
        other.number,
        "matched_with_differences",
        f"currency: FreshBooks {other.currency}, Infor {swapped}",
    )

    # A shop order that exists only in Infor.
    shop_customer = customers[2]
    shop = DemoInvoice(
        number="WEB-1001",
        customer_key=shop_customer.key,
        issue_date=ANCHOR - timedelta(days=9),
        due_date=ANCHOR + timedelta(days=21),
        currency=shop_customer.currency,
        lines=(
            DemoLine(
                "WIDGET-A",
                "Widget, model A",
                Decimal("4"),
                Decimal("24.95"),
                _TAX_BY_COUNTRY[shop_customer.country],
                Decimal("5"),
            ),
        ),
        status="sent",
        stage="invoiced",
    )
    invoices.append(shop)
    note(
        "invoice_missing_in_freshbooks",
        "invoice",
        None,
        shop.number,
        "missing_in_freshbooks",
        f"shop order {shop.number} was never invoiced in FreshBooks",
    )

    # A payment posted twice in Infor, and another never posted. Both on fully paid, single-payment
    # invoices that carry no other planted difference.
    single = [
        p
        for p in payments
        if p.invoice_number not in used
        and sum(1 for q in payments if q.invoice_number == p.invoice_number) == 1
        and freshbooks.invoice(p.invoice_number).status == "paid"
    ]
    doubled, dropped = single[5], single[17]
    payments.insert(payments.index(doubled) + 1, replace(doubled, key=doubled.key + "-DUP"))
    note(
        "payment_duplicated_in_infor",
        "payment",
        doubled.key,
        doubled.key + "-DUP",
        "duplicate_suspected",
        f"{doubled.key} ({doubled.currency} {doubled.amount} on {doubled.invoice_number}) posted twice in Infor",
    )
    payments.remove(dropped)
    note(
        "payment_missing_in_infor",
        "payment",
        dropped.key,
        None,
        "missing_in_infor",
        f"{dropped.key} ({dropped.currency} {dropped.amount} on {dropped.invoice_number}) never posted in Infor",
    )

    # An expense never posted to the GL.
    skipped = expenses[rng.randrange(len(expenses))]
    expenses.remove(skipped)
    note(
        "expense_missing_in_infor",
        "expense",
        skipped.key,
        None,
        "missing_in_infor",
        f"{skipped.key} ({skipped.category}, {skipped.currency} {skipped.amount}) has no GL entry",
    )

    infor = DemoSide(
        customers=customers,
        invoices=invoices,
        payments=payments,
        expenses=expenses,
        bills=list(freshbooks.bills),
    )
    return infor, planted


@cache
def demo_business(seed: int = 20261031) -> DemoBusiness:
    """The demo business for ``seed``; the same seed always gives the same business."""
    rng = random.Random(seed)
    customers = _customers(rng)
    items = [DemoItem(sku, name, money(price), "USD", Decimal(qty)) for sku, name, price, qty in _ITEMS]
    taxes = {name: Decimal(percent) for name, percent in _TAXES}
    invoices = _invoices(rng, customers, items, taxes)
    freshbooks = DemoSide(
        customers=customers,
        invoices=invoices,
        payments=_payments(rng, invoices),
        expenses=_expenses(rng),
        bills=_bills(rng),
    )
    infor, planted = _plant(freshbooks, rng)
    return DemoBusiness(
        customers=customers,
        items=items,
        taxes=[DemoTax(name, percent) for name, percent in taxes.items()],
        gl_accounts=[DemoGLAccount(*row) for row in _GL],
        expense_categories=[DemoExpenseCategory(*row) for row in _CATEGORIES],
        vendors=[DemoVendor(key, name, email, "USD") for key, name, email in _VENDORS],
        freshbooks=freshbooks,
        infor=infor,
        planted=planted,
    )
