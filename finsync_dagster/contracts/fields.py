"""Field and table descriptions shared by sources and targets, and the type families they fall into.

A mapping is checked by *family* (text, integer, decimal, date, timestamp, boolean, number), not by exact
SQL type: a DECIMAL(18,2) source feeds a DECIMAL(18,4) target, but a VARCHAR never silently becomes a date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

TEXT = "text"
INTEGER = "integer"
DECIMAL = "decimal"
DATE = "date"
TIMESTAMP = "timestamp"
BOOLEAN = "boolean"
JSON = "json"
NUMBER = "number"  # an M3 numeric input: integer or decimal, sent as a string
FAMILIES = (TEXT, INTEGER, DECIMAL, DATE, TIMESTAMP, BOOLEAN, JSON, NUMBER)

_SQL_FAMILIES = (
    (re.compile(r"^(DECIMAL|NUMERIC)"), DECIMAL),
    (re.compile(r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?\d*|UHUGEINT)$"), INTEGER),
    (re.compile(r"^DATE$"), DATE),
    (re.compile(r"^TIMESTAMP"), TIMESTAMP),
    (re.compile(r"^BOOL(EAN)?$"), BOOLEAN),
    (re.compile(r"^JSON$"), JSON),
    (re.compile(r"^(DOUBLE|FLOAT|REAL)"), DECIMAL),
)


def family_of(sql_type: str) -> str:
    """The family of a DuckDB type name; anything unrecognised is text."""
    upper = sql_type.strip().upper()
    for pattern, family in _SQL_FAMILIES:
        if pattern.match(upper):
            return family
    return TEXT


def accepts(target: str, source: str) -> bool:
    """Whether a value of family ``source`` may fill a ``target`` field without an explicit conversion."""
    if target == source:
        return True
    if target == DECIMAL:
        return source == INTEGER
    if target == NUMBER:
        return source in (INTEGER, DECIMAL)
    if target == TEXT:
        return source in (INTEGER, DECIMAL)
    return False


@dataclass(frozen=True)
class Field:
    """One column of a source table or one field of a target."""

    name: str
    family: str
    sql_type: str = "VARCHAR"
    required: bool = False
    length: int | None = None
    description: str = ""


@dataclass(frozen=True)
class TableSchema:
    """An ordered set of fields: a staging table, a core entity, an M3 transaction's inputs, an API body."""

    name: str
    fields: dict[str, Field] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def of(cls, name: str, fields: Iterable[Field], description: str = "") -> TableSchema:
        return cls(name, {f.name: f for f in fields}, description)

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def get(self, name: str) -> Field | None:
        return self.fields.get(name)

    @property
    def names(self) -> list[str]:
        return list(self.fields)

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.required]
