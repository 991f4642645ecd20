"""GLS200MI, reading the GL ledger (FGLEDG) back by voucher or by accounting date."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from finsync_dagster.sandbox.infor.errors import not_found
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.models import Row
from finsync_dagster.sandbox.infor.transactions import transaction


def _voucher(ctx: Context, inputs: dict[str, str]) -> list[Row]:
    year, vono = int(inputs["YEA4"]), int(inputs["VONO"])
    divi = inputs["DIVI"]
    rows = [
        r
        for r in ctx.company.table("FGLEDG").scan()
        if r["DIVI"] == divi and r["YEA4"] == year and r["VONO"] == vono
    ]
    if not rows:
        raise not_found("Voucher number", f"{vono}/{year}", "VONO", code="WVO0203")
    return rows


@transaction("GLS200MI", "GetVoucherHead")
def get_voucher_head(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    rows = _voucher(ctx, inputs)
    debit = sum((r["CUAM"] for r in rows if r["CUAM"] > 0), Decimal("0.00"))
    credit = sum((r["CUAM"] for r in rows if r["CUAM"] < 0), Decimal("0.00"))
    first = rows[0]
    yield {**first, "DSUM": debit, "CSUM": credit, "CUAD": debit, "CUAC": credit, "TDSC": first["VDSC"]}


@transaction("GLS200MI", "LstVoucherLines")
def list_voucher_lines(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    yield from _voucher(ctx, inputs)


@transaction("GLS200MI", "LstVouchersByDt")
def list_vouchers_by_date(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    start, end = ctx.date(inputs, "FRDT"), ctx.date(inputs, "TODT")
    divi = inputs.get("DIVI") or ctx.company.divi
    for row in ctx.company.table("FGLEDG").scan():
        if (
            row["DIVI"] == divi
            and (start is None or row["ACDT"] >= start)
            and (end is None or row["ACDT"] <= end)
        ):
            yield row
