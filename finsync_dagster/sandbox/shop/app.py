"""The factory of one shop sandbox's ASGI app: routes and error envelope, then the Admin API's gate
(version, token, leaky bucket, common headers), then faults."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from finsync_dagster.sandbox.faults import FaultMiddleware
from finsync_dagster.sandbox.shop.backend import ShopSandbox
from finsync_dagster.sandbox.shop.errors import ShopError, exception_handler, injected, render, unauthorized
from finsync_dagster.sandbox.shop.gate import AdminGate
from finsync_dagster.sandbox.shop.handlers import not_found_handler
from finsync_dagster.sandbox.shop.routes import routes


def create_app(sandbox: ShopSandbox) -> ASGIApp:
    def render_revoked(_request: Request) -> Response:
        # The custom app's token cannot be refreshed: the answer a revoked (uninstalled) app gets.
        return render(unauthorized())

    app = Starlette(
        routes=routes(sandbox),
        exception_handlers={ShopError: exception_handler, 404: not_found_handler, 405: not_found_handler},
    )
    app.state.sandbox = sandbox
    gated = AdminGate(
        app, tokens=sandbox.tokens, bucket=sandbox.bucket, oldest_version=lambda: sandbox.oldest_version
    )
    return FaultMiddleware(
        gated,
        injector=sandbox.faults,
        render_status=lambda _request, status, retry_after: injected(status, retry_after),
        render_revoked=render_revoked,
    )
