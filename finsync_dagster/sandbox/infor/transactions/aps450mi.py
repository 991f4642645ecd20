"""APS450MI, supplier invoice batches (FAPIBH, FAPIBL): entered, then approved into the AP ledger.

A head names the supplier (``SUNO``, existing), the payee (``SPYN``, default the supplier) and the
supplier's own invoice number (``SINO``, 24); M3 numbers the batch (``INBN``). Lines are cost lines
(``RDTP`` 8: net amount ``NLAM`` booked to the account in ``AO01``, VAT in ``VTA1``/``VTA2``; the meaning
of the other line types, such as purchase-order matching, is not modelled and they are refused).

``ApproveInvoice`` posts the invoice, in the sandbox's simplification of M3's approve-then-update flow
(UNCONFIRMED): only when the head's ``CUAM`` (gross) equals the lines' net amounts plus the VAT (the
head's ``VTAM``, else the lines' VAT), as one GL voucher and one FPLEDG entry, all or nothing. Batch
status ``SUPA``: 10 entered, 80 rejected, 90 approved and posted (UNCONFIRMED values).

Finding an invoice whose answer was lost: a second head with the same supplier, payee and ``SINO`` (not
rejected) is refused as "already exists" (UNCONFIRMED: M3's duplicate check is a setting), and
``LstInvBySupInv`` (``SPYN``, ``SUNO``, ``SINO``) returns its ``INBN``. A line sent with its own ``TRNO``
is refused the second time; an approved or rejected batch refuses every later step.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

from finsync_dagster.sandbox.infor.errors import BusinessError, already_exists, not_found
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.models import Company, Row
from finsync_dagster.sandbox.infor.postings import GLLine, post_supplier_invoice
from finsync_dagster.sandbox.infor.transactions import transaction
from finsync_dagster.sandbox.infor.transactions.crs620mi import supplier

ENTERED, REJECTED, POSTED = "10", "80", "90"
COST_LINE = "8"
_ZERO = Decimal("0.00")
_OBJECTS = ("AO01", "AO02", "AO03", "AO04", "AO05", "AO06", "AO07")


def _head(company: Company, inbn: str) -> Row:
    head = company.table("FAPIBH").get(company.cono, company.divi, int(inbn))
    if head is None:
        raise not_found("Invoice batch number", inbn, "INBN", code="AP45001")
    return head


def _open(company: Company, inbn: str) -> Row:
    head = _head(company, inbn)
    if head["SUPA"] != ENTERED:
        done = "approved" if head["SUPA"] == POSTED else "rejected"
        raise BusinessError(
            f"Supplier invoice batch {head['INBN']} is already {done}", field="INBN", code="AP45002"
        )
    return head


def _lines(company: Company, head: Row) -> list[Row]:
    return company.table("FAPIBL").where("INBN", head["INBN"])


def _matching(company: Company, spyn: str, suno: str, sino: str) -> list[Row]:
    return [
        head
        for head in company.table("FAPIBH").where("SUNO", suno)
        if head["SPYN"] == spyn and head["SINO"] == sino and head["SUPA"] != REJECTED
    ]


@transaction("APS450MI", "AddHead")
def add_head(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    vendor = supplier(company, inputs["SUNO"])
    payee = supplier(company, inputs["SPYN"], "SPYN")["SUNO"] if inputs.get("SPYN") else vendor["SUNO"]
    sino = inputs.get("SINO", "")
    earlier = _matching(company, payee, vendor["SUNO"], sino) if sino else []
    if earlier:
        raise BusinessError(
            f"Supplier invoice {sino} of supplier {vendor['SUNO']} already exists in batch {earlier[0]['INBN']}",
            field="SINO",
            code="AP45003",
        )
    invoiced = ctx.date(inputs, "IVDT")
    if invoiced is None:
        raise BusinessError("Invoice date must be entered", field="IVDT", code="AP45004")
    terms = inputs.get("TEPY") or vendor["TEPY"]
    due = ctx.date(inputs, "DUDT") or invoiced + timedelta(
        days=company.settings.payment_terms_days.get(terms, 30)
    )
    inbn = company.next_number("INBN")
    head: Row = {
        "CONO": company.cono,
        "DIVI": company.divi,
        "INBN": inbn,
        "SUNO": vendor["SUNO"],
        "SPYN": payee,
        "SINO": sino,
        "IBTP": inputs.get("IBTP", ""),
        "SUPA": ENTERED,
        "IVDT": invoiced,
        "ACDT": ctx.date(inputs, "ACDT") or invoiced,
        "DUDT": due,
        "CUCD": inputs.get("CUCD") or vendor["CUCD"] or company.settings.currency,
        "CUAM": ctx.decimal(inputs, "CUAM", _ZERO),
        "VTAM": ctx.decimal(inputs, "VTAM"),
        "TEPY": terms,
        "PYME": inputs.get("PYME") or vendor["PYME"],
        "APCD": inputs.get("APCD", ""),
        "YEA4": None,
        "VONO": None,
    }
    company.table("FAPIBH").insert(company.touch(head, new=True))
    yield {"INBN": inbn}


@transaction("APS450MI", "AddLine")
def add_line(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    head = _open(company, inputs["INBN"])
    if int(inputs["RDTP"]) != int(COST_LINE):
        raise BusinessError(
            f"Line type {inputs['RDTP']} is not supported; use {COST_LINE} (a cost line on AO01)",
            field="RDTP",
            code="AP45011",
        )
    account = inputs.get("AO01", "")
    if not account:
        raise BusinessError("Accounting object 1 must be entered", field="AO01", code="AP45012")
    if company.table("FCHACC").get(company.cono, company.divi, 1, account) is None:
        raise not_found("Account", account, "AO01", code="WAI0203")
    lines = _lines(company, head)
    trno = int(inputs["TRNO"]) if inputs.get("TRNO") else max((ln["TRNO"] for ln in lines), default=0) + 1
    if any(line["TRNO"] == trno for line in lines):
        raise already_exists("Transaction number", str(trno), "TRNO", code="AP45013")
    line: Row = {
        "CONO": company.cono,
        "DIVI": company.divi,
        "INBN": head["INBN"],
        "TRNO": trno,
        "RDTP": COST_LINE,
        "NLAM": ctx.decimal(inputs, "NLAM", _ZERO),
        "VTA1": ctx.decimal(inputs, "VTA1", _ZERO),
        "VTA2": ctx.decimal(inputs, "VTA2", _ZERO),
        "VTCD": inputs.get("VTCD", ""),
        "CUCD": head["CUCD"],
        **{name: inputs.get(name, "") for name in (*_OBJECTS, "CHGT", "ITNO", "PUNO")},
    }
    company.table("FAPIBL").insert(company.touch(line, new=True))
    company.touch(head)
    yield {"TRNO": trno}


@transaction("APS450MI", "ApproveInvoice")
def approve(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Post the invoice if it balances: one voucher and one AP entry, or nothing."""
    company = ctx.company
    head = _open(company, inputs["INBN"])
    lines = _lines(company, head)
    if not lines:
        raise BusinessError(
            f"Supplier invoice batch {head['INBN']} has no lines", field="INBN", code="AP45021"
        )
    net = sum((line["NLAM"] for line in lines), _ZERO)
    vat = head["VTAM"] if head["VTAM"] is not None else sum((ln["VTA1"] + ln["VTA2"] for ln in lines), _ZERO)
    if head["CUAM"] != net + vat:
        raise BusinessError(
            f"Invoice amount {head['CUAM']} does not equal the lines {net} plus VAT {vat}",
            field="CUAM",
            code="AP45022",
        )
    costs = [
        GLLine(ln["AO01"], ln["NLAM"], head["CUCD"], ln["CHGT"] or f"Invoice {head['SINO']}") for ln in lines
    ]
    head["VONO"] = post_supplier_invoice(company, head, costs, vat)
    head.update(SUPA=POSTED, YEA4=head["ACDT"].year, APCD=inputs.get("APCD") or head["APCD"])
    company.touch(head)
    return iter(())


@transaction("APS450MI", "RejectInvoice")
def reject(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    head = _open(company, inputs["INBN"])
    head["SUPA"] = REJECTED
    company.touch(head)
    yield {"INBN": head["INBN"]}


@transaction("APS450MI", "GetHead")
def get_head(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    head = _head(ctx.company, inputs["INBN"])
    total = sum((line["NLAM"] for line in _lines(ctx.company, head)), _ZERO)
    yield {**head, "TLNA": total, "VTAM": head["VTAM"] if head["VTAM"] is not None else ""}


@transaction("APS450MI", "LstLines")
def list_lines(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    head = _head(ctx.company, inputs["INBN"])
    for line in _lines(ctx.company, head):
        if not inputs.get("TRNO") or line["TRNO"] == int(inputs["TRNO"]):
            yield line


@transaction("APS450MI", "LstInvBySupInv")
def list_by_supplier_invoice(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The batches of one supplier invoice number: what finds an in-doubt AddHead."""
    company = ctx.company
    for head in company.table("FAPIBH").where("SUNO", inputs["SUNO"]):
        if head["SPYN"] == inputs["SPYN"] and head["SINO"] == inputs["SINO"]:
            yield head


@transaction("APS450MI", "LstInvBatchNo")
def list_batch_numbers(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """A payee's batches, optionally of one supplier, type, status, and from a batch number on."""
    company = ctx.company
    start = int(inputs["INBN"]) if inputs.get("INBN") else 0
    for head in company.table("FAPIBH").scan():
        if (
            head["SPYN"] == inputs["SPYN"]
            and head["INBN"] >= start
            and all(not inputs.get(name) or head[name] == inputs[name] for name in ("SUNO", "IBTP"))
            and (not inputs.get("SUPA") or int(head["SUPA"]) == int(inputs["SUPA"]))
        ):
            yield head
