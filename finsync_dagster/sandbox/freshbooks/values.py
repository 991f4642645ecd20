"""Value conventions of the FreshBooks API and the sandbox's internal forms of them (contract section 4).

Money is kept as integer cents and shown as ``{"amount": "12.50", "code": "USD"}``; quantities and
percentages travel as decimal strings; accounting timestamps are US/Eastern wall-clock text. Invoice and
bill lines are tuples; their statuses are derived when read, so they can never disagree with the amounts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.freshbooks.errors import invalid_value

EASTERN = ZoneInfo("America/New_York")

Record = dict[str, Any]


@lru_cache(maxsize=65536)
def eastern_text(epoch: float) -> str:
    """Accounting timestamps: US/Eastern wall-clock time without a zone (contract section 4)."""
    return datetime.fromtimestamp(epoch, EASTERN).strftime("%Y-%m-%d %H:%M:%S")


def utc_text(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso_z(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def today_eastern(clock: SandboxClock) -> str:
    """The Eastern date on the sandbox clock: day-granular filters and due dates count in it."""
    return datetime.fromtimestamp(clock.time(), EASTERN).date().isoformat()


def day_start(day: str, zone: tzinfo) -> float:
    """Epoch seconds of midnight starting ``day`` in ``zone``."""
    parsed = date.fromisoformat(day)
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=zone).timestamp()


@lru_cache(maxsize=65536)
def add_days(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


# -- money and decimal strings ---------------------------------------------------------------------


def cents_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


@lru_cache(maxsize=65536)
def money(cents: int, code: str) -> dict[str, str]:
    # Cached, so the same dict may appear in many responses: callers serialise it, never mutate it.
    return {"amount": cents_text(cents), "code": code}


def _decimal(raw: Any, *, object: str, field: str) -> Decimal:
    if isinstance(raw, dict):
        raw = raw.get("amount")
    if raw is None or isinstance(raw, bool) or str(raw).strip() == "":
        raise invalid_value(object, field, raw, f"Invalid number for field {field}.")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise invalid_value(object, field, raw, f"Invalid number for field {field}.") from None
    if not value.is_finite():
        raise invalid_value(object, field, raw, f"Invalid number for field {field}.")
    return value


def parse_cents(raw: Any, *, object: str, field: str) -> int:
    """A Money object, string or number -> integer cents (half-up to the cent)."""
    return int((_decimal(raw, object=object, field=field) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def decimal_text(raw: Any, *, object: str, field: str) -> str:
    """Quantities and percentages travel as strings ("4", "1.5", "13")."""
    value = _decimal(raw, object=object, field=field).normalize()
    return format(value, "f")


def percent_of(cents: int, percent: str) -> int:
    return int((Decimal(cents) * Decimal(percent) / 100).quantize(Decimal(1), ROUND_HALF_UP))


def parse_date(raw: Any, *, object: str, field: str) -> str:
    try:
        return date.fromisoformat(str(raw)[:10]).isoformat()
    except ValueError:
        raise invalid_value(object, field, raw, f"Invalid date for field {field}; use YYYY-MM-DD.") from None


def parse_int(raw: Any, *, object: str, field: str) -> int:
    if isinstance(raw, bool):
        raise invalid_value(object, field, raw)
    try:
        return int(str(raw).strip())
    except ValueError:
        raise invalid_value(object, field, raw, f"Invalid integer for field {field}.") from None


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, str):
        return raw.strip().lower() in ("1", "true", "yes")
    return bool(raw)


def text_or_none(raw: Any) -> str | None:
    return None if raw is None else str(raw)


class Line(NamedTuple):
    """An invoice line (contract 4.2); ``amount`` = qty x unit_cost, ``tax`` the line's tax in cents."""

    name: str
    description: str
    qty: str
    unit_cost: int
    tax_name1: str | None
    tax_amount1: str
    tax_name2: str | None
    tax_amount2: str
    amount: int
    tax: int


class BillLine(NamedTuple):
    categoryid: int
    description: str
    quantity: str
    unit_cost: int
    tax_name1: str | None
    tax_percent1: str
    tax_name2: str | None
    tax_percent2: str
    amount: int
    tax: int


def make_line(
    name: str,
    description: str,
    qty: str,
    unit_cost: int,
    tax_name1: str | None = None,
    tax_amount1: str = "0",
    tax_name2: str | None = None,
    tax_amount2: str = "0",
    discount_percent: str = "0",
) -> Line:
    amount = int((Decimal(qty) * unit_cost).quantize(Decimal(1), ROUND_HALF_UP))
    # Tax is computed on the discounted line amount (java-sdk fixture hint, contract 4.2; UNCONFIRMED).
    taxable = amount - percent_of(amount, discount_percent) if discount_percent != "0" else amount
    tax = percent_of(taxable, tax_amount1) if tax_name1 else 0
    tax += percent_of(taxable, tax_amount2) if tax_name2 else 0
    return Line(
        name, description, qty, unit_cost, tax_name1, tax_amount1, tax_name2, tax_amount2, amount, tax
    )


def invoice_totals(lines: Sequence[Line], discount_percent: str) -> tuple[int, int, int]:
    """(discount, tax, amount) in cents for an invoice's lines and its discount percentage."""
    subtotal = sum(line.amount for line in lines)
    discount = percent_of(subtotal, discount_percent) if discount_percent != "0" else 0
    tax = sum(line.tax for line in lines)
    return discount, tax, subtotal - discount + tax


# -- invoice and bill states derived at read time -------------------------------------------------


def invoice_payment_status(rec: Record) -> str:
    if rec["amount"] > 0 and rec["paid"] >= rec["amount"]:
        return "paid"
    return "partial" if rec["paid"] > 0 else "unpaid"


def invoice_v3_status(rec: Record, today: str) -> str:
    payment_status = invoice_payment_status(rec)
    if payment_status != "unpaid":
        return payment_status
    if rec["sent"] == "draft":
        return "draft"
    if add_days(rec["create_date"], rec["due_offset_days"]) < today:
        return "overdue"
    return rec["sent"]  # sent | viewed


INVOICE_STATUS_CODES = {"draft": 1, "sent": 2, "viewed": 3, "overdue": 2, "paid": 4, "partial": 8}


def invoice_status(rec: Record, today: str) -> int:
    return INVOICE_STATUS_CODES[invoice_v3_status(rec, today)]


def bill_status(rec: Record, today: str) -> str:
    if rec["amount"] > 0 and rec["paid"] >= rec["amount"]:
        return "paid"
    if rec["paid"] > 0:
        return "partial"
    return "overdue" if add_days(rec["issue_date"], rec["due_offset_days"]) < today else "unpaid"


COMPUTED: dict[tuple[str, str], Callable[[Record, str], Any]] = {
    ("invoices", "v3_status"): invoice_v3_status,
    ("invoices", "status"): invoice_status,
    ("invoices", "payment_status"): lambda rec, _today: invoice_payment_status(rec),
    ("bills", "status"): bill_status,
}
