"""The console's app factory: routes, the session middleware, the security headers, one ``Console``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finsync_dagster.console import auth, csrf
from finsync_dagster.console.config import ConsoleConfig, dagster_url_from_home
from finsync_dagster.console.pages import approvals, dead_letters, mapping, overview, reports, review
from finsync_dagster.console.web import Console, environment, internal_path, root_of
from finsync_dagster.console.writeback import find_planner
from finsync_dagster.ledger import Ledger
from finsync_dagster.settings import Settings

_STATIC = __file__.rsplit("/", 1)[0] + "/static"
# Our pages load only our own script and style sheet; nothing may frame them or post them elsewhere.
_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """Adds the headers every answer gets; pages also get the CSP and are never cached. A redirect within
    the console gets the root path in front (served under ``/console`` behind a proxy)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in _HEADERS if n not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", _POLICY.encode()))
                if not internal_path(scope).startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                root = root_of(scope).encode()
                if root:
                    headers = [
                        (n, root + v if n.lower() == b"location" and v.startswith(b"/") and not v.startswith(b"//")
                         and not v.startswith(root + b"/") else v)
                        for n, v in headers
                    ]  # fmt: skip
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def routes() -> list[BaseRoute]:
    return [
        Route("/login", auth.login_page, methods=["GET"]),
        Route("/login", auth.login, methods=["POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/", overview.overview, methods=["GET"]),
        Route("/api/pairs", overview.overview_json, methods=["GET"]),
        Route("/review", review.review, methods=["GET"]),
        Route("/review/rematch", review.rematch, methods=["GET"]),
        Route("/review/accept", review.accept, methods=["POST"]),
        Route("/review/reject", review.reject, methods=["POST"]),
        Route("/review/batch-accept", review.batch_accept, methods=["POST"]),
        Route("/review/ignore", review.ignore, methods=["POST"]),
        Route("/review/undo", review.undo, methods=["POST"]),
        Route("/review/create", review.create, methods=["POST"]),
        Route("/dead-letters", dead_letters.dead_letters, methods=["GET"]),
        Route("/dead-letters/retry", dead_letters.retry, methods=["POST"]),
        Route("/dead-letters/resolve", dead_letters.resolve, methods=["POST"]),
        Route("/dead-letters/group", dead_letters.group_action, methods=["POST"]),
        Route("/approvals", approvals.approvals, methods=["GET"]),
        Route("/mapping", mapping.mapping_index, methods=["GET"]),
        Route("/mapping/studio", mapping.studio_page, methods=["GET"]),
        Route("/mapping/studio", mapping.studio_post, methods=["POST"]),
        Route("/mapping/preview", mapping.studio_preview, methods=["POST"]),
        Route("/mapping/save", mapping.studio_save, methods=["POST"]),
        Route("/reports", reports.reports, methods=["GET"]),
        Route("/reports/{pair}/{run}/{name}", reports.report_file, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=_STATIC), name="static"),
    ]


def _require_csrf(table: list[BaseRoute]) -> None:
    """Refuse to build an app with a state-changing route that does not check the CSRF token."""
    for route in table:
        if not isinstance(route, Route):
            continue
        changes = (route.methods or set()) - {"GET", "HEAD"}
        if changes and not getattr(route.endpoint, csrf.CHECKED, False):
            raise RuntimeError(f"{route.path} changes state but does not check the CSRF token")


async def _not_found(request: object, exc: Exception) -> Response:
    return Response("not found", status_code=404, media_type="text/plain")


def create_app(
    settings: Settings, ledger: Ledger | None = None, config: ConsoleConfig | None = None
) -> Starlette:
    """The console for ``settings``' pairs; its ledger is migrated here (the users table is in it)."""
    config = config or ConsoleConfig()
    ledger = ledger or Ledger(settings.ledger_url)
    ledger.migrate()
    table = routes()
    _require_csrf(table)
    app = Starlette(
        routes=table,
        middleware=[Middleware(SecurityHeaders), Middleware(auth.SessionMiddleware)],
        exception_handlers={404: _not_found},
    )
    app.state.console = Console(
        settings=settings,
        ledger=ledger,
        config=config,
        templates=environment(),
        planner=find_planner(),
        dagster_url=config.dagster_url or dagster_url_from_home(settings),
    )
    return app
