"""CRS630MI, the chart of accounts (FCHACC): accounting dimension 1 holds the GL accounts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from finsync_dagster.sandbox.infor.errors import already_exists, not_found
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.transactions import transaction


def _key(ctx: Context, inputs: dict[str, str]) -> tuple[str, str, int, str]:
    company = ctx.company
    return company.cono, inputs.get("DIVI") or company.divi, int(inputs["AITP"]), inputs["AITM"]


@transaction("CRS630MI", "AddAccountID")
def add_account(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    key = _key(ctx, inputs)
    if company.table("FCHACC").get(*key) is not None:
        raise already_exists("Account", inputs["AITM"], "AITM", code="WAI0201")
    row = {
        "CONO": key[0],
        "DIVI": key[1],
        "AITP": key[2],
        "AITM": key[3],
        "TX40": inputs["TX40"],
        "TX15": inputs.get("TX15") or inputs["TX40"][:15],
        "AICL": inputs.get("AICL", ""),
    }
    company.table("FCHACC").insert(company.touch(row, new=True))
    return
    yield


@transaction("CRS630MI", "GetAccountID")
def get_account(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    row = ctx.company.table("FCHACC").get(*_key(ctx, inputs))
    if row is None:
        raise not_found("Account", inputs["AITM"], "AITM", code="WAI0203")
    yield row


@transaction("CRS630MI", "LstAccountID")
def list_accounts(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    divi, aitp, start = inputs.get("DIVI") or company.divi, int(inputs["AITP"]), inputs.get("AITM", "")
    for row in company.table("FCHACC").scan():
        if row["DIVI"] == divi and row["AITP"] == aitp and row["AITM"] >= start:
            yield row
