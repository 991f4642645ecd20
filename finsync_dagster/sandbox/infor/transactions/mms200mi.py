"""MMS200MI, items (MITMAS) and their warehouse balances (MITBAL)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from finsync_dagster.sandbox.infor.errors import already_exists, not_found
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.transactions import transaction

_COPIED = ("STAT", "ITNO", "ITDS", "FUDS", "RESP", "UNMS", "ITTY", "MABU", "PRVG", "ITGR", "ITCL")


@transaction("MMS200MI", "AddItmBasic")
def add_item(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    if company.table("MITMAS").get(company.cono, inputs["ITNO"]) is not None:
        raise already_exists("Item number", inputs["ITNO"], "ITNO", code="WIT0201")
    item: dict[str, Any] = {name: inputs.get(name, "") for name in _COPIED}
    item.update(CONO=company.cono, SAPR=Decimal("0.00"), CUCD=company.settings.currency)
    company.table("MITMAS").insert(company.touch(item, new=True))
    for whlo in sorted(company.settings.warehouses):
        balance = {
            "CONO": company.cono,
            "WHLO": whlo,
            "ITNO": item["ITNO"],
            "FACI": company.settings.facility,
            "STQT": Decimal(0),
            "ALQT": Decimal(0),
            "AV01": Decimal(0),
            "IDDT": None,
            "ODDT": None,
        }
        company.table("MITBAL").insert(company.touch(balance, new=True))
    return
    yield


@transaction("MMS200MI", "GetItmBasic")
def get_item(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    item = ctx.company.table("MITMAS").get(ctx.company.cono, inputs["ITNO"])
    if item is None:
        raise not_found("Item number", inputs["ITNO"], "ITNO", code="WIT0203")
    yield item


@transaction("MMS200MI", "LstItmByChgDate")
def list_items_by_change_date(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    start, end = ctx.date(inputs, "FLMD"), ctx.date(inputs, "TLMD")
    days = int(inputs["CSDS"]) if inputs.get("CSDS") else None
    if days is not None:
        start = ctx.today().fromordinal(ctx.today().toordinal() - days)
    for item in ctx.company.table("MITMAS").scan():
        if (start is None or item["LMDT"] >= start) and (end is None or item["LMDT"] <= end):
            yield item


@transaction("MMS200MI", "GetItmWhsBal")
def get_item_warehouse_balance(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    balance = company.table("MITBAL").get(company.cono, inputs["WHLO"], inputs["ITNO"])
    if balance is None:
        raise not_found("Item/warehouse", f"{inputs['ITNO']}/{inputs['WHLO']}", "ITNO", code="WWH0205")
    yield {**balance, "AVAL": balance["AV01"], "AV02": balance["AV01"], "CHN2": balance["CHNO"]}
