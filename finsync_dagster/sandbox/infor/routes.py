"""Paths -> handlers, and nothing else. The emulated API and the ``/sandbox`` control plane never mix."""

from __future__ import annotations

from starlette.routing import Route

from finsync_dagster.sandbox.control import ControlPlane
from finsync_dagster.sandbox.infor import control
from finsync_dagster.sandbox.infor.backend import InforSandbox
from finsync_dagster.sandbox.infor.gateway import REVOKE_PATH, TOKEN_PATH
from finsync_dagster.sandbox.infor.handlers import MIHandlers

MI_PATH = "/M3/m3api-rest/v2/execute"
MI_BASE = "/{tenant}" + MI_PATH


def routes(sandbox: InforSandbox) -> list[Route]:
    tenant = sandbox.state.tenant
    gateway = sandbox.gateway
    mi = MIHandlers(sandbox.state)
    plane = ControlPlane(sandbox)
    return [
        Route(f"/{tenant}/as/{TOKEN_PATH}", gateway.token_endpoint, methods=["POST"]),
        Route(f"/{tenant}/as/{REVOKE_PATH}", gateway.revoke_endpoint, methods=["POST", "GET"]),
        Route(MI_BASE, mi.bulk, methods=["POST"]),
        Route(MI_BASE + "/{program}/{transaction}", mi.single, methods=["GET"]),
        *plane.routes(),
        # The Infor sandbox's first names for settings and token expiry, still used by tests and docs.
        Route("/sandbox/gateway", plane.settings, methods=["GET", "PUT", "POST"]),
        Route("/sandbox/gateway/expire-tokens", plane.expire_tokens, methods=["POST"]),
        *control.control_routes(sandbox),
    ]
