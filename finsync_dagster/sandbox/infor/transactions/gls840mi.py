"""GLS840MI, the generic GL batch interface: a head, lines of ``KEY=value;...`` PARM, and UpdBatch to post.

PARM keys: ``AIT1`` account (required, must exist), ``ACDT`` yyyyMMdd (required), ``CUAM`` signed amount
(required, debit positive), ``CUCD`` (default: the company's currency), ``VTXT`` text, ``AIT2``-``AIT7``.
The real positional PARM layout is UNCONFIRMED; this keyed form is the sandbox's choice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from finsync_dagster.sandbox.infor.errors import BusinessError, already_exists, not_found
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.models import Company, GLBatch, Row
from finsync_dagster.sandbox.infor.postings import GLLine, post_voucher
from finsync_dagster.sandbox.infor.transactions import transaction

_KEYS = {"AIT1", "AIT2", "AIT3", "AIT4", "AIT5", "AIT6", "AIT7", "ACDT", "CUAM", "CUCD", "VTXT"}


def parse_parm(company: Company, parm: str) -> Row:
    values: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in parm.split(";"))):
        key, sep, value = part.partition("=")
        key = key.strip().upper()
        if not sep or key not in _KEYS:
            raise BusinessError(
                f"PARM part {part!r} is not KEY=value with a known key", field="PARM", code="GL84001"
            )
        values[key] = value.strip()
    for required in ("AIT1", "ACDT", "CUAM"):
        if not values.get(required):
            raise BusinessError(f"PARM has no {required}", field="PARM", code="GL84002")
    if company.table("FCHACC").get(company.cono, company.divi, 1, values["AIT1"]) is None:
        raise not_found("Account", values["AIT1"], "PARM", code="WAI0203")
    try:
        amount = Decimal(values["CUAM"])
        on = datetime.strptime(values["ACDT"], "%Y%m%d").date()
    except (InvalidOperation, ValueError):
        raise BusinessError("PARM has an invalid CUAM or ACDT", field="PARM", code="GL84003") from None
    return {
        "AIT1": values["AIT1"],
        "ACDT": on,
        "CUAM": amount,
        "CUCD": values.get("CUCD") or company.settings.currency,
        "VTXT": values.get("VTXT", ""),
    }


def _batch(company: Company, key1: str) -> GLBatch:
    batch = company.gl_batches.get(key1)
    if batch is None:
        raise not_found("GL batch", key1, "KEY1", code="GL84004")
    if batch.updated:
        raise BusinessError(f"GL batch {key1} is already updated", field="KEY1", code="GL84005")
    return batch


@transaction("GLS840MI", "AddBatchHead")
def add_batch_head(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    if inputs["KEY1"] in company.gl_batches:
        raise already_exists("GL batch", inputs["KEY1"], "KEY1", code="GL84006")
    company.gl_batches[inputs["KEY1"]] = GLBatch(inputs["KEY1"], inputs["INTN"], inputs["DESC"])
    yield {"CONO": company.cono}


@transaction("GLS840MI", "AddBatchLine")
def add_batch_line(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    batch = _batch(company, inputs["KEY1"])
    line_number = int(inputs["LINE"])
    if line_number in batch.lines:
        raise already_exists("Line", str(line_number), "LINE", code="GL84007")
    batch.lines[line_number] = parse_parm(company, inputs["PARM"])
    yield {"CONO": company.cono}


@transaction("GLS840MI", "UpdBatch")
def update_batch(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    batch = _batch(company, inputs["KEY1"])
    if not batch.lines:
        raise BusinessError(f"GL batch {batch.key1} has no lines", field="KEY1", code="GL84008")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in batch.lines.values():
        totals[line["CUCD"]] += line["CUAM"]
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        currency, total = next(iter(unbalanced.items()))
        raise BusinessError(
            f"GL batch {batch.key1} does not balance: {total} {currency}", field="KEY1", code="GL84009"
        )
    lines = [batch.lines[n] for n in sorted(batch.lines)]
    post_voucher(
        company,
        on=lines[0]["ACDT"],
        description=batch.desc,
        lines=[GLLine(ln["AIT1"], ln["CUAM"], ln["CUCD"], ln["VTXT"]) for ln in lines],
    )
    batch.updated = True
    yield {"CONO": company.cono}
