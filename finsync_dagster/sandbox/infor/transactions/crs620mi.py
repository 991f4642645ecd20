"""CRS620MI, suppliers (table CIDMAS) and their addresses (CIDADR).

The caller picks the supplier number (``SUNO``, required, 10), so an ``AddSupplier`` whose answer was lost
is sent again safely: the second one answers "already exists" and ``GetBasicData`` returns the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from finsync_dagster.sandbox.infor.errors import BusinessError, already_exists, not_found
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.models import Company, Row
from finsync_dagster.sandbox.infor.transactions import transaction

_BASIC = (
    "SUNM", "SUTY", "ALSU", "STAT", "CSCD", "ECAR", "LNCD", "DTFM", "ORTY", "DT4T", "DTCD", "CUCD", "CRTP",
    "ATPR", "TEPY", "PYME", "VTCD", "TXAP", "PHNO", "PHN2", "TFNO", "VRNO", "CORG", "COR2", "SUCL", "SUCO",
    "SUAL", "SUCM", "TINO", "PRSU",
)  # fmt: skip
_ADDRESS = ("SUNM", "ADR1", "ADR2", "ADR3", "ADR4", "TOWN", "ECAR", "PONO", "CSCD", "PNOD", "PRIA")
ACTIVE = "20"


def supplier(company: Company, suno: str, field: str = "SUNO") -> Row:
    row = company.table("CIDMAS").get(company.cono, suno)
    if row is None:
        raise not_found("Supplier", suno, field, code="WSU0203")
    return row


@transaction("CRS620MI", "AddSupplier")
def add_supplier(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    if company.table("CIDMAS").get(company.cono, inputs["SUNO"]) is not None:
        raise already_exists("Supplier", inputs["SUNO"], "SUNO", code="WSU0201")
    row: Row = {name: "" for name in _BASIC}
    row.update({name: inputs[name] for name in _BASIC if inputs.get(name)})
    row.update(CONO=company.cono, SUNO=inputs["SUNO"], STAT=inputs.get("STAT") or ACTIVE)
    row["TEPY"] = row["TEPY"] or "30"
    company.table("CIDMAS").insert(company.touch(row, new=True))
    yield {"SUNO": row["SUNO"], "STAT": row["STAT"]}


@transaction("CRS620MI", "UpdSupplier")
def update_supplier(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Sets the fields sent; a name sent blank is refused (a supplier always has one)."""
    row = supplier(ctx.company, inputs["SUNO"])
    changes = {name: inputs[name] for name in _BASIC if name in inputs}
    if "SUNM" in changes and not changes["SUNM"]:
        raise BusinessError("Supplier name must be entered", field="SUNM", code="WSU0102")
    row.update(changes)
    ctx.company.touch(row)
    return iter(())


@transaction("CRS620MI", "GetBasicData")
def get_basic_data(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    yield supplier(ctx.company, inputs["SUNO"])


@transaction("CRS620MI", "LstByNumber")
def list_by_number(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Suppliers from ``SUNO`` on, in number order."""
    for row in ctx.company.table("CIDMAS").scan():
        if row["SUNO"] >= inputs["SUNO"]:
            yield row


@transaction("CRS620MI", "LstSuppliers")
def list_suppliers(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Suppliers ``FRSU`` to ``TOSU`` (inclusive), changed at or after ``LMTS`` when it is given."""
    low, high = inputs.get("FRSU", ""), inputs.get("TOSU") or "\uffff"
    since = int(inputs["LMTS"]) if inputs.get("LMTS") else None
    for row in ctx.company.table("CIDMAS").scan():
        if low <= row["SUNO"] <= high and (since is None or row["LMTS"] >= since):
            yield row


@transaction("CRS620MI", "DelSupplier")
def delete_supplier(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    row = supplier(company, inputs["SUNO"])
    suno = row["SUNO"]
    if company.table("FAPIBH").where("SUNO", suno) or any(
        entry["SUNO"] == suno for entry in company.table("FPLEDG").scan()
    ):
        raise BusinessError(f"Supplier {suno} is in use and cannot be deleted", field="SUNO", code="WSU0205")
    for address in company.table("CIDADR").where("SUNO", suno):
        company.table("CIDADR").delete(address)
    company.table("CIDMAS").delete(row)
    return iter(())


def _address_key(ctx: Context, inputs: dict[str, str]) -> tuple[Any, ...]:
    return (
        ctx.company.cono,
        inputs["SUNO"],
        int(inputs["ADTE"]),
        inputs.get("ADID", ""),
        ctx.date(inputs, "STDT") or ctx.today(),
    )


@transaction("CRS620MI", "AddAddress")
def add_address(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    company = ctx.company
    supplier(company, inputs["SUNO"])
    key = _address_key(ctx, inputs)
    if company.table("CIDADR").get(*key) is not None:
        raise already_exists("Address", f"{key[2]}/{key[3] or '-'}", "ADTE", code="WSU0211")
    row: Row = {name: "" for name in _ADDRESS}
    row.update({name: inputs[name] for name in _ADDRESS if inputs.get(name)})
    row.update(CONO=key[0], SUNO=key[1], ADTE=key[2], ADID=key[3], STDT=key[4])
    company.table("CIDADR").insert(company.touch(row, new=True))
    return iter(())


@transaction("CRS620MI", "GetAddress")
def get_address(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The supplier's first address matching the address type and id given (any, when not given)."""
    supplier(ctx.company, inputs["SUNO"])
    for row in ctx.company.table("CIDADR").where("SUNO", inputs["SUNO"]):
        if (not inputs.get("ADTE") or row["ADTE"] == int(inputs["ADTE"])) and (
            not inputs.get("ADID") or row["ADID"] == inputs["ADID"]
        ):
            yield row
            return
    raise not_found("Address of supplier", inputs["SUNO"], "SUNO", code="WSU0213")


@transaction("CRS620MI", "LstAddresses")
def list_addresses(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    supplier(ctx.company, inputs["SUNO"])
    yield from ctx.company.table("CIDADR").where("SUNO", inputs["SUNO"])
