"""OIS100MI, customer orders: batch entry (AddBatchHead, AddBatchLine, Confirm) into OXHEAD/OXLINE, and
reads of the batch (LstBatchHead, GetBatchHead, LstBatchLine, GetOrderNo) and of OOHEAD/OOLINE.

A batch order keeps its temporary number, its customer reference (``CUOR``) and its lines after
``Confirm``, which stamps it ``STAT`` 90 with the real order number in ``ORNR``: a caller that lost an
answer finds its batch by customer and ``CUOR`` (``LstBatchHead`` or EXPORTMI on OXHEAD), sees which lines
it holds (``LstBatchLine``) and whether it became an order (``GetOrderNo``).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from finsync_dagster.sandbox.infor.errors import BusinessError, not_found
from finsync_dagster.sandbox.infor.lifecycle import CONFIRMED, order_lines, set_head_status
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.models import Company, Row, money
from finsync_dagster.sandbox.infor.transactions import transaction
from finsync_dagster.sandbox.infor.transactions.crs610mi import customer

BATCH = "05"  # a batch head's STAT, and its lines' status, until Confirm
CONFIRMED_BATCH = "90"


def _batch_head(company: Company, orno: str) -> Row:
    head = company.table("OXHEAD").get(company.cono, orno)
    if head is None:
        raise not_found("Batch order", orno, "ORNO", code="OI10001")
    return head


def _batch_lines(company: Company, orno: str) -> list[Row]:
    return company.table("OXLINE").where("ORNO", orno)


def _open_batch(company: Company, orno: str) -> Row:
    """The head of a batch order still open for entry; a confirmed one (or a real order) is closed."""
    head = company.table("OXHEAD").get(company.cono, orno)
    real = head["ORNR"] if head is not None and head["STAT"] == CONFIRMED_BATCH else None
    if real is None and company.table("OOHEAD").get(company.cono, orno) is not None:
        real = orno
    if real is not None:
        order = company.table("OOHEAD").get(company.cono, real) or {}
        raise BusinessError(
            f"Customer order {real} is closed for batch entry, status {order.get('ORST', '')}",
            field="ORNO",
            code="OI10003",
        )
    return _batch_head(company, orno)


def _head(company: Company, orno: str) -> Row:
    head = company.table("OOHEAD").get(company.cono, orno)
    if head is None:
        raise not_found("Customer order number", orno, "ORNO", code="OI10002")
    return head


def _in_range(inputs: dict[str, str], status: str) -> bool:
    return (inputs.get("ORSL") or "00") <= status <= (inputs.get("ORST") or "99")


@transaction("OIS100MI", "AddBatchHead")
def add_batch_head(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    settings = company.settings
    cust = customer(company, inputs["CUNO"])
    ortp = inputs.get("ORTP") or cust.get("ORTP", "")
    if ortp not in settings.order_types:
        raise not_found("Order type", ortp, "ORTP", code="OI10011")
    whlo = inputs.get("WHLO") or cust.get("WHLO", "")
    if whlo not in settings.warehouses:
        raise not_found("Warehouse", whlo, "WHLO", code="WWH0203")
    currency = inputs.get("CUCD") or cust.get("CUCD") or settings.currency
    orno = str(company.next_number("ORNO_TEMP"))
    head: Row = {
        "CONO": company.cono,
        "DIVI": company.divi,
        "ORNO": orno,
        "ORTP": ortp,
        "FACI": settings.facility,
        "WHLO": whlo,
        "CUNO": cust["CUNO"],
        "PYNO": cust["CUNO"],
        "CUOR": inputs.get("CUOR", ""),
        "ORDT": ctx.date(inputs, "ORDT") or ctx.today(),
        "RLDT": ctx.date(inputs, "RLDT") or ctx.today(),
        "CUCD": currency,
        "TEPY": inputs.get("TEPY") or cust.get("TEPY", "30"),
        "YREF": inputs.get("YREF", ""),
        "STAT": BATCH,
        "ORNR": "",
        "ORSL": BATCH,
        "ORST": BATCH,
        "NTAM": Decimal("0.00"),
        "VTAM": Decimal("0.00"),
        "BRAM": Decimal("0.00"),
        "VTCD": cust.get("VTCD", "00"),
    }
    company.table("OXHEAD").insert(company.touch(head, new=True))
    yield {"ORNO": orno}


@transaction("OIS100MI", "AddBatchLine")
def add_batch_line(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    head = _open_batch(company, inputs["ORNO"])
    item = company.table("MITMAS").get(company.cono, inputs["ITNO"])
    if item is None:
        raise not_found("Item number", inputs["ITNO"], "ITNO", code="WIT0203")
    whlo = inputs.get("WHLO") or head["WHLO"]
    if company.table("MITBAL").get(company.cono, whlo, item["ITNO"]) is None:
        raise BusinessError(
            f"Item {item['ITNO']} is not connected to warehouse {whlo}", field="WHLO", code="WWH0205"
        )
    quantity = ctx.decimal(inputs, "ORQT", Decimal(1))
    assert quantity is not None
    if quantity <= 0:
        raise BusinessError("Quantity must be greater than zero", field="ORQT", code="OI10021")
    price = ctx.decimal(inputs, "SAPR", item["SAPR"])
    assert price is not None
    vtcd = head["VTCD"]
    ponr = max((line["PONR"] for line in _batch_lines(company, head["ORNO"])), default=0) + 1
    line: Row = {
        "CONO": company.cono,
        "DIVI": company.divi,
        "ORNO": head["ORNO"],
        "PONR": ponr,
        "POSX": 0,
        "ITNO": item["ITNO"],
        "ITDS": (inputs.get("ITDS") or item["ITDS"])[:30],
        "WHLO": whlo,
        "ORQT": quantity,
        "ALQT": Decimal(0),
        "DLQT": Decimal(0),
        "IVQT": Decimal(0),
        "SAPR": price,
        "NLAM": money(quantity * price),
        "VTCD": vtcd,
        "VTP1": company.settings.vat_codes.get(vtcd, Decimal(0)),
        "CUCD": head["CUCD"],
        "DWDT": ctx.date(inputs, "DWDT") or head["RLDT"],
        "ORST": BATCH,
    }
    company.table("OXLINE").insert(company.touch(line, new=True))
    company.touch(head)
    yield {"PONR": str(ponr), "POSX": "0"}


@transaction("OIS100MI", "Confirm")
def confirm(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    temporary = inputs["ORNO"]
    batch = _open_batch(company, temporary)
    batch_lines = _batch_lines(company, temporary)
    if not batch_lines:
        raise BusinessError(f"Batch order {temporary} has no lines", field="ORNO", code="OI10004")
    orno = str(company.next_number("ORNO"))
    head = {k: v for k, v in batch.items() if k not in ("STAT", "ORNR")}
    head["ORNO"] = orno
    company.table("OOHEAD").insert(company.touch(head))
    lines = []
    for line in batch_lines:
        moved = dict(line, ORNO=orno, ORST=CONFIRMED, ALQT=line["ORQT"])
        balance = company.table("MITBAL").get(company.cono, moved["WHLO"], moved["ITNO"])
        if balance is not None:
            balance["ALQT"] += moved["ORQT"]
            balance["AV01"] = balance["STQT"] - balance["ALQT"]
            company.touch(balance)
        lines.append(company.table("OOLINE").insert(company.touch(moved)))
    set_head_status(company, head, lines)
    batch.update(STAT=CONFIRMED_BATCH, ORNR=orno)
    company.touch(batch)
    yield {"ORNO": orno, "STAT": CONFIRMED_BATCH}


@transaction("OIS100MI", "DelBatchHead")
def delete_batch_head(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Abandon a batch order that was never confirmed, with its lines."""
    company = ctx.company
    head = _open_batch(company, inputs["ORNO"])
    for line in _batch_lines(company, head["ORNO"]):
        company.table("OXLINE").delete(line)
    company.table("OXHEAD").delete(head)
    return iter(())


@transaction("OIS100MI", "LstBatchHead")
def list_batch_heads(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """A customer's batch orders, confirmed or not, with their ``CUOR`` and (once confirmed) ``ORNR``;
    ``ORSL``/``ORST`` bound the batch status ``STAT`` (05 entered, 90 confirmed)."""
    company = ctx.company
    cuno = customer(company, inputs["CUNO"])["CUNO"]
    for head in company.table("OXHEAD").where("CUNO", cuno):
        if _in_range(inputs, head["STAT"]):
            yield head


@transaction("OIS100MI", "GetBatchHead")
def get_batch_head(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    yield _batch_head(ctx.company, inputs["ORNO"])


@transaction("OIS100MI", "LstBatchLine")
def list_batch_lines(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    head = _batch_head(company, inputs["ORNO"])
    yield from _batch_lines(company, head["ORNO"])


@transaction("OIS100MI", "GetOrderNo")
def get_order_number(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The real order number of a batch order: blank until it is confirmed (UNCONFIRMED)."""
    yield {"ORNR": _batch_head(ctx.company, inputs["ORNO"])["ORNR"]}


@transaction("OIS100MI", "GetHead")
def get_head(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    head = _head(ctx.company, inputs["ORNO"])
    yield {
        **head,
        "STAT": head["ORST"],
        "ORVA": head["NTAM"],
        "TOAM": head["BRAM"],
        "TOPY": head["BRAM"],
        "ONET": head["NTAM"],
    }


@transaction("OIS100MI", "LstHead")
def list_heads(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    cuno = customer(company, inputs["CUNO"])["CUNO"]
    low, high = inputs.get("ORSL") or "00", inputs.get("ORST") or "99"
    for head in company.table("OOHEAD").scan():
        if head["CUNO"] == cuno and low <= head["ORST"] <= high:
            yield {**head, "STAT": head["ORST"]}


@transaction("OIS100MI", "LstLine")
def list_lines(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    orno = _head(company, inputs["ORNO"])["ORNO"]
    for line in order_lines(company, orno):
        if inputs.get("ORST") and line["ORST"] != inputs["ORST"]:
            continue
        if inputs.get("ITNO") and line["ITNO"] != inputs["ITNO"]:
            continue
        yield {**line, "NEPR": line["SAPR"]}
