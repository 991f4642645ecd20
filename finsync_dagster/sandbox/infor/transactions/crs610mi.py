"""CRS610MI, customers (table OCUSMA)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from finsync_dagster.sandbox.infor.errors import BusinessError, already_exists, not_found
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.models import Company, Row
from finsync_dagster.sandbox.infor.transactions import transaction

_EDITABLE = (
    "CUNM",
    "CUA1",
    "CUA2",
    "CUA3",
    "CUA4",
    "PONO",
    "PHNO",
    "PHN2",
    "TFNO",
    "CUTP",
    "ALCU",
    "YREF",
    "YRE2",
    "MAIL",
    "CSCD",
    "ECAR",
    "STAT",
    "TOWN",
    "LNCD",
    "CUCL",
    "VRNO",
)


def customer(company: Company, cuno: str, field: str = "CUNO") -> Row:
    row = company.table("OCUSMA").get(company.cono, cuno)
    if row is None:
        raise not_found("Customer number", cuno, field, code="WCU0203")
    return row


def _output(company: Company, row: Row) -> dict[str, Any]:
    return {**row, "CONO": company.cono, "DIVI": company.divi}


@transaction("CRS610MI", "Add")
def add(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    template = company.settings.customer_templates.get(inputs["CUTM"])
    if template is None:
        raise not_found("Customer template", inputs["CUTM"], "CUTM", code="WCU0503")
    cuno = inputs.get("CUNO") or str(company.next_number("CUNO"))
    if company.table("OCUSMA").get(company.cono, cuno) is not None:
        raise already_exists("Customer number", cuno, "CUNO", code="WCU0201")
    row: Row = {**template, "CONO": company.cono, "DIVI": "", "CUNO": cuno, "PYNO": ""}
    row.update({k: inputs[k] for k in _EDITABLE if inputs.get(k)})
    company.table("OCUSMA").insert(company.touch(row, new=True))
    yield {"CUNO": cuno}


@transaction("CRS610MI", "ChgBasicData")
def change_basic_data(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    row = customer(ctx.company, inputs["CUNO"])
    changes = {k: inputs[k] for k in _EDITABLE if k in inputs}
    if "CUNM" in changes and not changes["CUNM"]:
        raise BusinessError("Name must be entered", field="CUNM", code="WCU0102")
    row.update(changes)
    ctx.company.touch(row)
    yield {"CUNO": row["CUNO"]}


@transaction("CRS610MI", "GetBasicData")
def get_basic_data(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    yield _output(ctx.company, customer(ctx.company, inputs["CUNO"]))


@transaction("CRS610MI", "LstByNumber")
def list_by_number(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    start = inputs.get("CUNO", "")
    since = int(inputs["LMTS"]) if inputs.get("LMTS") else None
    for row in ctx.company.table("OCUSMA").scan():
        if row["CUNO"] < start or (since is not None and row["LMTS"] < since):
            continue
        yield _output(ctx.company, row)


@transaction("CRS610MI", "Delete")
def delete(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    row = customer(company, inputs["CUNO"])
    cuno = row["CUNO"]
    in_use = (
        any(o["CUNO"] == cuno for o in company.table("OOHEAD").scan())
        or bool(company.table("OXHEAD").where("CUNO", cuno))
        or any(e["CUNO"] == cuno for e in company.table("FSLEDG").scan())
    )
    if in_use:
        raise BusinessError(
            f"Customer number {cuno} is in use and cannot be deleted", field="CUNO", code="WCU0205"
        )
    company.table("OCUSMA").delete(row)
    return iter(())
