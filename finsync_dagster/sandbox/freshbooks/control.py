"""FreshBooks' own ``/sandbox`` control routes, beside the shared ones of ``../control.py``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from finsync_dagster.sandbox.freshbooks.backend import FreshBooksSandbox


def control_routes(sandbox: FreshBooksSandbox) -> list[Route]:
    async def deliveries(_request: Request) -> Response:
        """GET: every webhook delivery attempt so far, oldest first."""
        return JSONResponse({"deliveries": list(sandbox.webhooks.deliveries)})

    return [Route("/sandbox/webhooks/deliveries", deliveries, methods=["GET"])]
