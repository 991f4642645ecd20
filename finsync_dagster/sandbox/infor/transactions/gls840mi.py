"""GLS840MI, the generic GL batch interface: a head, lines, CtrlBatch to check and UpdBatch to post.

Lines come either as ``AddBatchLine`` with a ``PARM`` of ``KEY=value;...`` pairs (keys ``AIT1`` account,
required and existing; ``ACDT`` yyyyMMdd, required; ``CUAM`` signed amount, debit positive, required;
``CUCD``, default the company's currency; ``VTXT`` voucher text; ``AIT2``-``AIT7``; the real positional
PARM layout is UNCONFIRMED, this keyed form is the sandbox's choice), or as ``AddBatchLineFld`` with the
catalog's own fields (the same ones; ``DBCR`` ``D``/``C``, when given, sets the sign of ``CUAM``).

``CtrlBatch`` checks a batch without posting it; ``UpdBatch`` posts it as one voucher, all lines or none,
and only if debits equal credits per currency. A posted batch refuses every later step ("already updated",
naming its voucher), so a step whose answer was lost can be sent again safely: the caller's ``KEY1``
(15) and ``LINE`` are its idempotency keys, and each line's ``VTXT`` (40) is findable in FGLEDG.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
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
    return _line(company, values, in_parm=True)


def _line(company: Company, values: Mapping[str, str], *, in_parm: bool) -> Row:
    """A batch line from its values, checked: account, date and amount present and valid.

    Errors name ``PARM`` for an ``AddBatchLine``, and the field itself for an ``AddBatchLineFld``.
    """

    def where(name: str) -> str:
        return "PARM" if in_parm else name

    for required in ("AIT1", "ACDT", "CUAM"):
        if not values.get(required):
            raise BusinessError(
                f"{where('The line')} has no {required}", field=where(required), code="GL84002"
            )
    if company.table("FCHACC").get(company.cono, company.divi, 1, values["AIT1"]) is None:
        raise not_found("Account", values["AIT1"], where("AIT1"), code="WAI0203")
    try:
        amount = Decimal(values["CUAM"])
    except InvalidOperation:
        raise BusinessError(
            f"{where('The line')} has an invalid CUAM", field=where("CUAM"), code="GL84003"
        ) from None
    try:
        on = datetime.strptime(values["ACDT"], "%Y%m%d").date()
    except ValueError:
        raise BusinessError(
            f"{where('The line')} has an invalid ACDT", field=where("ACDT"), code="GL84003"
        ) from None
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
    if batch.voucher is not None:
        raise BusinessError(
            f"GL batch {key1} is already updated, voucher {batch.voucher}", field="KEY1", code="GL84005"
        )
    return batch


def _balanced(batch: GLBatch) -> list[Row]:
    """The batch's lines in order, once they are there and balance per currency."""
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
    return [batch.lines[n] for n in sorted(batch.lines)]


def _add_line(company: Company, key1: str, line_number: int, line: Row) -> None:
    batch = _batch(company, key1)
    if line_number in batch.lines:
        raise already_exists("Line", str(line_number), "LINE", code="GL84007")
    batch.lines[line_number] = line


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
    _batch(company, inputs["KEY1"])
    _add_line(company, inputs["KEY1"], int(inputs["LINE"]), parse_parm(company, inputs["PARM"]))
    yield {"CONO": company.cono}


@transaction("GLS840MI", "AddBatchLineFld")
def add_batch_line_fields(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    _batch(company, inputs["KEY1"])
    values = {key: inputs[key] for key in _KEYS if inputs.get(key)}
    sign = {"D": 1, "C": -1}.get(inputs.get("DBCR", "").upper())
    if inputs.get("DBCR") and sign is None:
        raise BusinessError("Debit/credit code must be D or C", field="DBCR", code="GL84010")
    line = _line(company, values, in_parm=False)
    if sign is not None:
        line["CUAM"] = abs(line["CUAM"]) * sign
    _add_line(company, inputs["KEY1"], int(inputs["LINE"]), line)
    return iter(())


@transaction("GLS840MI", "CtrlBatch")
def control_batch(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Check a batch as UpdBatch would, without posting it."""
    _balanced(_batch(ctx.company, inputs["KEY1"]))
    yield {"CONO": ctx.company.cono}


@transaction("GLS840MI", "UpdBatch")
def update_batch(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    batch = _batch(company, inputs["KEY1"])
    lines = _balanced(batch)
    batch.voucher = post_voucher(
        company,
        on=lines[0]["ACDT"],
        description=batch.desc,
        lines=[GLLine(ln["AIT1"], ln["CUAM"], ln["CUCD"], ln["VTXT"]) for ln in lines],
    )
    yield {"CONO": company.cono}
