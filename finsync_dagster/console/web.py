"""What every page handler shares: the console's state, the signed-in session, rendering, flashes, audit.

Templates are Jinja2 with autoescape on; record text also passes ``visible`` (control and direction
characters shown as escapes, as in the reports), so a name holding markup or a U+202E shows as text.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import jinja2
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from finsync_dagster.console.config import ConsoleConfig
from finsync_dagster.console.writeback import Planner
from finsync_dagster.ledger import Ledger, Session
from finsync_dagster.reports.html import money
from finsync_dagster.reports.text import visible
from finsync_dagster.settings import Settings

SESSION_SCOPE_KEY = "finsync.session"
NAV = (
    ("overview", "/", "Pairs"),
    ("review", "/review", "Review"),
    ("dead_letters", "/dead-letters", "Dead letters"),
    ("approvals", "/approvals", "Approvals"),
    ("mapping", "/mapping", "Mapping studio"),
    ("reports", "/reports", "Reports"),
)


@dataclass
class Console:
    """Everything the handlers need, built once by ``create_app``."""

    settings: Settings
    ledger: Ledger
    config: ConsoleConfig
    templates: jinja2.Environment
    planner: Planner | None
    dagster_url: str | None
    flashes: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    caches: dict[str, Any] = field(default_factory=dict)


def console_of(request: HTTPConnection) -> Console:
    console: Console = request.app.state.console
    return console


def session_of(request: HTTPConnection) -> Session | None:
    found = request.scope.get(SESSION_SCOPE_KEY)
    return found if isinstance(found, Session) else None


def current(request: HTTPConnection) -> Session:
    found = session_of(request)
    if found is None:  # the session middleware lets nobody past without one
        raise PermissionError("no session")
    return found


def root_of(scope: Any) -> str:
    """The prefix the console is served under (``--root-path``, e.g. ``/console`` behind a proxy), or ''."""
    return str(scope.get("root_path") or "").rstrip("/")


def internal_path(scope: Any) -> str:
    """The request's path within the console (without the root path a server may have prepended)."""
    path = str(scope.get("path") or "/")
    root = root_of(scope)
    return path[len(root) :] or "/" if root and path.startswith(root + "/") else path


def flash(request: Request, kind: str, text: str) -> None:
    """A message shown once on the session's next page (``kind``: ok, error, info)."""
    console_of(request).flashes[current(request).ref].append((kind, text))


def see_other(path: str) -> Response:
    """After a form post: the page to show (POST-redirect-GET, so a reload repeats nothing). ``path`` is
    within the console; the security-headers middleware puts the root path in front."""
    return RedirectResponse(path, status_code=303)


def audit(request: Request, *, pair: str, call: str, outcome: str, error: str | None = None) -> None:
    """Log what the signed-in person did in the ledger's audit log, under their name."""
    console_of(request).ledger.audit(
        pair=pair, call=call, outcome=outcome, actor=current(request).user.name, error=error
    )


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    console = console_of(request)
    signed_in = session_of(request)
    flashes = console.flashes.pop(signed_in.ref, []) if signed_in else []
    page = console.templates.get_template(template).render(
        request=request,
        root=root_of(request.scope),
        user=signed_in.user if signed_in else None,
        csrf_token=signed_in.csrf_token if signed_in else "",
        nav=NAV,
        flashes=flashes,
        pairs=console.settings.pair_names,
        dagster_url=console.dagster_url,
        **context,
    )
    return HTMLResponse(page, status_code=status_code)


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def ago(value: datetime | timedelta | None) -> str:
    """'3 min', '2 h 5 min', '4 days': how long ago, or how long."""
    if value is None:
        return ""
    span = value if isinstance(value, timedelta) else datetime.now(UTC) - value
    minutes = max(int(span.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"


def shown_money(amount: Decimal | str | None, currency: str | None) -> str:
    if amount is None or amount == "":
        return ""
    return money(Decimal(str(amount)), currency)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("finsync_dagster.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(visible=visible, when=when, ago=ago, money=shown_money)
    return env
