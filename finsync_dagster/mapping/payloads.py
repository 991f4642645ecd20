"""Mapped rows in the shape each API takes: M3 input records of strings, FreshBooks JSON bodies.

M3 receives every value as a string and an absent field as no field at all; FreshBooks takes nested
objects (``amount.amount``/``amount.code`` become ``{"amount": {"amount": .., "code": ..}}``) with money
as decimal strings, never floats.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def m3_records(table: pa.Table) -> list[dict[str, str]]:
    """One MI input record per row; empty fields left out, as M3 expects."""
    return [
        {
            name: str(value)
            for name, value in row.items()
            if value not in (None, "") and not name.startswith("_")
        }
        for row in table.to_pylist()
    ]


def freshbooks_bodies(table: pa.Table) -> list[dict[str, Any]]:
    """One request body per row, dotted field names nested into objects."""
    bodies = []
    for row in table.to_pylist():
        body: dict[str, Any] = {}
        for name, value in row.items():
            if value is None:
                continue
            head, _, tail = name.partition(".")
            if tail:
                body.setdefault(head, {})[tail] = _json_value(value)
            else:
                body[head] = _json_value(value)
        bodies.append(body)
    return bodies
