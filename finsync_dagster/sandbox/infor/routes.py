"""The URL map of the Infor sandbox, and the app factory that wires gateway, faults and handlers."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from finsync_dagster.sandbox.faults import FaultInjector, FaultMiddleware, faults_handler
from finsync_dagster.sandbox.infor.errors import gateway_error
from finsync_dagster.sandbox.infor.gateway import (
    REVOKE_PATH,
    TOKEN_PATH,
    Gateway,
    GatewayAuthMiddleware,
    GatewayTimeoutMiddleware,
)
from finsync_dagster.sandbox.infor.handlers import ControlHandlers, MIHandlers
from finsync_dagster.sandbox.infor.models import InforState

MI_BASE = "/{tenant}/M3/m3api-rest/v2/execute"


async def _http_error(_request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return gateway_error(status, "No API is published at this path" if status == 404 else str(exc))


def build_app(state: InforState, gateway: Gateway, injector: FaultInjector) -> ASGIApp:
    tenant = state.tenant
    mi = MIHandlers(state)
    control = ControlHandlers(state, gateway)
    routes = [
        Route(f"/{tenant}/as/{TOKEN_PATH}", gateway.token_endpoint, methods=["POST"]),
        Route(f"/{tenant}/as/{REVOKE_PATH}", gateway.revoke_endpoint, methods=["POST", "GET"]),
        Route(MI_BASE, mi.bulk, methods=["POST"]),
        Route(MI_BASE + "/{program}/{transaction}", mi.single, methods=["GET"]),
        Route("/sandbox/faults", faults_handler(injector), methods=["GET", "PUT", "POST", "DELETE"]),
        Route("/sandbox/orders/{orno}/deliver", control.deliver, methods=["POST"]),
        Route("/sandbox/orders/{orno}/invoice", control.invoice, methods=["POST"]),
        Route("/sandbox/gateway", control.gateway_settings, methods=["GET", "PUT", "POST"]),
        Route("/sandbox/gateway/expire-tokens", control.expire_tokens, methods=["POST"]),
        Route("/sandbox/clock", control.clock, methods=["GET", "POST"]),
        Route("/sandbox/truth", control.truth, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _http_error, 405: _http_error})
    authed = GatewayAuthMiddleware(app, gateway=gateway)
    faulted = FaultMiddleware(
        authed,
        injector=injector,
        render_status=lambda _request, status, retry_after: gateway_error(
            status,
            f"Injected gateway fault {status}",
            {"Retry-After": str(retry_after)} if status == 429 else None,
        ),
        render_revoked=gateway.revoke_presented,
    )
    return GatewayTimeoutMiddleware(faulted, gateway=gateway)
