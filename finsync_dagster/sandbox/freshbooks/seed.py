"""Seeds: ``demo`` (the shared demo business), ``empty``, and ``--scale N`` generated invoices.

Every seed is deterministic: the same seed gives the same ids, numbers, amounts and timestamps. Even the
empty account has FreshBooks' built-in expense categories (they are system records, read-only through
the API, and an expense cannot be created without one).

``--scale N`` replaces the seed's records with N generated invoices (1 to 4 lines each, drawn from a
small catalogue of precomputed line tuples, so generation is a tight loop), clients at one per 100
invoices (at least 20), and a payment on every third invoice. 200,000 invoices take a few seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from finsync_dagster.sandbox import SEEDS
from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.demo_business import ANCHOR, DemoBusiness, demo_business
from finsync_dagster.sandbox.freshbooks.models import Account, Business, EmitEvent
from finsync_dagster.sandbox.freshbooks.values import (
    EASTERN,
    BillLine,
    Line,
    Record,
    decimal_text,
    invoice_totals,
    make_line,
    parse_cents,
)

ACCOUNT_ID = "6BqZk2"
BUSINESS_ID = 3918273
BUSINESS_UUID = "4a1f6d0e-8b4c-4e0a-9d4b-6c2f1e7a9b31"
BUSINESS_NAME = "Finsync Demo Trading Co."

# FreshBooks' built-in expense categories (a subset; the demo business's own categories come first).
SYSTEM_CATEGORIES = (
    "Advertising",
    "Car & Truck Expenses",
    "Contractors",
    "Education and Training",
    "Employee Benefits",
    "Meals and Entertainment",
    "Office Expenses & Postage",
    "Office Supplies",
    "Other Expenses",
    "Personal",
    "Professional Fees",
    "Rent",
    "Software",
    "Travel",
    "Utilities",
)


@dataclass
class Seeded:
    accounts: list[Account]
    truth: dict[str, Any] | None = None


def build(seed: str, scale: int | None, clock: SandboxClock, emit: EmitEvent) -> Seeded:
    if seed not in SEEDS:
        raise ValueError(f"unknown FreshBooks seed {seed!r}: use 'demo' or 'empty'")
    account = Account(_business(), clock, emit)
    _seed_categories(account)
    if scale:
        _seed_scale(account, scale)
        return Seeded([account])
    if seed == "empty":
        return Seeded([account])
    business = demo_business()
    refs = _seed_demo(account, business)
    return Seeded([account], {**business.truth(), "freshbooks_ids": refs})


def _business() -> Business:
    return Business(
        account_id=ACCOUNT_ID,
        business_id=BUSINESS_ID,
        business_uuid=BUSINESS_UUID,
        name=BUSINESS_NAME,
        currency_code="USD",
        address={
            "street": "100 Harbour Rd",
            "city": "Boston",
            "province": "MA",
            "code": "02108",
            "country": "United States",
        },
    )


def _at(day: date, hour: int, minute: int = 0) -> float:
    """Epoch seconds of a wall-clock time in US/Eastern on ``day``."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=EASTERN).timestamp()


_SEED_EPOCH = _at(ANCHOR - timedelta(days=400), 9)


def _seed_categories(account: Account) -> None:
    table = account.tables["categories"]
    table.load(
        {
            "id": table.spec.id_start + n,
            "category": name,
            "parentid": None,
            "is_cogs": False,
            "is_editable": False,
            "created": _SEED_EPOCH,
            "updated": _SEED_EPOCH,
            "vis_state": 0,
        }
        for n, name in enumerate(SYSTEM_CATEGORIES)
    )


# -- demo -------------------------------------------------------------------------------------------


def _seed_demo(account: Account, business: DemoBusiness) -> dict[str, dict[str, int]]:
    """Load the FreshBooks side of the demo business; return demo key -> FreshBooks id per entity."""
    fb = business.freshbooks
    tables = account.tables
    refs: dict[str, dict[str, int]] = {
        "customers": {},
        "invoices": {},
        "payments": {},
        "expenses": {},
        "bills": {},
        "vendors": {},
        "items": {},
        "taxes": {},
    }
    start = ANCHOR - timedelta(days=300)
    tax_ids: dict[str, int] = {}
    for n, tax in enumerate(business.taxes):
        rec = _stamped(tables["taxes"].spec.id_start + n, _at(start, 9, n))
        rec.update(
            name=tax.name,
            number=None,
            amount=decimal_text(tax.percent, object="tax", field="amount"),
            compound=False,
        )
        tables["taxes"].load([rec])
        tax_ids[tax.name] = rec["id"]
    refs["taxes"] = dict(tax_ids)
    for n, demo_item in enumerate(business.items):
        rec = _stamped(tables["items"].spec.id_start + n, _at(start, 10, n))
        rec.update(
            name=demo_item.name,
            description=demo_item.name,
            sku=demo_item.sku,
            unit_cost=parse_cents(demo_item.unit_price, object="item", field="unit_cost"),
            code=demo_item.currency,
            qty=decimal_text(demo_item.qty_on_hand, object="item", field="qty"),
            inventory=decimal_text(demo_item.qty_on_hand, object="item", field="inventory"),
            tax1=0,
            tax2=0,
        )
        tables["items"].load([rec])
        refs["items"][demo_item.sku] = rec["id"]
    for n, customer in enumerate(fb.customers):
        rec = _stamped(tables["clients"].spec.id_start + n, _at(start + timedelta(days=n), 11))
        rec.update(
            fname=customer.first_name,
            lname=customer.last_name,
            organization=customer.organization,
            email=customer.email,
            username=customer.email,
            currency_code=customer.currency,
            language="en",
            p_street=customer.street,
            p_street2=customer.street2,
            p_city=customer.city,
            p_province=customer.province,
            p_code=customer.postcode,
            p_country=customer.country,
            bus_phone=customer.phone,
            vat_name="VAT" if customer.vat_number else None,
            vat_number=customer.vat_number,
            signup=rec["created"],
            note=f"{customer.customer_type} customer",
        )
        tables["clients"].load([rec])
        refs["customers"][customer.key] = rec["id"]
    invoices = _demo_invoices(account, business, refs)
    account.tables["payments"].load(_demo_payments(account, business, invoices, refs))
    account.tables["invoices"].load(invoices.values())
    account.last_invoice_number = max(invoices[i]["invoice_number"] for i in invoices)
    _seed_demo_expenses_and_bills(account, business, refs)
    return refs


def _stamped(record_id: int, epoch: float) -> Record:
    return {"id": record_id, "created": epoch, "updated": epoch, "vis_state": 0}


def _demo_invoices(
    account: Account, business: DemoBusiness, refs: dict[str, dict[str, int]]
) -> dict[int, Record]:
    """The demo invoices, unpaid, by id (the payments then add what was paid)."""
    clients, invoices = account.tables["clients"], account.tables["invoices"]
    recs: dict[int, Record] = {}
    for n, demo in enumerate(business.freshbooks.invoices):
        client = clients.rows[refs["customers"][demo.customer_key]]
        lines = tuple(
            make_line(
                line.sku,
                line.description,
                decimal_text(line.quantity, object="line", field="qty"),
                parse_cents(line.unit_price, object="line", field="unit_cost"),
                line.tax_name,
                decimal_text(line.tax_percent, object="line", field="taxAmount1"),
            )
            for line in demo.lines
        )
        discount, tax, amount = invoice_totals(lines, "0")
        rec = _stamped(invoices.spec.id_start + n, _at(demo.issue_date, 9, n % 60))
        rec.update(
            customerid=client["id"],
            invoice_number=demo.number,
            create_date=demo.issue_date.isoformat(),
            due_offset_days=(demo.due_date - demo.issue_date).days,
            currency_code=demo.currency,
            language="en",
            discount_value="0",
            discount=discount,
            tax=tax,
            amount=amount,
            lines=lines,
            paid=0,
            date_paid=None,
            sent="sent",
            notes=None,
            terms="Net 30",
            po_number=None,
            **_invoice_address(client),
        )
        recs[rec["id"]] = rec
        refs["invoices"][demo.number] = rec["id"]
    return recs


def _invoice_address(client: Record) -> dict[str, Any]:
    return {
        "fname": client.get("fname"),
        "lname": client.get("lname"),
        "organization": client.get("organization"),
        "email": client.get("email"),
        "street": client.get("p_street"),
        "street2": client.get("p_street2"),
        "city": client.get("p_city"),
        "province": client.get("p_province"),
        "code": client.get("p_code"),
        "country": client.get("p_country"),
        "vat_name": client.get("vat_name"),
        "vat_number": client.get("vat_number"),
    }


def _demo_payments(
    account: Account, business: DemoBusiness, invoices: dict[int, Record], refs: dict[str, dict[str, int]]
) -> list[Record]:
    """The demo payments; each is applied to its invoice (paid, date_paid, updated) as FreshBooks would."""
    payments = account.tables["payments"]
    recs = []
    for n, demo in enumerate(business.freshbooks.payments):
        invoice = invoices[refs["invoices"][demo.invoice_number]]
        amount = parse_cents(demo.amount, object="payment", field="amount")
        epoch = _at(demo.date, 12, n % 60)
        rec = _stamped(payments.spec.id_start + n, epoch)
        rec.update(
            invoiceid=invoice["id"],
            clientid=invoice["customerid"],
            amount=amount,
            code=demo.currency,
            date=demo.date.isoformat(),
            type=demo.method,
            note=f"Demo payment {demo.key}",
            overpaymentid=None,
            from_credit=False,
        )
        recs.append(rec)
        refs["payments"][demo.key] = rec["id"]
        paid = invoice["paid"] + amount
        fully = paid >= invoice["amount"]
        invoice.update(
            paid=paid,
            updated=max(invoice["updated"], epoch),
            date_paid=demo.date.isoformat() if fully else None,
        )
    return recs


def _seed_demo_expenses_and_bills(
    account: Account, business: DemoBusiness, refs: dict[str, dict[str, int]]
) -> None:
    categories = {rec["category"]: rec["id"] for rec in account.tables["categories"].rows.values()}
    vendors = {v.key: v for v in business.vendors}
    expenses = account.tables["expenses"]
    recs = []
    for n, demo in enumerate(business.freshbooks.expenses):
        rec = _stamped(expenses.spec.id_start + n, _at(demo.date, 15, n % 60))
        rec.update(
            categoryid=categories[demo.category],
            amount=parse_cents(demo.amount, object="expense", field="amount"),
            code=demo.currency,
            vendor=vendors[demo.vendor_key].name,
            date=demo.date.isoformat(),
            notes=f"{demo.notes} ({demo.key})",
            staffid=1,
            clientid=0,
            projectid=0,
            invoiceid=None,
            markup_percent="0",
            tax_name1=None,
            tax_amount1=None,
            tax_name2=None,
            tax_amount2=None,
        )
        recs.append(rec)
        refs["expenses"][demo.key] = rec["id"]
    expenses.load(recs)
    bill_vendors, bills = account.tables["bill_vendors"], account.tables["bills"]
    start = ANCHOR - timedelta(days=300)
    for n, vendor in enumerate(business.vendors):
        rec = _stamped(bill_vendors.spec.id_start + n, _at(start, 14, n))
        rec.update(
            vendor_name=vendor.name,
            currency_code=vendor.currency,
            language="en",
            is_1099=False,
            primary_contact_email=vendor.email,
        )
        bill_vendors.load([rec])
        refs["vendors"][vendor.key] = rec["id"]
    bill_recs = []
    for n, bill in enumerate(business.freshbooks.bills):
        amount = parse_cents(bill.amount, object="bill", field="amount")
        line = BillLine(
            categories[bill.category],
            f"{bill.category} ({bill.key})",
            "1",
            amount,
            None,
            "0",
            None,
            "0",
            amount,
            0,
        )
        rec = _stamped(bills.spec.id_start + n, _at(bill.issue_date, 16, n))
        rec.update(
            vendorid=refs["vendors"][bill.vendor_key],
            bill_number=bill.key,
            issue_date=bill.issue_date.isoformat(),
            due_offset_days=(bill.due_date - bill.issue_date).days,
            currency_code=bill.currency,
            language="en",
            lines=(line,),
            tax=0,
            amount=amount,
            paid=0,
            overall_category=bill.category,
            overall_description=None,
        )
        bill_recs.append(rec)
        refs["bills"][bill.key] = rec["id"]
    bills.load(bill_recs)


# -- scale ------------------------------------------------------------------------------------------

_SCALE_ITEMS = (
    ("Consulting hour", 15000),
    ("Monthly support plan", 49900),
    ("Widget, model A", 2495),
    ("Widget, model B", 3950),
    ("Sensor kit K1", 12900),
    ("Cable, 5 m", 875),
    ("On-site installation", 35000),
    ("Training day", 120000),
)
_SCALE_TAXES = ((None, "0"), ("Sales Tax", "8.25"), ("GST", "5"), ("VAT", "20"))
_SCALE_CURRENCIES = ("USD", "USD", "USD", "CAD", "GBP", "EUR")


def _line_catalogue() -> list[Line]:
    return [
        make_line(name, name, str(qty), unit, tax_name, percent if tax_name else "0")
        for name, unit in _SCALE_ITEMS
        for qty in (1, 2, 3, 5, 10)
        for tax_name, percent in _SCALE_TAXES
    ]


def _seed_scale(account: Account, n_invoices: int) -> None:
    rng = random.Random(n_invoices)
    tables = account.tables
    n_clients = max(20, n_invoices // 100)
    base = ANCHOR - timedelta(days=730)
    base_epoch = _at(base, 8)
    client_recs = []
    for i in range(n_clients):
        rec = _stamped(tables["clients"].spec.id_start + i, base_epoch + i * 60)
        rec.update(
            fname=f"First{i}",
            lname=f"Last{i}",
            organization=f"Scale Client {i:05d}",
            email=f"billing{i}@scale-client.example",
            currency_code=_SCALE_CURRENCIES[i % 6],
            language="en",
            signup=rec["created"],
        )
        client_recs.append(rec)
    tables["clients"].load(client_recs)
    catalogue = _line_catalogue()
    span = 730 * 86400
    invoice_start, payment_start = tables["invoices"].spec.id_start, tables["payments"].spec.id_start
    invoices: list[Record] = []
    payments: list[Record] = []
    for i in range(n_invoices):
        client = client_recs[rng.randrange(n_clients)]
        created = base_epoch + span * i // n_invoices
        create_date = datetime.fromtimestamp(created, EASTERN).date().isoformat()
        lines = tuple(catalogue[rng.randrange(len(catalogue))] for _ in range(1 + rng.randrange(4)))
        subtotal = sum(line.amount for line in lines)
        tax = sum(line.tax for line in lines)
        invoice_id = invoice_start + i
        paid = subtotal + tax if i % 3 == 0 else 0
        invoices.append(
            {
                "id": invoice_id,
                "created": created,
                "updated": created + 3600 * (1 + i % 5),
                "vis_state": 0,
                "customerid": client["id"],
                "invoice_number": f"{i + 1:07d}",
                "create_date": create_date,
                "due_offset_days": 30,
                "currency_code": client["currency_code"],
                "language": "en",
                "discount_value": "0",
                "discount": 0,
                "tax": tax,
                "amount": subtotal + tax,
                "lines": lines,
                "paid": paid,
                "date_paid": create_date if paid else None,
                "sent": "sent",
                "fname": client["fname"],
                "lname": client["lname"],
                "organization": client["organization"],
                "email": client["email"],
            }
        )
        if paid:
            payments.append(
                {
                    "id": payment_start + len(payments),
                    "created": created + 7200,
                    "updated": created + 7200,
                    "vis_state": 0,
                    "invoiceid": invoice_id,
                    "clientid": client["id"],
                    "amount": paid,
                    "code": client["currency_code"],
                    "date": create_date,
                    "type": "Bank Transfer",
                    "note": "",
                    "overpaymentid": None,
                    "from_credit": False,
                }
            )
    tables["invoices"].load(invoices)
    tables["payments"].load(payments)
    account.last_invoice_number = f"{n_invoices:07d}"
