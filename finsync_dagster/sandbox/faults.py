"""Fault injection and latency shared by every sandbox.

A plan says, per request, whether to misbehave and how. It is data (parsed from a spec string or JSON)
so that ``finsync sandbox --faults SPEC`` and the ``/sandbox/faults`` control endpoint say the same thing.

Spec syntax (``;``-separated, every part optional)::

    rate=0.2;kinds=500,503,429,slow,drop,revoke,commit_then_timeout;paths=/accounting/*,/M3/*;slow_ms=3000;
    ctt=drop;retry_after=1;seed=7

- ``rate``: probability that a matching request gets a fault;
- ``kinds``: which faults to choose among, uniformly: an HTTP status (5xx or 429), ``slow`` (answer after
  ``slow_ms``), ``drop`` (close the connection mid-response), ``revoke`` (answer as if the token were
  revoked: each sandbox renders its own 401), ``commit_then_timeout`` (see below);
- ``paths``: glob patterns a request path must match (default: everything but ``/sandbox/*``);
- ``latency_ms``: added to *every* response, writes included, fault or not (a SaaS round trip instead of
  loopback's);
- ``ctt``: how ``commit_then_timeout`` loses the answer: ``drop`` (default) or ``delay``;
- ``seed``: makes the sequence of faults reproducible.

``commit_then_timeout`` is the fault that duplicates records in tools without idempotency keys: the
server applies the write in full (the state changes, webhooks fire), and then either drops the
connection before the answer is complete (``ctt=drop``: the status line and half a body, then the socket
closes) or holds the complete answer for ``slow_ms`` before sending it (``ctt=delay``: a client whose
read timeout is shorter sees a timeout; the Infor gateway answers 504 when ``slow_ms`` outlives its
``timeout_ms``). It applies only to writes, as each sandbox defines them (FreshBooks: POST, PUT and
DELETE on the accounting and events APIs; M3: a bulk POST holding a non-read transaction, and single
GETs of non-read transactions: ``Add*``, ``Chg*``, ``Upd*``, ``Del*``, ``Confirm``, ``Ctrl*``, ...).
A kind that cannot apply to a request (``commit_then_timeout`` on a read) is left out of that request's
draw, so ``rate=0.05;kinds=commit_then_timeout`` hits 5 % of the writes and no read.

Control-plane paths (``/sandbox/...``) never get faults or latency.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMMIT_THEN_TIMEOUT = "commit_then_timeout"
KNOWN_KINDS = {"slow", "drop", "revoke", COMMIT_THEN_TIMEOUT}
WRITE_ONLY_KINDS = frozenset({COMMIT_THEN_TIMEOUT})
CTT_MODES = ("drop", "delay")


@dataclass(frozen=True)
class FaultPlan:
    rate: float = 0.0
    kinds: tuple[str, ...] = ("500", "503", "429", "drop")
    paths: tuple[str, ...] = ("*",)
    latency_ms: int = 0
    slow_ms: int = 3000
    retry_after: int = 1
    ctt: str = "drop"
    seed: int | None = None

    @classmethod
    def parse(cls, spec: str | None) -> FaultPlan:
        """Parse the ``key=value;...`` spec (or a JSON object) into a plan; raise ValueError on nonsense."""
        if not spec:
            return cls()
        spec = spec.strip()
        if spec.startswith("{"):
            return cls.from_dict(json.loads(spec))
        values: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"fault spec part {part!r} is not key=value")
            values[key.strip()] = value.strip()
        return cls.from_dict(values)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FaultPlan:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown fault settings {sorted(unknown)}; known: {sorted(known)}")
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            if key in ("kinds", "paths"):
                items = value.split(",") if isinstance(value, str) else list(value)
                kwargs[key] = tuple(str(item).strip() for item in items if str(item).strip())
            elif key == "rate":
                kwargs[key] = float(value)
            elif key == "seed":
                kwargs[key] = None if value in (None, "") else int(value)
            elif key == "ctt":
                kwargs[key] = str(value).strip()
            else:
                kwargs[key] = int(value)
        plan = cls(**kwargs)
        if not 0.0 <= plan.rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        for kind in plan.kinds:
            if kind not in KNOWN_KINDS and not (kind.isdigit() and (kind == "429" or kind.startswith("5"))):
                raise ValueError(
                    f"unknown fault kind {kind!r}: use 5xx statuses, 429, slow, drop, revoke or "
                    f"{COMMIT_THEN_TIMEOUT}"
                )
        if plan.ctt not in CTT_MODES:
            raise ValueError(f"ctt must be {' or '.join(CTT_MODES)}, not {plan.ctt!r}")
        return plan

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "paths": list(self.paths),
            "latency_ms": self.latency_ms,
            "slow_ms": self.slow_ms,
            "retry_after": self.retry_after,
            "ctt": self.ctt,
            "seed": self.seed,
        }

    def applies_to(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.paths)

    @property
    def wants_writes(self) -> bool:
        """Whether a request must be classified (read or write) before the draw."""
        return self.rate > 0 and any(kind in WRITE_ONLY_KINDS for kind in self.kinds)


@dataclass
class FaultInjector:
    """The live plan of one sandbox, swappable at run time, with a seeded random source."""

    plan: FaultPlan = field(default_factory=FaultPlan)
    injected: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(self.plan.seed)

    def set_plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self.plan = plan
            self._random = random.Random(plan.seed)

    def update(self, **changes: Any) -> FaultPlan:
        self.set_plan(FaultPlan.from_dict({**self.plan.to_dict(), **changes}))
        return self.plan

    def draw(self, path: str, *, write: bool = False) -> str | None:
        """The fault kind for this request (``write``: it changes state), or None."""
        with self._lock:
            plan = self.plan
            if plan.rate <= 0 or path.startswith("/sandbox") or not plan.applies_to(path):
                return None
            kinds = [k for k in plan.kinds if write or k not in WRITE_ONLY_KINDS]
            if not kinds or self._random.random() >= plan.rate:
                return None
            self.injected += 1
            return self._random.choice(kinds)


RevokedRenderer = Callable[[Request], Response]
StatusRenderer = Callable[[Request, int, int], Response]
WriteTest = Callable[[Scope, bytes], bool]  # (scope, request body) -> does the request change state?


def http_write(scope: Scope, _body: bytes) -> bool:
    """The default test: any POST, PUT, PATCH or DELETE changes state."""
    return scope["method"] in ("POST", "PUT", "PATCH", "DELETE")


def default_status_renderer(_request: Request, status: int, retry_after: int) -> Response:
    headers = {"Retry-After": str(retry_after)} if status == 429 else {}
    return JSONResponse({"error": f"sandbox injected fault {status}"}, status_code=status, headers=headers)


class FaultMiddleware:
    """ASGI middleware: latency on every API response, and the injector's faults.

    Each sandbox passes renderers so a fault looks like its own API's error (envelope, headers), and
    ``is_write``, which says which requests are writes (only they can get ``commit_then_timeout``).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        injector: FaultInjector,
        render_status: StatusRenderer = default_status_renderer,
        render_revoked: RevokedRenderer | None = None,
        is_write: WriteTest = http_write,
    ) -> None:
        self.app = app
        self.injector = injector
        self.render_status = render_status
        self.render_revoked = render_revoked
        self.is_write = is_write

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/sandbox"):
            await self.app(scope, receive, send)
            return
        plan = self.injector.plan
        if plan.latency_ms:
            await asyncio.sleep(plan.latency_ms / 1000)
        write = False
        if plan.wants_writes:
            body, receive = await _buffered(receive)
            write = self.is_write(scope, body)
        kind = self.injector.draw(scope["path"], write=write)
        if kind is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if kind == "slow":
            await asyncio.sleep(plan.slow_ms / 1000)
            await self.app(scope, receive, send)
        elif kind == "drop":
            await _drop_connection(send)
        elif kind == "revoke" and self.render_revoked is not None:
            await self.render_revoked(request)(scope, receive, send)
        elif kind.isdigit():
            await self.render_status(request, int(kind), plan.retry_after)(scope, receive, send)
        elif kind == COMMIT_THEN_TIMEOUT:
            await self._commit_then_timeout(scope, receive, send, plan)
        else:
            await self.app(scope, receive, send)

    async def _commit_then_timeout(self, scope: Scope, receive: Receive, send: Send, plan: FaultPlan) -> None:
        """Apply the write in full, then lose its answer: drop the connection or answer too late."""
        answer: list[Message] = []

        async def hold(message: Message) -> None:
            answer.append(message)

        await self.app(scope, receive, hold)
        if plan.ctt == "drop":
            await _drop_connection(send)  # raises: the socket closes
            return
        await asyncio.sleep(plan.slow_ms / 1000)
        for message in answer:
            await send(message)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body, and a ``receive`` that hands it to the app as if unread."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _drop_connection(send: Send) -> None:
    """Promise a body, send half of it, then fail: the server closes the socket mid-response."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"response": {"result": ', "more_body": True})
    raise ConnectionAbortedError("sandbox injected a dropped connection")


async def faults_endpoint(request: Request, injector: FaultInjector) -> Response:
    """GET shows the plan; PUT/POST replaces it (JSON object or ``{"spec": "..."}``); DELETE clears it."""
    if request.method in ("PUT", "POST"):
        body = await request.json()
        try:
            plan = FaultPlan.parse(body["spec"]) if "spec" in body else FaultPlan.from_dict(body)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        injector.set_plan(plan)
    elif request.method == "DELETE":
        injector.set_plan(replace(FaultPlan(), latency_ms=injector.plan.latency_ms))
    return JSONResponse({**injector.plan.to_dict(), "injected": injector.injected})


def faults_handler(injector: FaultInjector) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        return await faults_endpoint(request, injector)

    return handler
