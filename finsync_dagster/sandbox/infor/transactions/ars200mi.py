"""ARS200MI, the AR ledger (FSLEDG): invoices with their reconciliation code (9 = paid)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from finsync_dagster.sandbox.infor.errors import not_found
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.postings import INVOICE, PAID
from finsync_dagster.sandbox.infor.transactions import transaction
from finsync_dagster.sandbox.infor.transactions.crs610mi import customer


@transaction("ARS200MI", "LstInvoices")
def list_invoices(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    cuno = customer(company, inputs["CUNO"])["CUNO"]
    only_open = inputs.get("AAC0") == "1"
    since = ctx.date(inputs, "IVDT")
    for row in company.table("FSLEDG").where("CUNO", cuno):
        if row["TRCD"] != INVOICE:
            continue
        if (only_open and row["RECO"] == PAID) or (since and row["IVDT"] < since):
            continue
        yield row


@transaction("ARS200MI", "GetInvoice")
def get_invoice(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    key = (
        company.cono,
        inputs.get("DIVI") or company.divi,
        int(inputs["YEA4"]),
        int(inputs["JRNO"]),
        int(inputs["JSNO"]),
    )
    row = company.table("FSLEDG").get(*key)
    if row is None:
        raise not_found("Invoice entry", "/".join(str(k) for k in key[2:]), "JRNO", code="WAR0203")
    yield {**row, "DCAM": "2", "ARAT": "1"}


@transaction("ARS200MI", "LstInvoiceTrans")
def list_invoice_transactions(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every AR entry of one invoice (the invoice, TRCD 10, and the cash applied to it, TRCD 20)."""
    company = ctx.company
    cuno = customer(company, inputs["CUNO"])["CUNO"]
    payer, inyr, trcd = inputs["PYNO"], int(inputs["INYR"]), inputs.get("TRCD")
    for row in company.table("FSLEDG").where("CINO", inputs["CINO"]):
        of_invoice = row["CUNO"] == cuno and row["PYNO"] == payer and row["INYR"] == inyr
        if of_invoice and (not trcd or int(row["TRCD"]) == int(trcd)):
            yield row
