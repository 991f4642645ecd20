"""Who may steer a sandbox: anyone on loopback, only holders of the control token anywhere else.

The control plane (``/sandbox/...``) resets data, moves clocks and injects faults, so a sandbox bound to
a non-loopback address (``finsync sandbox --host 0.0.0.0``) would let anyone on the network do that. The
runner generates a token at every start and writes it to ``sandbox.json`` (mode 0600) as
``control_token``; off loopback every ``/sandbox`` request must carry it in :data:`TOKEN_HEADER`. On
loopback the plane stays open, as tests, benchmarks and the demo expect. The emulated APIs are never
touched: they keep their own authentication.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_HEADER = "X-Sandbox-Token"
TOKEN_KEY = "control_token"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and 127.0.0.0/8 or ``::1``; anything else (``0.0.0.0``, a name) is exposed."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, sandbox_file: str) -> str:
    return (
        f"WARNING: --host {host} is not a loopback address. The sandboxes' demo data and their local app "
        "credentials can be reached from other machines. The control plane (/sandbox/...) now refuses "
        f"any request without the header {TOKEN_HEADER}: <{TOKEN_KEY} from {sandbox_file}>. "
        "Use the default --host 127.0.0.1 unless another machine must reach them."
    )


def is_control_path(path: str) -> bool:
    return path == "/sandbox" or path.startswith("/sandbox/")


class ControlTokenMiddleware:
    """Refuse ``/sandbox`` requests without the control token (401); pass everything else through."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_control_path(scope["path"]) and not self._authorized(scope):
            response = JSONResponse(
                {"error": f"the control plane needs the {TOKEN_HEADER} header ({TOKEN_KEY} in sandbox.json)"},
                status_code=401,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        wanted = TOKEN_HEADER.lower().encode()
        sent = [value for name, value in scope["headers"] if name == wanted]
        return len(sent) == 1 and hmac.compare_digest(sent[0], self.token)
