"""Who is asking: the session middleware, the role guards every endpoint wears, and sign-in/sign-out.

The middleware refuses every request without a live session before any endpoint runs, except the sign-in
page and the static files (``PUBLIC``), so a page added later cannot forget to ask. ``page`` and
``action`` then check the role; ``action`` also checks the CSRF token (``csrf.checked``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from finsync_dagster.console import csrf
from finsync_dagster.console.web import (
    SESSION_SCOPE_KEY,
    console_of,
    current,
    internal_path,
    render,
    root_of,
    session_of,
)
from finsync_dagster.ledger import Role

SESSION_COOKIE = "finsync_session"
PUBLIC = ("/login", "/static/")

Endpoint = Callable[[Request], Awaitable[Response]]


class SessionMiddleware:
    """Loads the session named by the cookie; answers for itself when there is none."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        token = connection.cookies.get(SESSION_COOKIE)
        found = None
        if token:
            found = await run_in_threadpool(console_of(connection).ledger.session, token)
        scope[SESSION_SCOPE_KEY] = found
        path = internal_path(scope)
        if found is None and not path.startswith(PUBLIC):
            await _unauthenticated(connection, scope["method"])(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _unauthenticated(connection: HTTPConnection, method: str) -> Response:
    path = internal_path(connection.scope)
    if path.startswith("/api/"):
        return JSONResponse({"error": "sign in first"}, status_code=401)
    if method in ("GET", "HEAD"):
        target = path + (f"?{connection.url.query}" if connection.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return PlainTextResponse("sign in first", status_code=401)


def _forbidden(request: Request, needed: Role) -> Response:
    return render(
        request,
        "forbidden.html.j2",
        status_code=403,
        needed=needed,
    )


def page(needed: Role = Role.VIEWER) -> Callable[[Endpoint], Endpoint]:
    """A page (GET) that ``needed`` or a higher role may see."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            if not current(request).user.role.allows(needed):
                return _forbidden(request, needed)
            return await endpoint(request)

        return guarded

    return wrap


def action(
    needed: Role = Role.REVIEWER,
) -> Callable[[Callable[[Request, FormData], Awaitable[Response]]], Endpoint]:
    """A request that changes something: the session's CSRF token, then ``needed`` or a higher role."""

    def wrap(endpoint: Callable[[Request, FormData], Awaitable[Response]]) -> Endpoint:
        async def allowed(request: Request, form: FormData) -> Response:
            if not current(request).user.role.allows(needed):
                return _forbidden(request, needed)
            return await endpoint(request, form)

        guarded = csrf.checked(lambda request: current(request).csrf_token)(wraps(endpoint)(allowed))
        return guarded

    return wrap


# -- sign in, sign out ---------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a path of this console: never another site (an open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _client_ip(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"


async def login_page(request: Request) -> Response:
    if session_of(request) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    return _login_form(request, next_path=request.query_params.get("next"))


def _login_form(
    request: Request, *, next_path: str | None, error: str | None = None, status: int = 200
) -> Response:
    token = request.cookies.get(csrf.LOGIN_COOKIE) or csrf.new_token()
    response = render(
        request,
        "login.html.j2",
        status_code=status,
        login_token=token,
        next_path=_safe_next(next_path),
        error=error,
    )
    response.set_cookie(
        csrf.LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=f"{root_of(request.scope)}/login",
    )
    return response


async def _login(request: Request, form: FormData) -> Response:
    console = console_of(request)
    config = console.config
    name = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    ip = _client_ip(request)
    next_path = str(form.get("next") or "/")
    ledger = console.ledger
    user_failures = await run_in_threadpool(
        lambda: ledger.recent_login_failures(name=name, window=config.lockout)
    )
    ip_failures = await run_in_threadpool(lambda: ledger.recent_login_failures(ip=ip, window=config.lockout))
    if user_failures >= config.max_failures_per_user or ip_failures >= config.max_failures_per_ip:
        minutes = int(config.lockout.total_seconds() // 60)
        return _login_form(
            request,
            next_path=next_path,
            error=f"Too many failed attempts. Try again in {minutes} minutes.",
            status=429,
        )
    user = await run_in_threadpool(ledger.verify_password, name, password) if name and password else None
    await run_in_threadpool(lambda: ledger.record_login(name=name, ip=ip, ok=user is not None))
    if user is None:
        return _login_form(request, next_path=next_path, error="Wrong user name or password.", status=401)
    token, _ = await run_in_threadpool(
        lambda: ledger.open_session(user, ip=ip, lifetime=config.session_lifetime)
    )
    response = RedirectResponse(_safe_next(next_path), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(config.session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=f"{root_of(request.scope)}/",
    )
    response.delete_cookie(csrf.LOGIN_COOKIE, path=f"{root_of(request.scope)}/login")
    return response


login = csrf.checked(lambda request: request.cookies.get(csrf.LOGIN_COOKIE))(_login)


@action(Role.VIEWER)
async def logout(request: Request, form: FormData) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(console_of(request).ledger.close_session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=f"{root_of(request.scope)}/")
    return response
