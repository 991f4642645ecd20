"""OIS350MI, customer order invoices (tables OINVOH and OINVOL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from finsync_dagster.sandbox.infor.errors import not_found
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.models import Row
from finsync_dagster.sandbox.infor.transactions import transaction


def _out(head: Row) -> dict[str, Any]:
    return {
        **head,
        "AMT1": head["IVAM"],
        "AMT2": head["IVAM"],
        "CUC1": head["CUCD"],
        "CUC2": head["CUCD"],
        "FAC2": "",
        "INRC": head["CUNO"],
    }


def _invoice(ctx: Context, inputs: dict[str, str]) -> Row:
    company = ctx.company
    head = company.table("OINVOH").get(company.cono, company.divi, int(inputs["YEA4"]), int(inputs["IVNO"]))
    if head is None:
        raise not_found("Invoice number", f"{inputs['IVNO']}/{inputs['YEA4']}", "IVNO", code="OI35001")
    return head


@transaction("OIS350MI", "LstInvHead")
def list_invoice_heads(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    year = int(inputs["YEA4"])
    start = int(inputs["IVNO"]) if inputs.get("IVNO") else 0
    for head in ctx.company.table("OINVOH").scan():
        if head["YEA4"] == year and head["IVNO"] >= start:
            yield _out(head)


@transaction("OIS350MI", "GetInvHead")
def get_invoice_head(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    yield _out(_invoice(ctx, inputs))


@transaction("OIS350MI", "LstInvLine")
def list_invoice_lines(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    head = _invoice(ctx, inputs)
    for line in ctx.company.table("OINVOL").where("IVNO", head["IVNO"]):
        if line["YEA4"] == head["YEA4"]:
            yield {
                **line,
                "IVTP": "1",
                "AMT1": line["NLAM"],
                "AMT2": line["NLAM"],
                "AMT3": line["NLAM"],
                "PYNO": head["PYNO"],
                "CUNM": head["CUNM"],
                "CVTM": line["VTAM"],
                "CVBA": line["NLAM"],
                "IVRF": str(head["IVNO"]),
            }


@transaction("OIS350MI", "LstInvHeadByCo")
def list_invoice_heads_by_order(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The invoices of one customer order, with the delivery they bill: how an order finds its AR invoice
    (``CINO`` = ``IVNO``, ``INYR`` = ``YEA4`` in the AR ledger) and its delivery number (``DLIX``)."""
    company = ctx.company
    orno = inputs["ORNO"]
    if company.table("OOHEAD").get(company.cono, orno) is None:
        raise not_found("Customer order number", orno, "ORNO", code="OI35002")
    for head in company.table("OINVOH").scan():
        if head["ORNO"] != orno:
            continue
        lines = [line for line in company.table("OINVOL").where("IVNO", head["IVNO"]) if line["ORNO"] == orno]
        yield {
            **_out(head),
            "WHLO": lines[0]["WHLO"] if lines else "",
            "DLIX": lines[0]["DLIX"] if lines else "",
            "CUN1": head["CUNM"],
            "IVDT": head["IDAT"],
        }
