"""How a confirmed customer order moves on in M3: delivered (status 66), then invoiced (77) into the AR
ledger. Driven by ``POST /sandbox/orders/{ORNO}/deliver`` and ``.../invoice`` and by the seeds.

Line statuses used by the sandbox: 05 batch entry (not confirmed), 22 confirmed and allocated,
66 delivered, 77 invoiced. The head's ``ORSL``/``ORST`` are the lowest and highest line status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from finsync_dagster.sandbox.infor.models import Company, Row, money
from finsync_dagster.sandbox.infor.postings import INVOICE, GLLine, post_ar, post_voucher

CONFIRMED = "22"
DELIVERED = "66"
INVOICED = "77"


class LifecycleError(Exception):
    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def parse_control_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    text = str(value)
    return date.fromisoformat(text) if "-" in text else datetime.strptime(text, "%Y%m%d").date()


def order_head(company: Company, orno: str) -> Row:
    head = company.table("OOHEAD").get(company.cono, orno)
    if head is None:
        raise LifecycleError(f"customer order {orno} does not exist", status=404)
    return head


def order_lines(company: Company, orno: str) -> list[Row]:
    return company.table("OOLINE").where("ORNO", orno)


def line_vat(line: Row) -> Decimal:
    return money(line["NLAM"] * line["VTP1"] / 100)


@dataclass(frozen=True)
class SeedLine:
    """One line of a seeded order: the item, its quantity and price, and its VAT code and rate."""

    itno: str
    itds: str
    quantity: Decimal
    price: Decimal
    vtcd: str = "00"
    vtp1: Decimal = Decimal(0)


def seed_order(
    company: Company,
    *,
    cuno: str,
    cuor: str,
    day: date,
    currency: str,
    lines: list[SeedLine],
    stamp: datetime,
    ortp: str,
    whlo: str,
) -> str:
    """Write a confirmed order with its lines, as OIS100MI would leave it, allocating stock; its ORNO."""
    orno = str(company.next_number("ORNO"))
    head: Row = {
        "CONO": company.cono, "DIVI": company.divi, "ORNO": orno, "ORTP": ortp,
        "FACI": company.settings.facility, "WHLO": whlo, "CUNO": cuno, "PYNO": cuno, "CUOR": cuor,
        "ORDT": day, "RLDT": day, "CUCD": currency, "TEPY": "30", "YREF": "",
        "ORSL": CONFIRMED, "ORST": CONFIRMED, "VTCD": "00",
    }  # fmt: skip
    company.table("OOHEAD").insert(company.touch(head, new=True, when=stamp))
    rows = []
    for ponr, line in enumerate(lines, start=1):
        row: Row = {
            "CONO": company.cono, "DIVI": company.divi, "ORNO": orno, "PONR": ponr, "POSX": 0,
            "ITNO": line.itno, "ITDS": line.itds[:30], "WHLO": whlo, "ORQT": line.quantity,
            "ALQT": line.quantity, "DLQT": Decimal(0), "IVQT": Decimal(0), "SAPR": line.price,
            "NLAM": money(line.quantity * line.price), "VTCD": line.vtcd, "VTP1": line.vtp1,
            "CUCD": currency, "DWDT": day, "ORST": CONFIRMED,
        }  # fmt: skip
        rows.append(company.table("OOLINE").insert(company.touch(row, new=True, when=stamp)))
        balance = company.table("MITBAL").get(company.cono, whlo, line.itno)
        if balance is not None:
            balance["ALQT"] += line.quantity
            balance["AV01"] = balance["STQT"] - balance["ALQT"]
    set_head_status(company, head, rows, stamp)
    return orno


def set_head_status(company: Company, head: Row, lines: list[Row], stamp: datetime | None = None) -> None:
    statuses = [line["ORST"] for line in lines] or [head["ORST"]]
    head["ORSL"], head["ORST"] = min(statuses), max(statuses)
    head["NTAM"] = sum((line["NLAM"] for line in lines), Decimal("0.00"))
    head["VTAM"] = sum((line_vat(line) for line in lines), Decimal("0.00"))
    head["BRAM"] = head["NTAM"] + head["VTAM"]
    company.touch(head, when=stamp)


def deliver(
    company: Company, orno: str, on: date | None = None, stamp: datetime | None = None
) -> dict[str, Any]:
    head = order_head(company, orno)
    lines = order_lines(company, orno)
    if head["ORSL"] >= DELIVERED:
        raise LifecycleError(f"customer order {orno} is already delivered (status {head['ORST']})")
    on = on or company.today()
    dlix = company.next_number("DLIX")
    for line in lines:
        balance = company.table("MITBAL").get(company.cono, line["WHLO"], line["ITNO"])
        if balance is not None:
            balance["STQT"] -= line["ORQT"]
            balance["ALQT"] = max(Decimal(0), balance["ALQT"] - line["ALQT"])
            balance["AV01"] = balance["STQT"] - balance["ALQT"]
            balance["ODDT"] = on
            company.touch(balance, when=stamp)
        line.update(DLQT=line["ORQT"], ALQT=Decimal(0), ORST=DELIVERED, DLIX=dlix)
        company.touch(line, when=stamp)
    set_head_status(company, head, lines, stamp)
    return {"ORNO": orno, "ORST": head["ORST"], "DLIX": dlix}


def invoice(
    company: Company,
    orno: str,
    on: date | None = None,
    stamp: datetime | None = None,
    ivno: int | None = None,
) -> dict[str, Any]:
    head = order_head(company, orno)
    lines = order_lines(company, orno)
    if head["ORST"] >= INVOICED:
        raise LifecycleError(f"customer order {orno} is already invoiced")
    if head["ORSL"] < DELIVERED:
        raise LifecycleError(f"customer order {orno} must be delivered before it is invoiced")
    on = on or company.today()
    ivno = ivno or company.next_number("IVNO")
    settings = company.settings
    customer = company.table("OCUSMA").get(company.cono, head["CUNO"]) or {}
    due = on + timedelta(days=settings.payment_terms_days.get(head["TEPY"], 30))
    net = sum((line["NLAM"] for line in lines), Decimal("0.00"))
    vat = sum((line_vat(line) for line in lines), Decimal("0.00"))
    total = net + vat
    currency = head["CUCD"]
    cino = str(ivno)
    vono = post_voucher(
        company,
        on=on,
        description=f"Invoice {cino}",
        stamp=stamp,
        lines=[
            GLLine(settings.ar_account, total, currency, f"Invoice {cino}"),
            GLLine(settings.revenue_account, -net, currency, f"Invoice {cino}"),
        ]
        + ([GLLine(settings.vat_account, -vat, currency, f"VAT invoice {cino}")] if vat else []),
    )
    invoice_head: Row = {
        "CONO": company.cono,
        "DIVI": company.divi,
        "YEA4": on.year,
        "IVNO": ivno,
        "ORNO": orno,
        "CUNO": head["CUNO"],
        "PYNO": head["CUNO"],
        "CUNM": customer.get("CUNM", ""),
        "IDAT": on,
        "DUDT": due,
        "ACDT": on,
        "CUCD": currency,
        "IVAM": total,
        "VTAM": vat,
        "RAFC": total,
        "VONO": vono,
        "TEPY": head["TEPY"],
        "INST": "1",
    }
    company.table("OINVOH").insert(company.touch(invoice_head, new=True, when=stamp))
    for line in lines:
        invoice_line: Row = {
            "CONO": company.cono,
            "DIVI": company.divi,
            "YEA4": on.year,
            "IVNO": ivno,
            "ORNO": orno,
            "PONR": line["PONR"],
            "ITNO": line["ITNO"],
            "IVQT": line["ORQT"],
            "WHLO": line["WHLO"],
            "DLIX": line.get("DLIX", 0),
            "NLAM": line["NLAM"],
            "VTAM": line_vat(line),
            "VTCD": line["VTCD"],
            "VTP1": line["VTP1"],
            "CUCD": currency,
        }
        company.table("OINVOL").insert(company.touch(invoice_line, new=True, when=stamp))
        line.update(IVQT=line["ORQT"], ORST=INVOICED)
        company.touch(line, when=stamp)
    post_ar(
        company,
        cuno=head["CUNO"],
        cino=cino,
        inyr=on.year,
        trcd=INVOICE,
        amount=total,
        vat=vat,
        currency=currency,
        ivdt=on,
        dudt=due,
        acdt=on,
        vono=vono,
        text=f"Order {orno}",
        stamp=stamp,
    )
    set_head_status(company, head, lines, stamp)
    return {
        "ORNO": orno,
        "ORST": head["ORST"],
        "IVNO": ivno,
        "YEA4": on.year,
        "CINO": cino,
        "amount": str(total),
        "currency": currency,
    }
