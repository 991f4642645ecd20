"""Ledger postings shared by invoicing, cash application, supplier invoices, GL batches and the seeds.

An AR entry is a row in ``FSLEDG`` (transaction code 10 = invoice, 20 = payment; amounts signed, invoice
positive); an AP entry is a row in ``FPLEDG`` (40 = supplier invoice, signed like the GL: the invoice a
credit, negative; UNCONFIRMED); a GL voucher is a set of rows in ``FGLEDG`` that balance per currency.
Invoice and payment postings also write their GL voucher (receivable against revenue and VAT, bank
against receivable); a supplier invoice posts its cost lines and VAT against payables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from finsync_dagster.sandbox.infor.models import Company, Row, money

INVOICE = "10"
PAYMENT = "20"
SUPPLIER_INVOICE = "40"
PAID = "9"


@dataclass(frozen=True)
class GLLine:
    account: str
    amount: Decimal  # debit positive, credit negative
    currency: str
    text: str = ""


def post_voucher(
    company: Company, *, on: date, lines: Sequence[GLLine], description: str, stamp: datetime | None = None
) -> int:
    vono = company.next_number("VONO")
    jrno = company.next_number("JRNO")
    table = company.table("FGLEDG")
    for jsno, line in enumerate(lines, start=1):
        row: Row = {
            "CONO": company.cono,
            "DIVI": company.divi,
            "YEA4": on.year,
            "JRNO": jrno,
            "JSNO": jsno,
            "VSER": "",
            "VONO": vono,
            "ACDT": on,
            "AIT1": line.account,
            "AIT2": "",
            "AIT3": "",
            "CUCD": line.currency,
            "CUAM": money(line.amount),
            "ACAM": money(line.amount),
            "DBCR": "D" if line.amount >= 0 else "C",
            "TRCD": "",
            "VTXT": line.text[:40],
            "VDSC": description[:40],
        }
        table.insert(company.touch(row, new=True, when=stamp))
    return vono


def post_ar(
    company: Company,
    *,
    cuno: str,
    cino: str,
    inyr: int,
    trcd: str,
    amount: Decimal,
    vat: Decimal,
    currency: str,
    ivdt: date | None,
    dudt: date | None,
    acdt: date,
    vono: int,
    text: str = "",
    ckno: str = "",
    pbid: str = "",
    stamp: datetime | None = None,
) -> Row:
    row: Row = {
        "CONO": company.cono,
        "DIVI": company.divi,
        "YEA4": acdt.year,
        "JRNO": company.next_number("JRNO"),
        "JSNO": 1,
        "CUNO": cuno,
        "PYNO": cuno,
        "CINO": cino,
        "INYR": inyr,
        "TRCD": trcd,
        "CUCD": currency,
        "CUAM": money(amount),
        "VTAM": money(vat),
        "IVDT": ivdt,
        "DUDT": dudt,
        "ACDT": acdt,
        "RECO": "0",
        "REDE": None,
        "VSER": "",
        "VONO": vono,
        "TEPY": "",
        "TDSC": text[:40],
        "CKNO": ckno,
        "PBID": pbid,
    }
    return company.table("FSLEDG").insert(company.touch(row, new=True, when=stamp))


def ar_entries(company: Company, cuno: str, cino: str, inyr: int) -> list[Row]:
    return [r for r in company.table("FSLEDG").where("CINO", cino) if r["CUNO"] == cuno and r["INYR"] == inyr]


def open_amount(entries: Sequence[Row]) -> Decimal:
    return sum((r["CUAM"] for r in entries), Decimal("0.00"))


def reconcile(
    company: Company, cuno: str, cino: str, inyr: int, on: date, stamp: datetime | None = None
) -> Decimal:
    """Mark an invoice and its payments paid (RECO 9) once they net to zero; return what is still open."""
    entries = ar_entries(company, cuno, cino, inyr)
    remaining = open_amount(entries)
    for row in entries:
        settled = remaining == 0
        if (row["RECO"] == PAID) != settled:
            row["RECO"] = PAID if settled else "0"
            row["REDE"] = on if settled else None
            company.touch(row, when=stamp)
    ivno = int(cino) if cino.isdigit() else None
    for head in company.table("OINVOH").where("IVNO", ivno):
        if head["CUNO"] == cuno and head["YEA4"] == inyr:
            head["RAFC"] = remaining
            company.touch(head, when=stamp)
    return remaining


def invoice_entry(company: Company, cuno: str, cino: str, inyr: int) -> Row | None:
    for row in company.table("FSLEDG").where("CINO", cino):
        if row["TRCD"] == INVOICE and row["CUNO"] == cuno and row["INYR"] == inyr:
            return row
    return None


def apply_payment(
    company: Company,
    *,
    cuno: str,
    cino: str,
    inyr: int,
    amount: Decimal,
    currency: str,
    on: date,
    ckno: str = "",
    pbid: str = "",
    stamp: datetime | None = None,
) -> dict[str, Any]:
    """Post cash against an AR invoice: an FSLEDG payment row, its GL voucher, then reconciliation."""
    invoice = invoice_entry(company, cuno, cino, inyr)
    settings = company.settings
    vono = post_voucher(
        company,
        on=on,
        description=f"Payment {cino}",
        stamp=stamp,
        lines=[
            GLLine(settings.bank_account, amount, currency, f"Payment {cino}"),
            GLLine(settings.ar_account, -amount, currency, f"Payment {cino}"),
        ],
    )
    post_ar(
        company,
        cuno=cuno,
        cino=cino,
        inyr=inyr,
        trcd=PAYMENT,
        amount=-amount,
        vat=Decimal("0.00"),
        currency=currency,
        ivdt=invoice["IVDT"] if invoice else None,
        dudt=invoice["DUDT"] if invoice else None,
        acdt=on,
        vono=vono,
        text=f"Payment {cino}",
        ckno=ckno,
        pbid=pbid,
        stamp=stamp,
    )
    remaining = reconcile(company, cuno, cino, inyr, on, stamp)
    return {"CINO": cino, "INYR": inyr, "remaining": remaining}


def post_supplier_invoice(
    company: Company, head: Row, costs: Sequence[GLLine], vat: Decimal, stamp: datetime | None = None
) -> int:
    """One voucher (costs and VAT debited, payables credited with the gross) and its FPLEDG entry."""
    settings = company.settings
    gross = sum((line.amount for line in costs), Decimal("0.00")) + vat
    text = f"Supplier invoice {head['SINO'] or head['INBN']}"
    lines = [*costs]
    if vat:
        lines.append(GLLine(settings.vat_account, vat, head["CUCD"], text))
    lines.append(GLLine(settings.ap_account, -gross, head["CUCD"], text))
    on = head["ACDT"]
    vono = post_voucher(company, on=on, lines=lines, description=text, stamp=stamp)
    row: Row = {
        "CONO": company.cono,
        "DIVI": company.divi,
        "YEA4": on.year,
        "JRNO": company.next_number("JRNO"),
        "JSNO": 1,
        "SUNO": head["SUNO"],
        "SPYN": head["SPYN"],
        "SINO": head["SINO"],
        "INYR": head["IVDT"].year,
        "TRCD": SUPPLIER_INVOICE,
        "CUCD": head["CUCD"],
        "CUAM": money(-gross),
        "VTAM": money(-vat),
        "IVDT": head["IVDT"],
        "DUDT": head["DUDT"],
        "ACDT": on,
        "VSER": "",
        "VONO": vono,
        "RECO": "0",
    }
    company.table("FPLEDG").insert(company.touch(row, new=True, when=stamp))
    return vono
