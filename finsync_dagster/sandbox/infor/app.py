"""The factory of one Infor sandbox's ASGI app: routes, then gateway auth, faults and the gateway timeout."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from finsync_dagster.sandbox.faults import FaultMiddleware
from finsync_dagster.sandbox.infor.backend import InforSandbox
from finsync_dagster.sandbox.infor.errors import gateway_error
from finsync_dagster.sandbox.infor.gateway import GatewayAuthMiddleware, GatewayTimeoutMiddleware
from finsync_dagster.sandbox.infor.routes import routes


async def _http_error(_request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return gateway_error(status, "No API is published at this path" if status == 404 else str(exc))


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
    )
    return GatewayTimeoutMiddleware(faulted, gateway=gateway)
