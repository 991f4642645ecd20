"""The demo seed: the shared demo business (``demo_business``) as Infor M3 holds it.

Mapping: customer ``C007`` is ``CUNO`` ``10007``; each Infor-side invoice is a customer order whose
``CUOR`` is the FreshBooks invoice number, taken to its ``stage`` (confirmed, delivered, or invoiced into
the AR ledger on its issue date); payments are cash applied to the AR invoice on their date with ``CKNO``
= the payment key; expenses are balanced GL vouchers (category account against the bank account) whose
``VDSC`` starts with the expense key. The first two bill vendors are suppliers (vendor ``V01`` is ``SUNO``
``50001``), so procure-to-pay finds some vendors and creates the others; no supplier invoice is seeded.

An order that Infor holds only as confirmed or delivered but that has a payment is invoiced anyway, since
M3 applies cash only to AR invoices; such orders are listed in the truth under ``infor_notes``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from finsync_dagster.sandbox.demo_business import (
    DemoBusiness,
    DemoCustomer,
    DemoInvoice,
    DemoVendor,
    demo_business,
)
from finsync_dagster.sandbox.infor.configuration import DEFAULTS, add_account, add_item
from finsync_dagster.sandbox.infor.lifecycle import SeedLine, deliver, invoice, seed_order
from finsync_dagster.sandbox.infor.models import Company, Row
from finsync_dagster.sandbox.infor.postings import GLLine, apply_payment, post_voucher

SEEDED_SUPPLIERS = 2


def cuno_of(key: str) -> str:
    return str(10000 + int(key[1:]))


def suno_of(key: str) -> str:
    return str(50000 + int(key[1:]))


def _stamp(day: date, sequence: int) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC) + timedelta(milliseconds=sequence)


def seed_demo(company: Company) -> dict[str, Any]:
    biz = demo_business()
    settings = company.settings
    vat_codes = {tax.name: f"{n:02d}" for n, tax in enumerate(biz.taxes, start=1)}
    settings.vat_codes.update({vat_codes[tax.name]: tax.percent for tax in biz.taxes})
    existing = {row["AITM"] for row in company.table("FCHACC").scan()}
    for account in biz.gl_accounts:
        if account.code not in existing:
            add_account(company, account.code, account.name)
    paid = {p.invoice_number for p in biz.infor.payments}
    stages = {i.number: "invoiced" if i.number in paid else i.stage for i in biz.infor.invoices}
    notes = [
        f"{i.number}: {i.stage} in the demo business but paid, so invoiced in Infor"
        for i in biz.infor.invoices
        if stages[i.number] != i.stage
    ]
    _items(company, biz, stages)
    for customer in biz.infor.customers:
        _customer(company, customer, biz, vat_codes)
    for vendor in biz.vendors[:SEEDED_SUPPLIERS]:
        _supplier(company, vendor)
    refs: dict[str, Any] = {
        "customers": {c.key: cuno_of(c.key) for c in biz.infor.customers},
        "suppliers": {v.key: suno_of(v.key) for v in biz.vendors[:SEEDED_SUPPLIERS]},
        "orders": {},
    }
    for sequence, demo_invoice in enumerate(
        sorted(biz.infor.invoices, key=lambda i: (i.issue_date, i.number))
    ):
        refs["orders"][demo_invoice.number] = _order(
            company, demo_invoice, stages[demo_invoice.number], vat_codes, sequence
        )
    for sequence, payment in enumerate(biz.infor.payments):
        order = refs["orders"][payment.invoice_number]
        apply_payment(
            company,
            cuno=order["CUNO"],
            cino=order["CINO"],
            inyr=order["YEA4"],
            amount=payment.amount,
            currency=payment.currency,
            on=payment.date,
            ckno=payment.key,
            stamp=_stamp(payment.date, 500 + sequence),
        )
    accounts = {c.name: c.gl_account for c in biz.expense_categories}
    vendors = {v.key: v.name for v in biz.vendors}
    for sequence, expense in enumerate(biz.infor.expenses):
        text = vendors.get(expense.vendor_key, expense.vendor_key)
        post_voucher(
            company,
            on=expense.date,
            description=f"{expense.key} {expense.category}",
            stamp=_stamp(expense.date, 800 + sequence),
            lines=[
                GLLine(accounts[expense.category], expense.amount, expense.currency, text),
                GLLine(settings.bank_account, -expense.amount, expense.currency, text),
            ],
        )
    settings.default_item = next(item.sku for item in biz.items if item.qty_on_hand > 0)
    return {**biz.truth(), "infor_refs": refs, "infor_notes": notes}


def _items(company: Company, biz: DemoBusiness, stages: dict[str, str]) -> None:
    delivered: dict[str, Decimal] = defaultdict(Decimal)
    for demo_invoice in biz.infor.invoices:
        if stages[demo_invoice.number] != "confirmed":
            for line in demo_invoice.lines:
                delivered[line.sku] += line.quantity
    for item in biz.items:
        # Deliveries seeded below draw the stock down to the business's qty_on_hand.
        add_item(company, item.sku, item.name, item.unit_price, item.qty_on_hand + delivered[item.sku])


def _customer(company: Company, customer: DemoCustomer, biz: DemoBusiness, vat_codes: dict[str, str]) -> None:
    template = company.settings.customer_templates[DEFAULTS["CUTM"]]
    country_tax = next(
        (
            inv.lines[0].tax_name
            for inv in biz.infor.invoices
            if inv.customer_key == customer.key and inv.lines[0].tax_name
        ),
        None,
    )
    row: Row = {
        **template,
        "CONO": company.cono,
        "DIVI": "",
        "CUNO": cuno_of(customer.key),
        "CUNM": customer.organization[:36],
        "CUA1": customer.street[:36],
        "CUA2": customer.street2[:36],
        "TOWN": customer.city[:20],
        "ECAR": customer.province[:2],
        "PONO": customer.postcode[:10],
        "CSCD": customer.country,
        "PHNO": customer.phone[:16],
        "MAIL": customer.email[:50],
        "CUCD": customer.currency,
        "VRNO": customer.vat_number or "",
        "CUCL": customer.customer_type,
        "YREF": f"{customer.first_name} {customer.last_name}"[:30],
        "PYNO": "",
        "VTCD": vat_codes.get(country_tax or "", "00"),
    }
    company.table("OCUSMA").insert(company.touch(row, new=True, when=datetime(2026, 1, 2, 8, tzinfo=UTC)))


def _supplier(company: Company, vendor: DemoVendor) -> None:
    row: Row = {
        "CONO": company.cono, "SUNO": suno_of(vendor.key), "SUNM": vendor.name[:36], "SUTY": "0",
        "ALSU": vendor.name[:10].upper(), "STAT": "20", "CSCD": "US", "ECAR": "", "LNCD": "GB",
        "DTFM": "YMD", "ORTY": "", "DT4T": "1", "DTCD": "0", "CUCD": vendor.currency, "CRTP": "1",
        "ATPR": "", "TEPY": "30", "PYME": "", "VTCD": "", "TXAP": "", "PHNO": "", "PHN2": "", "TFNO": "",
        "VRNO": "", "CORG": "", "COR2": "", "SUCL": "", "SUCO": "", "SUAL": "", "SUCM": vendor.email[:20],
        "TINO": "", "PRSU": "",
    }  # fmt: skip
    company.table("CIDMAS").insert(company.touch(row, new=True, when=datetime(2026, 1, 2, 8, tzinfo=UTC)))


def _order(
    company: Company, demo_invoice: DemoInvoice, stage: str, vat_codes: dict[str, str], sequence: int
) -> dict[str, Any]:
    day = demo_invoice.issue_date
    stamp = _stamp(day, sequence)
    cuno = cuno_of(demo_invoice.customer_key)
    lines = [
        SeedLine(
            line.sku, line.description, line.quantity, line.unit_price,
            vat_codes.get(line.tax_name or "", "00"), line.tax_percent,
        )
        for line in demo_invoice.lines
    ]  # fmt: skip
    orno = seed_order(
        company, cuno=cuno, cuor=demo_invoice.number, day=day, currency=demo_invoice.currency, lines=lines,
        stamp=stamp, ortp=DEFAULTS["ORTP"], whlo=DEFAULTS["WHLO"],
    )  # fmt: skip
    ref: dict[str, Any] = {"ORNO": orno, "CUNO": cuno, "stage": stage}
    if stage in ("delivered", "invoiced"):
        deliver(company, orno, day, stamp)
    if stage == "invoiced":
        billed = invoice(company, orno, day, stamp)
        ref.update(IVNO=billed["IVNO"], YEA4=billed["YEA4"], CINO=billed["CINO"], amount=billed["amount"])
    return ref
