"""ARS040MI, customer payment batches: head, lines, and ControlBatch, which applies the cash to the invoices.

The caller picks the batch number ``PBID`` (numeric, 10) and each line's ``TRNO`` (numeric, 7), so every
step can be sent again after a lost answer: a second head or line with the same number is refused
("already exists"), and a batch is applied once: ControlBatch on a controlled batch, or a line added to
it, is refused ("already updated"). A line's ``CKNO`` (15, "check number") is the caller's reference; it
lands on the payment's AR entry (FSLEDG ``ESCKNO``, with ``ESPBID``), so an applied payment is found by
EXPORTMI on FSLEDG, and by invoice with ``ARS200MI/LstInvoiceTrans`` (TRCD 20).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from finsync_dagster.sandbox.infor.errors import BusinessError, already_exists, not_found
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.models import Company, PaymentBatch
from finsync_dagster.sandbox.infor.postings import apply_payment, invoice_entry
from finsync_dagster.sandbox.infor.transactions import transaction
from finsync_dagster.sandbox.infor.transactions.crs610mi import customer


def _open_batch(company: Company, pbid: str) -> PaymentBatch:
    batch = company.payment_batches.get(pbid)
    if batch is None:
        raise not_found("Payment batch", pbid, "PBID", code="WPB0203")
    if batch.controlled:
        raise BusinessError(f"Payment batch {pbid} is already updated", field="PBID", code="WPB0204")
    return batch


@transaction("ARS040MI", "AddBatchHead")
def add_batch_head(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    pbid = str(int(inputs["PBID"]))
    if inputs["BOPE"] not in company.settings.payment_batch_types:
        raise not_found("Batch payment type", inputs["BOPE"], "BOPE", code="WBO0203")
    if pbid in company.payment_batches:
        raise already_exists("Payment batch", pbid, "PBID", code="WPB0201")
    company.payment_batches[pbid] = PaymentBatch(pbid, inputs["BOPE"], ctx.date(inputs, "ACDT"))
    yield {"PBID": pbid}


@transaction("ARS040MI", "AddBatchLine")
def add_batch_line(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    batch = _open_batch(company, str(int(inputs["PBID"])))
    trno = str(int(inputs["TRNO"]))
    if trno in batch.lines:
        raise already_exists("Transaction number", trno, "TRNO", code="WPB0211")
    cuno = customer(company, inputs["CUNO"])["CUNO"]
    inyr = int(inputs["INYR"])
    invoice = invoice_entry(company, cuno, inputs["CINO"], inyr)
    if invoice is None:
        raise BusinessError(
            f"Invoice {inputs['CINO']}/{inyr} does not exist for customer {cuno}",
            field="CINO",
            code="WIN0203",
        )
    currency = inputs.get("CUCD") or invoice["CUCD"]
    if currency != invoice["CUCD"]:
        raise BusinessError(
            f"Currency {currency} differs from the invoice's {invoice['CUCD']}", field="CUCD", code="WCU0315"
        )
    amount = ctx.decimal(inputs, "PYAM")
    assert amount is not None
    if amount == 0:
        raise BusinessError("Payment amount must not be zero", field="PYAM", code="WPY0101")
    batch.lines[trno] = {
        "CUNO": cuno,
        "CINO": inputs["CINO"],
        "INYR": inyr,
        "PYAM": amount,
        "CUCD": currency,
        "LPDT": ctx.date(inputs, "LPDT"),
        "CKNO": inputs.get("CKNO", ""),
    }
    return
    yield


@transaction("ARS040MI", "ControlBatch")
def control_batch(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    if not inputs.get("PBID"):
        raise BusinessError("Payment batch must be entered", field="PBID", code="WPB0102")
    batch = _open_batch(company, str(int(inputs["PBID"])))
    if not batch.lines:
        raise BusinessError(f"Payment batch {batch.pbid} has no lines", field="PBID", code="WPB0205")
    for line in batch.lines.values():
        apply_payment(
            company,
            cuno=line["CUNO"],
            cino=line["CINO"],
            inyr=line["INYR"],
            amount=Decimal(line["PYAM"]),
            currency=line["CUCD"],
            on=line["LPDT"] or batch.acdt or ctx.today(),
            ckno=line["CKNO"],
            pbid=batch.pbid,
        )
    batch.controlled = True
    return
    yield
