"""The MI runtime: common parameters, catalog validation, dispatch, and output formatting.

It turns one ``(program, transaction, record)`` into one entry of ``results[]``, the same for a single GET
and for each transaction of a bulk POST; only the HTTP layer (``handlers.py``) decides between a 400 with
the quartet and a per-result error.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from finsync_dagster.sandbox.infor.catalog import Transaction, catalog
from finsync_dagster.sandbox.infor.errors import (
    BusinessError,
    InputFieldTooLong,
    MandatoryInputFieldNotFound,
    MIError,
    ProgramNotFound,
    TransactionNotFound,
)
from finsync_dagster.sandbox.infor.models import Company, InforState
from finsync_dagster.sandbox.infor.transactions import handlers

# Transactions that only read; every other one (Add*, Chg*, Upd*, Del*, Confirm, Ctrl*, Approve*, ...) writes.
READ_PREFIXES = ("Get", "Lst", "List", "Search", "Select", "Check", "Fpw", "ServerTime")
DEFAULT_MAXRECS = 100  # M3's own default when a caller sends no maxrecs (contract 2.2, UNCONFIRMED)
DATE_FORMATS = ("YMD8", "YMD6", "MDY6", "DMY6", "YWD5", "YMD8-")
_TRUE = {"true", "1", "yes"}


@dataclass(frozen=True)
class CommonParams:
    cono: str | None = None
    divi: str | None = None
    maxrecs: int = DEFAULT_MAXRECS
    returncols: tuple[str, ...] | None = None
    excludeempty: bool = False
    righttrim: bool = True
    dateformat: str = "YMD8"
    extendedresult: bool = False

    @classmethod
    def parse(cls, values: Mapping[str, str]) -> CommonParams:
        """Read the lower-case common parameters (query or matrix); field names are upper case."""
        try:
            maxrecs = int(values.get("maxrecs", DEFAULT_MAXRECS) or DEFAULT_MAXRECS)
        except ValueError:
            raise BusinessError("maxrecs must be a number", field="maxrecs") from None
        if maxrecs < 0:
            raise BusinessError("maxrecs must not be negative", field="maxrecs")
        dateformat = values.get("dateformat", "YMD8") or "YMD8"
        if dateformat not in DATE_FORMATS:
            raise BusinessError(
                f"dateformat {dateformat} is not one of {', '.join(DATE_FORMATS)}", field="dateformat"
            )
        returncols = values.get("returncols")
        # S12's harness spells it "excludempty"; accept both.
        exclude = values.get("excludeempty", values.get("excludempty", "false"))
        return cls(
            cono=values.get("cono") or None,
            divi=values.get("divi") or None,
            maxrecs=maxrecs,
            returncols=tuple(c.strip() for c in returncols.split(",") if c.strip()) if returncols else None,
            excludeempty=exclude.lower() in _TRUE,
            righttrim=values.get("righttrim", "true").lower() in _TRUE,
            dateformat=dateformat,
            extendedresult=values.get("extendedresult", "false").lower() in _TRUE,
        )


@dataclass
class Context:
    """What a transaction handler may use: its company, the call's parameters, and date parsing."""

    company: Company
    params: CommonParams
    spec: Transaction

    def today(self) -> date:
        return self.company.today()

    def date(self, inputs: Mapping[str, str], field: str) -> date | None:
        """An input date in the call's ``dateformat`` (MI inputs are ``yyyyMMdd`` by default)."""
        raw = inputs.get(field, "")
        if not raw or raw.strip("0") == "":
            return None
        try:
            return parse_date(raw, self.params.dateformat)
        except ValueError:
            raise BusinessError(
                f"Date {raw} in field {field} is invalid", field=field, code="WDT0101"
            ) from None

    def decimal(
        self, inputs: Mapping[str, str], field: str, default: Decimal | None = None
    ) -> Decimal | None:
        raw = inputs.get(field, "")
        if not raw:
            return default
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise BusinessError(
                f"Input data in field {field} is not numeric", field=field, code="WNU0101"
            ) from None


def parse_date(raw: str, dateformat: str) -> date:
    if dateformat == "YMD8-":
        return date.fromisoformat(raw)
    if dateformat == "YWD5":
        return datetime.strptime(f"20{raw[:2]}-{raw[2:4]}-{raw[4]}", "%G-%V-%u").date()
    pattern = {"YMD8": "%Y%m%d", "YMD6": "%y%m%d", "MDY6": "%m%d%y", "DMY6": "%d%m%y"}[dateformat]
    return datetime.strptime(raw, pattern).date()


def format_date(value: date, dateformat: str) -> str:
    if dateformat == "YMD8-":
        return value.isoformat()
    if dateformat == "YWD5":
        year, week, weekday = value.isocalendar()
        return f"{year % 100:02d}{week:02d}{weekday}"
    pattern = {"YMD8": "%Y%m%d", "YMD6": "%y%m%d", "MDY6": "%m%d%y", "DMY6": "%d%m%y"}[dateformat]
    return value.strftime(pattern)


def m3_string(value: Any, dateformat: str = "YMD8") -> str:
    """M3 answers every value as a string: amounts keep their scale, absent values are empty."""
    if value is None:
        return ""
    if isinstance(value, date):
        return format_date(value, dateformat)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def is_read(transaction: str) -> bool:
    return transaction.startswith(READ_PREFIXES)


def lookup(program: str, transaction: str) -> Transaction:
    found = catalog().get(program)
    if found is None:
        raise ProgramNotFound(program)
    spec = found.transactions.get(transaction)
    if spec is None or (program, transaction) not in handlers():
        raise TransactionNotFound(program, transaction)
    return spec


def validate(spec: Transaction, record: Mapping[str, Any]) -> dict[str, str]:
    """Right-trim the inputs and check them against the catalog: presence, length, numbers."""
    inputs = {name: _as_text(value).rstrip() for name, value in record.items()}
    for field in spec.inputs:
        value = inputs.get(field.name)
        if value is None:
            if field.required:
                raise MandatoryInputFieldNotFound(field.name)
            continue
        if len(value) > field.length:
            raise InputFieldTooLong(field.name, field.length)
        if field.required and not value:
            raise BusinessError(f"{field.description} must be entered", field=field.name, code="WXX0102")
        if field.type == "number" and value:
            try:
                Decimal(value)
            except InvalidOperation:
                raise BusinessError(
                    f"Input data in field {field.name} is not numeric", field=field.name, code="WNU0101"
                ) from None
    return inputs


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def execute(
    state: InforState,
    program: str,
    transaction: str,
    record: Mapping[str, Any],
    params: CommonParams,
    *,
    cono: str | None = None,
) -> dict[str, Any]:
    """Run one transaction and return its ``results[]`` entry; raise :class:`MIError` on failure."""
    spec = lookup(program, transaction)
    inputs = validate(spec, record)
    chosen = inputs.get("CONO") or params.cono or cono
    company = state.company(chosen)
    if company is None:
        raise BusinessError(f"You are not authorized to company {chosen}", field="CONO", code="XAU0008")
    with state.lock:
        rows = handlers()[(program, transaction)](Context(company, params, spec), inputs)
        limit = params.maxrecs or None
        records = [project(spec, row, params) for row in itertools.islice(rows, limit)]
    result: dict[str, Any] = {"transaction": transaction}
    if params.extendedresult:
        result["parameters"] = dict(record)
    result["records"] = records
    return result


def project(spec: Transaction, row: Mapping[str, Any], params: CommonParams) -> dict[str, str]:
    names = spec.output_names
    if params.returncols:
        wanted = set(params.returncols)
        names = tuple(n for n in names if n in wanted)
    lengths = {f.name: f.length for f in spec.outputs}
    record = {}
    for name in names:
        text = m3_string(row.get(name), params.dateformat)
        if not params.righttrim:
            text = text.ljust(lengths[name])
        if params.excludeempty and not text.strip():
            continue
        record[name] = text
    return record


def envelope(results: list[dict[str, Any]]) -> dict[str, Any]:
    failed = sum(1 for r in results if "errorMessage" in r)
    return {
        "results": results,
        "wasTerminated": False,
        "nrOfSuccessfullTransactions": len(results) - failed,  # sic: M3 spells it with a double "l"
        "nrOfNotProcessedTransactions": 0,
        "nrOfFailedTransactions": failed,
    }


def failed_result(transaction: str, error: MIError) -> dict[str, Any]:
    return {"transaction": transaction, **error.quartet(), "notProcessed": False, "records": []}
