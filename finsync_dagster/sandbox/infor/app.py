"""The factory of one Infor sandbox's ASGI app: routes, then gateway auth, faults and the gateway timeout."""

from __future__ import annotations

import json
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Scope

from finsync_dagster.sandbox.faults import FaultMiddleware
from finsync_dagster.sandbox.infor.backend import InforSandbox
from finsync_dagster.sandbox.infor.errors import gateway_error
from finsync_dagster.sandbox.infor.gateway import GatewayAuthMiddleware, GatewayTimeoutMiddleware
from finsync_dagster.sandbox.infor.handlers import split_matrix
from finsync_dagster.sandbox.infor.mi import is_read
from finsync_dagster.sandbox.infor.routes import MI_PATH, routes

_SINGLE = MI_PATH + "/"


async def _http_error(_request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return gateway_error(status, "No API is published at this path" if status == 404 else str(exc))


def changes_state(scope: Scope, body: bytes) -> bool:
    """An MI call that writes: a single GET of a non-read transaction, or a bulk POST holding one."""
    path = unquote(scope["path"])
    marker = path.find(_SINGLE)
    if scope["method"] == "GET" and marker >= 0:
        transaction, _ = split_matrix(path[marker + len(_SINGLE) :].partition("/")[2])
        return bool(transaction) and not is_read(transaction)
    if scope["method"] != "POST" or not path.endswith(MI_PATH):
        return False  # the OAuth endpoints are not MI writes
    try:
        items = json.loads(body or b"{}").get("transactions") or []
        names = [str(item.get("transaction", "")) for item in items]
    except (ValueError, AttributeError):
        return False  # refused as malformed before anything is applied
    return any(name and not is_read(name) for name in names)


def create_app(sandbox: InforSandbox) -> ASGIApp:
    gateway = sandbox.gateway
    app = Starlette(routes=routes(sandbox), exception_handlers={404: _http_error, 405: _http_error})
    authed = GatewayAuthMiddleware(app, gateway=gateway)
    faulted = FaultMiddleware(
        authed,
        injector=sandbox.faults,
        render_status=lambda _request, status, retry_after: gateway_error(
            status,
            f"Injected gateway fault {status}",
            {"Retry-After": str(retry_after)} if status == 429 else None,
        ),
        render_revoked=gateway.revoke_presented,
        is_write=changes_state,
    )
    return GatewayTimeoutMiddleware(faulted, gateway=gateway)
