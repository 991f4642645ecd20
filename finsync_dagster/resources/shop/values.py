"""The shop's values at the boundary: money strings as ``Decimal``, offset timestamps as UTC, and back.

Shopify sends money as decimal strings ("67.52") and times in ISO 8601 with the shop's UTC offset
(contract 3.5, 3.6); finsync keeps ``Decimal`` and UTC inside. Pure, so the staging layer, the workflows
and tests read orders the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


def money(value: Any) -> Decimal:
    """A money value (``"67.52"``, or a JSON number already parsed as ``Decimal``) as ``Decimal``; never a float."""
    if isinstance(value, float):
        raise TypeError("money must never be a float; parse JSON with parse_float=Decimal")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return amount


def utc(value: str) -> datetime:
    """A Shopify timestamp (``2025-11-03T14:22:05-05:00``) as an aware UTC datetime."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return moment.astimezone(UTC)


def query_time(value: datetime) -> str:
    """A datetime for a ``*_min``/``*_max`` filter: UTC, to the second (rounded down), with its offset."""
    if value.tzinfo is None:
        raise ValueError("filter times must be timezone-aware (finsync keeps UTC inside)")
    return value.astimezone(UTC).replace(microsecond=0).isoformat()
