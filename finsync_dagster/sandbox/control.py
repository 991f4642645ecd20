"""The control plane every sandbox serves under ``/sandbox``, the same on every system.

Tests, the demo and benchmarks steer a sandbox through it; it is never faulted, never rate limited and
never called by production code. Off loopback every ``/sandbox`` route needs the control token
(``control_auth.py``), and no answer carries a client secret. A system's backend answers the :class:`ControlledSandbox` protocol and
:class:`ControlPlane` turns it into these routes (bodies are JSON; a bad body is 400 ``{"error": ...}``):

- ``GET /sandbox``: the system's ``sandbox.json`` section, less its secrets, plus ``counts`` (records per
  table);
- ``POST /sandbox/reset`` ``{"seed": "demo" | "empty", "scale": N}``: rebuild the data from a seed (by
  default the one it started with); answers as ``GET /sandbox``. Tokens, settings and faults stay;
- ``GET | PUT | POST /sandbox/clock``: GET shows ``{"now", "epoch", "frozen", "offset_seconds"}``; a body
  ``{"advance": seconds}`` moves it on, ``{"now": ISO-8601 | epoch, "frozen": bool}`` jumps (and freezes
  or not), ``{"frozen": false}`` alone lets a frozen clock run again;
- ``GET | PUT | POST | DELETE /sandbox/faults``: the fault plan of ``faults.py``;
- ``POST /sandbox/tokens/expire``: every live access token expires now (refresh tokens stay usable);
  answers ``{"expired": n}``;
- ``GET | PUT | POST /sandbox/settings``: the system's own knobs (rate limits, token lifetimes, ...);
  unknown names are the system's call;
- ``GET /sandbox/truth``: the demo seed's planted truth (``{}`` for other seeds).

Each system adds routes of its own beside these (FreshBooks' webhook deliveries, Infor's order steps, the
shop's shoppers and merchant), declared in its ``routes.py``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from finsync_dagster.sandbox import SEEDS
from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.faults import FaultInjector, faults_endpoint


class ControlledSandbox(Protocol):
    """What a system's backend offers the shared control plane."""

    @property
    def clock(self) -> SandboxClock: ...

    @property
    def faults(self) -> FaultInjector: ...

    @property
    def scale(self) -> int | None: ...

    @property
    def truth(self) -> dict[str, Any] | None: ...

    def describe(self) -> dict[str, Any]: ...

    def reset(self, seed: str | None = None, scale: int | None = None) -> None: ...

    def expire_tokens(self) -> int: ...

    def settings(self) -> dict[str, Any]: ...

    def update_settings(self, values: dict[str, Any]) -> None:
        """Apply the named settings; raise ValueError or TypeError to answer 400."""
        ...


class BadControlBody(ValueError):
    pass


async def control_body(request: Request) -> dict[str, Any]:
    """The JSON object of a control request; an empty body is ``{}``."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise BadControlBody("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadControlBody("the body must be a JSON object")
    return body


def _error(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=400)


def move_clock(clock: SandboxClock, body: dict[str, Any]) -> None:
    """Apply one ``/sandbox/clock`` body (see the module docstring) to ``clock``."""
    if "advance" in body:
        clock.advance(float(body["advance"]))
    elif "now" in body:
        now = body["now"]
        when = (
            float(now)
            if isinstance(now, int | float)
            else datetime.fromisoformat(str(now).replace("Z", "+00:00"))
        )
        clock.set(when, frozen=bool(body.get("frozen", False)))
    elif body.get("frozen") is False:
        clock.set(clock.time())


# Infor's sandbox once spoke {"advance_seconds": s} and {"set": ISO}; both still work.
_CLOCK_ALIASES = {"advance_seconds": "advance", "set": "now"}


class ControlPlane:
    """The common ``/sandbox`` endpoints of one system's backend; a system mounts aliases from them."""

    def __init__(self, sandbox: ControlledSandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[Route]:
        return [
            Route("/sandbox", self.info, methods=["GET"]),
            Route("/sandbox/reset", self.reset, methods=["POST"]),
            Route("/sandbox/clock", self.clock, methods=["GET", "PUT", "POST"]),
            Route("/sandbox/faults", self.faults, methods=["GET", "PUT", "POST", "DELETE"]),
            Route("/sandbox/tokens/expire", self.expire_tokens, methods=["POST"]),
            Route("/sandbox/settings", self.settings, methods=["GET", "PUT", "POST"]),
            Route("/sandbox/truth", self.truth, methods=["GET"]),
        ]

    async def info(self, _request: Request) -> Response:
        return JSONResponse(self.sandbox.describe())

    async def reset(self, request: Request) -> Response:
        try:
            body = await control_body(request)
        except BadControlBody as error:
            return _error(str(error))
        seed = body.get("seed")
        if seed not in (None, *SEEDS):
            return _error("seed must be 'demo' or 'empty'")
        self.sandbox.reset(seed, body.get("scale", self.sandbox.scale))
        return JSONResponse(self.sandbox.describe())

    async def clock(self, request: Request) -> Response:
        if request.method in ("PUT", "POST"):
            try:
                body = await control_body(request)
                move_clock(self.sandbox.clock, {_CLOCK_ALIASES.get(k, k): v for k, v in body.items()})
            except (ValueError, TypeError) as error:
                return _error(str(error))
        return JSONResponse(self.sandbox.clock.to_dict())

    async def faults(self, request: Request) -> Response:
        return await faults_endpoint(request, self.sandbox.faults)

    async def expire_tokens(self, _request: Request) -> Response:
        return JSONResponse({"expired": self.sandbox.expire_tokens()})

    async def settings(self, request: Request) -> Response:
        if request.method in ("PUT", "POST"):
            try:
                self.sandbox.update_settings(await control_body(request))
            except (ValueError, TypeError) as error:
                return _error(str(error))
        return JSONResponse(self.sandbox.settings())

    async def truth(self, _request: Request) -> Response:
        return JSONResponse(self.sandbox.truth or {})
