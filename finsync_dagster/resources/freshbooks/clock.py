"""FreshBooks' clock at the boundary: accounting times are US/Eastern wall-clock, finsync's are UTC.

The ``updated`` filters are day-granular (``YYYY-MM-DD``, Eastern days, ``_min`` inclusive and ``_max``
exclusive; contract §3.4), so a UTC window is widened to whole Eastern days: the API may return a few
records outside the window, never miss one inside it. Callers upsert by id, so the overlap is harmless.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")


def day_on_or_before(value: date | datetime) -> str:
    """The ``updated_min`` day that includes ``value``."""
    return _eastern_day(value).isoformat()


def day_after(value: date | datetime) -> str:
    """The exclusive ``updated_max`` day that still includes ``value``."""
    return (_eastern_day(value) + timedelta(days=1)).isoformat()


def accounting_time_to_utc(text: str) -> datetime:
    """``"2019-11-14 11:27:45"`` (Eastern wall-clock, DST-aware) as an aware UTC datetime."""
    local = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=EASTERN)
    return local.astimezone(UTC)


def _eastern_day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a window bound must be timezone-aware (finsync works in UTC)")
        return value.astimezone(EASTERN).date()
    return value
