"""What several commands share: times as people type and read them, JSON for scripts, who is acting."""

from __future__ import annotations

import getpass
import json
import os
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import click

from finsync_dagster.ledger import Ledger
from finsync_dagster.settings import Settings, load_settings

_RELATIVE = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """``2h``, ``30m``, ``1d``, ``1w`` ago, or an ISO time (UTC unless it names its offset)."""
    now = now or datetime.now(UTC)
    relative = _RELATIVE.fullmatch(text.strip().lower())
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is neither a time ago (30m, 2h, 1d, 1w) nor an ISO time (2026-12-01T08:00:00Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class SinceType(click.ParamType):
    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        return value if isinstance(value, datetime) else parse_since(str(value))


SINCE = SinceType()


def utc_text(value: datetime | None) -> str | None:
    """A time as scripts and people read it: ISO 8601 in UTC to the second, ``Z``-suffixed."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def age_text(seconds: float | None) -> str:
    """``3d 4h``, ``5h 12m``, ``12m``, ``40s``: how long ago, or how long something has waited."""
    if seconds is None:
        return "-"
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def actor() -> str:
    """Who is acting, for the audit log: the operating-system user running the command."""
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def echo_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=_default))


def open_ledger(ctx: click.Context) -> tuple[Settings, Ledger]:
    """The settings (a missing config file means no pairs) and the migrated ledger."""
    settings = load_settings(ctx.obj["config_path"], require_file=False)
    ledger = Ledger(settings.ledger_url)
    ledger.migrate()
    return settings, ledger
