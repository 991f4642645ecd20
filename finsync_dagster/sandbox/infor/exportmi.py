"""EXPORTMI/Select: the SQL subset integrations send to read M3 tables directly.

Grammar (keywords in any case)::

    [select] COL[, COL...] | *  from TABLE  [where COL OP LITERAL [and COL OP LITERAL ...]]

(M3's own examples leave out ``select``: ``OKCUNO, OKCUNM from OCUSMA where OKCONO = 100``.)

Columns carry the table's two-letter prefix (``OKCUNO`` in ``OCUSMA``); ``OP`` is one of ``= <> != < <= > >=``;
a literal is a quoted string (``'A''B'``) or a number. Dates compare as ``yyyyMMdd`` numbers. Rows come in
the table's key order, so callers page with ``where KEY > 'last'`` and ``maxrecs``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from finsync_dagster.sandbox.infor.errors import BusinessError
from finsync_dagster.sandbox.infor.models import TABLES, Company, TableSpec

_QUERY = re.compile(
    r"^\s*(?:select\s+)?(?P<columns>.+?)\s+from\s+(?P<table>\w+)(?:\s+where\s+(?P<where>.+?))?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(
    r"^\s*(?P<column>\w+)\s*(?P<op><>|!=|<=|>=|=|<|>)\s*(?P<value>'(?:[^']|'')*'|-?\d+(?:\.\d+)?)\s*$",
    re.DOTALL,
)
_AND = re.compile(r"\s+and\s+(?=(?:[^']*'[^']*')*[^']*$)", re.IGNORECASE)
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Condition:
    column: str
    compare: Callable[[Any, Any], bool]
    literal: str | Decimal

    def holds(self, row: dict[str, Any]) -> bool:
        value = row.get(self.column)
        if isinstance(self.literal, Decimal):
            number = _as_number(value)
            return number is not None and self.compare(number, self.literal)
        return self.compare(export_value(value), self.literal)


@dataclass(frozen=True)
class Query:
    table: TableSpec
    columns: tuple[str, ...]  # without prefix
    conditions: tuple[Condition, ...]


def _fail(message: str) -> BusinessError:
    return BusinessError(message, field="QERY", code="EXP0001")


def _column(spec: TableSpec, name: str) -> str:
    upper = name.strip().upper()
    if not upper.startswith(spec.prefix) or upper[len(spec.prefix) :] not in spec.columns:
        raise _fail(f"Field {name.strip()} does not exist in table {spec.name}")
    return upper[len(spec.prefix) :]


def parse(text: str) -> Query:
    match = _QUERY.match(text)
    if match is None:
        raise _fail("Query must be: [select] COLUMNS from TABLE [where CONDITION and ...]")
    spec = TABLES.get(match["table"].upper())
    if spec is None:
        raise _fail(f"Table {match['table']} does not exist")
    raw_columns = match["columns"].strip()
    columns = (
        tuple(spec.columns) if raw_columns == "*" else tuple(_column(spec, c) for c in raw_columns.split(","))
    )
    conditions = []
    if match["where"]:
        for part in _AND.split(match["where"]):
            condition = _CONDITION.match(part)
            if condition is None:
                raise _fail(f"Condition {part.strip()!r} is not COLUMN OPERATOR VALUE")
            value = condition["value"]
            literal: str | Decimal = (
                value[1:-1].replace("''", "'") if value.startswith("'") else Decimal(value)
            )
            conditions.append(
                Condition(_column(spec, condition["column"]), _OPERATORS[condition["op"]], literal)
            )
    return Query(spec, columns, tuple(conditions))


def export_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, date):
        return Decimal(value.strftime("%Y%m%d"))
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def select(
    company: Company, text: str, separator: str, headers: bool, *, pad: bool = False
) -> Iterator[dict[str, str]]:
    """Yield ``{"REPL": ...}`` rows; a blank separator gives M3's flat, column-padded reply.

    ``pad`` is ``SelectPad``: every value blank-padded to its column's length (with or without a separator),
    so a reply splits by position whatever characters the values hold.
    """
    query = parse(text)
    prefix = query.table.prefix

    def reply(values: list[str]) -> str:
        if pad:
            values = [v.ljust(query.table.columns[c]) for v, c in zip(values, query.columns, strict=True)]
        if separator:
            return separator.join(values)
        padded = [v.ljust(query.table.columns[c]) for v, c in zip(values, query.columns, strict=True)]
        return "".join(padded).rstrip()

    if headers:
        yield {"REPL": reply([prefix + c for c in query.columns])}
    for row in company.table(query.table.name).scan():
        if all(condition.holds(row) for condition in query.conditions):
            yield {"REPL": reply([export_value(row.get(c)) for c in query.columns])}


def fields(text: str) -> Iterator[dict[str, str]]:
    """``LstFields``: each column of a table with its prefixed name and length."""
    spec = TABLES.get(text.strip().upper())
    if spec is None:
        raise BusinessError(f"Table {text.strip()} does not exist", field="FILE", code="EXP0001")
    for column, length in spec.columns.items():
        yield {"FLDN": spec.prefix + column, "FLDS": column, "FLTY": "A", "FLLE": str(length), "FLDP": "0"}
