"""The receiver's ASGI app: one endpoint per system and pair, health and metrics.

- ``POST /webhooks/freshbooks/{pair}``: FreshBooks callbacks (form-encoded), the handshake included;
- ``POST /webhooks/shop/{pair}``: Shopify webhooks (JSON);
- ``GET /healthz``: 200 while the inbox writer runs, with the durability in force;
- ``GET /metrics``: Prometheus text.

Checks run cheapest first and the body is read only up to its cap: an unknown pair, a wrong content type
or an oversized body is refused before any signature is computed. A delivery is answered 200 only once
the group-commit writer has committed it (or found it already stored); every refusal stores nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from finsync_dagster.ledger import Delivery, freshbooks_key, shop_key, utcnow
from finsync_dagster.resources.shop import webhooks as shop
from finsync_dagster.settings import is_pair_name
from finsync_dagster.webhooks import freshbooks
from finsync_dagster.webhooks.endpoints import FreshBooksEndpoint, PairEndpoints, ShopEndpoint
from finsync_dagster.webhooks.handshake import Handshakes
from finsync_dagster.webhooks.metrics import CONTENT_TYPE, ReceiverMetrics
from finsync_dagster.webhooks.refusals import Reason, Refused
from finsync_dagster.webhooks.verifiers import Verifiers
from finsync_dagster.webhooks.writer import GroupCommitWriter

log = logging.getLogger("finsync.webhooks")
# The answers of the hot path, encoded once.
_STORED = b'{"status":"stored"}'
_DUPLICATE = b'{"status":"duplicate"}'
_VERIFIED = b'{"status":"verified"}'
_SHOP_ORDER_ID = "X-Shopify-Order-Id"  # order topics name their order here (shop contract §6.3)


@dataclass(frozen=True)
class Limits:
    """Body caps: a FreshBooks callback is a few hundred bytes; a Shopify order can be large."""

    freshbooks_body: int = 8 * 1024
    shop_body: int = 1024 * 1024


@dataclass
class Receiver:
    """Everything the endpoints use, built by ``serve`` (or a test) and handed to :func:`build_app`."""

    endpoints: dict[str, PairEndpoints]
    writer: GroupCommitWriter
    verifiers: Verifiers
    handshakes: Handshakes
    metrics: ReceiverMetrics
    durability: str
    limits: Limits = Limits()


def build_app(receiver: Receiver) -> Starlette:
    async def freshbooks_endpoint(request: Request) -> Response:
        return await _guarded(receiver, "freshbooks", request, _freshbooks)

    async def shop_endpoint(request: Request) -> Response:
        return await _guarded(receiver, "shop", request, _shop)

    async def healthz(_request: Request) -> Response:
        alive = receiver.writer.alive
        body = {"status": "ok" if alive else "inbox writer stopped", "ledger": receiver.durability}
        return JSONResponse(body, status_code=200 if alive else 503)

    async def metrics(_request: Request) -> Response:
        return Response(receiver.metrics.render(), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/webhooks/freshbooks/{pair}", freshbooks_endpoint, methods=["POST"]),
            Route("/webhooks/shop/{pair}", shop_endpoint, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=_lifespan(receiver),
    )


def _lifespan(receiver: Receiver) -> Any:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if not receiver.writer.alive:
            receiver.writer.start()
        try:
            yield
        finally:
            await run_in_threadpool(receiver.writer.stop)

    return lifespan


async def _guarded(receiver: Receiver, system: str, request: Request, handle: Any) -> Response:
    metrics = receiver.metrics
    counters = metrics.of(system)
    counters.received.inc()
    try:
        stored = await handle(receiver, request)
    except Refused as refused:
        metrics.refused.labels(system, refused.reason.label).inc()
        log.info("%s webhook refused: %s", system, refused.reason.label)
        return JSONResponse({"error": refused.reason.message}, status_code=refused.reason.status)
    if stored is None:  # the handshake: nothing goes to the inbox
        metrics.handshakes.inc()
        return Response(_VERIFIED, media_type="application/json")
    (counters.accepted if stored else counters.duplicates).inc()
    return Response(_STORED if stored else _DUPLICATE, media_type="application/json")


# -- FreshBooks ----------------------------------------------------------------------------------------


async def _freshbooks(receiver: Receiver, request: Request) -> bool | None:
    pair = request.path_params["pair"]
    endpoint = _endpoints(receiver, pair).freshbooks
    if endpoint is None:
        raise Refused(Reason.UNKNOWN_PAIR)
    _require_type(request, freshbooks.FORM_TYPE)
    body = await _read_capped(request, receiver.limits.freshbooks_body)
    fields = freshbooks.parse_form(body)
    values = dict(fields)
    header = request.headers.get(freshbooks.SIGNATURE_HEADER)
    if values.get("name") == freshbooks.VERIFY_EVENT:
        await _handshake(receiver, endpoint, pair, fields, header)
        return None
    freshbooks.require(values, freshbooks.DELIVERY_FIELDS)
    if not header:
        raise Refused(Reason.UNSIGNED)
    if not await _freshbooks_signed(receiver.verifiers, pair, fields, header):
        raise Refused(Reason.BAD_SIGNATURE)
    _require_account(endpoint, values)
    delivery = Delivery(
        pair=pair,
        system="freshbooks",
        event=values["name"][:64],
        object_id=values["object_id"][:64],
        account_id=values["account_id"],
        business_id=values.get("business_id") or None,
        dedupe_key=freshbooks_key(values),
        body=body.decode("utf-8"),
        received_at=utcnow(),
    )
    return await _commit(receiver, delivery)


def _require_account(endpoint: FreshBooksEndpoint, values: dict[str, str]) -> None:
    """The delivery's account (and business, when the pair names one) must be the pair's."""
    if values.get("account_id", endpoint.account_id) != endpoint.account_id:
        raise Refused(Reason.WRONG_ACCOUNT)
    business = values.get("business_id") or endpoint.business_id
    if endpoint.business_id is not None and business != endpoint.business_id:
        raise Refused(Reason.WRONG_ACCOUNT)


async def _freshbooks_signed(verifiers: Verifiers, pair: str, fields: freshbooks.Fields, header: str) -> bool:
    event = dict(fields)["name"]
    keys = verifiers.lookup(pair, event)
    if keys is None:
        await run_in_threadpool(verifiers.load, pair)
        keys = verifiers.lookup(pair, event) or []
    if freshbooks.signed_by(keys, fields, header):
        return True
    if not verifiers.may_reload(pair):
        return False
    await run_in_threadpool(verifiers.load, pair)  # a callback verified since the last load?
    return freshbooks.signed_by(verifiers.lookup(pair, event) or [], fields, header)


async def _handshake(
    receiver: Receiver, endpoint: FreshBooksEndpoint, pair: str, fields: freshbooks.Fields, header: str | None
) -> None:
    values = dict(fields)
    freshbooks.require(values, freshbooks.HANDSHAKE_FIELDS)
    verifier = values["verifier"]
    _require_account(endpoint, values)  # which context fields the handshake carries is UNCONFIRMED
    # Whether FreshBooks signs the handshake is UNCONFIRMED (contract §5.2): a signature, if sent, must
    # be the verifier's own; the real check is FreshBooks accepting the verifier back.
    if header and not freshbooks.signed_by([verifier], fields, header):
        raise Refused(Reason.BAD_SIGNATURE)
    await run_in_threadpool(receiver.handshakes.complete, pair, values["object_id"], verifier)


# -- shop ------------------------------------------------------------------------------------------------


async def _shop(receiver: Receiver, request: Request) -> bool:
    pair = request.path_params["pair"]
    endpoint = _endpoints(receiver, pair).shop
    if endpoint is None:
        raise Refused(Reason.UNKNOWN_PAIR)
    body = await _read_capped(request, receiver.limits.shop_body)
    header = request.headers.get(shop.SIGNATURE)
    if not header:
        raise Refused(Reason.UNSIGNED)
    if not shop.verify(endpoint.secrets, body, header):
        raise Refused(Reason.BAD_SIGNATURE)
    _require_shop(endpoint, request)
    topic = request.headers.get(shop.TOPIC, "")
    event_id = request.headers.get(shop.EVENT_ID) or request.headers.get(shop.WEBHOOK_ID)
    document = _json_object(body)
    if not topic or not event_id or document is None:
        raise Refused(Reason.MALFORMED)
    object_id = request.headers.get(_SHOP_ORDER_ID) or document.get("id")
    delivery = Delivery(
        pair=pair,
        system="shop",
        event=topic[:64],
        object_id=None if object_id is None else str(object_id)[:64],
        account_id=request.headers.get(shop.SHOP_DOMAIN),
        business_id=None,
        dedupe_key=shop_key(topic, event_id),
        body=body.decode("utf-8"),
        received_at=utcnow(),
    )
    return await _commit(receiver, delivery)


def _require_shop(endpoint: ShopEndpoint, request: Request) -> None:
    if endpoint.shop_domain and request.headers.get(shop.SHOP_DOMAIN) != endpoint.shop_domain:
        raise Refused(Reason.WRONG_ACCOUNT)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError is one
        return None
    return document if isinstance(document, dict) else None


# -- shared --------------------------------------------------------------------------------------------


def _endpoints(receiver: Receiver, pair: str) -> PairEndpoints:
    if not is_pair_name(pair) or pair not in receiver.endpoints:
        raise Refused(Reason.UNKNOWN_PAIR)
    return receiver.endpoints[pair]


def _require_type(request: Request, expected: str) -> None:
    given = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if given != expected:
        raise Refused(Reason.UNSUPPORTED_MEDIA)


async def _read_capped(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise Refused(Reason.TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(Reason.TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


async def _commit(receiver: Receiver, delivery: Delivery) -> bool:
    try:
        return await receiver.writer.submit(delivery)
    except Exception:
        raise Refused(Reason.INBOX_UNAVAILABLE) from None
