"""Infor's own ``/sandbox`` control routes, beside the shared ones of ``../control.py``.

``POST /sandbox/orders/{ORNO}/deliver`` and ``.../invoice`` (body ``{"date": "yyyy-MM-dd"}``, optional;
``?cono=`` picks the company) move a confirmed order on, as the warehouse and invoicing runs of M3 would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from finsync_dagster.sandbox.control import BadControlBody, control_body
from finsync_dagster.sandbox.infor import lifecycle
from finsync_dagster.sandbox.infor.backend import InforSandbox


def control_routes(sandbox: InforSandbox) -> list[Route]:
    state = sandbox.state

    def order_step(step: Callable[..., Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            company = state.company(request.query_params.get("cono"))
            if company is None:
                return JSONResponse({"error": "unknown company"}, status_code=404)
            try:
                body = await control_body(request)
            except BadControlBody as error:
                return JSONResponse({"error": str(error)}, status_code=400)
            when = lifecycle.parse_control_date(body.get("date"))
            with state.lock:
                try:
                    result = step(company, request.path_params["orno"], when)
                except lifecycle.LifecycleError as error:
                    return JSONResponse({"error": str(error)}, status_code=error.status)
            return JSONResponse(result)

        return endpoint

    return [
        Route("/sandbox/orders/{orno}/deliver", order_step(lifecycle.deliver), methods=["POST"]),
        Route("/sandbox/orders/{orno}/invoice", order_step(lifecycle.invoice), methods=["POST"]),
    ]
