"""HTTP handlers of the Admin REST API: parse the request, read the store under the sandbox lock, answer.

Every answer is a JSON envelope named after the resource (``{"orders": [...]}``, ``{"order": {...}}``,
``{"count": n}``). Version, token and rate limit were checked by ``gate.py`` before a handler runs; the
``/sandbox`` control plane is elsewhere (``../control.py`` and this system's ``control.py``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from finsync_dagster.sandbox.shop import shapes
from finsync_dagster.sandbox.shop.errors import ShopError, invalid, not_found
from finsync_dagster.sandbox.shop.models import PRESENTMENT_CURRENCIES, Order
from finsync_dagster.sandbox.shop.paging import (
    FILTERS,
    check_filters,
    link_header,
    order_filter,
    parse_listing,
    select,
)
from finsync_dagster.sandbox.shop.shapes import SHOP_ZONE

if TYPE_CHECKING:
    from finsync_dagster.sandbox.shop.backend import ShopSandbox


def _sandbox(request: Request) -> ShopSandbox:
    return request.app.state.sandbox


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _fields(request: Request) -> list[str] | None:
    raw = request.query_params.get("fields")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else None


def _order(sandbox: ShopSandbox, request: Request) -> Order:
    found = sandbox.store.orders.get(request.path_params["id"])
    if found is None:
        raise not_found()
    return found


def _render(sandbox: ShopSandbox, order: Order, fields: list[str] | None) -> dict[str, Any]:
    return shapes.trim(shapes.order(order, sandbox.store.customer_of(order)), fields)


# -- orders --------------------------------------------------------------------------------------------


async def orders(request: Request) -> Response:
    sandbox = _sandbox(request)
    listing = parse_listing(_params(request))
    with sandbox.lock:
        page = select(sandbox.store.matching(order_filter(listing.filters)), listing)
        body = {"orders": [_render(sandbox, order, listing.fields) for order in page.orders]}
    base = f"{sandbox.base_url}/admin/api/{request.path_params['version']}/orders.json"
    link = link_header(base, page, listing)
    return JSONResponse(body, headers={"Link": link} if link else None)


async def orders_count(request: Request) -> Response:
    sandbox = _sandbox(request)
    filters = {name: value for name, value in _params(request).items() if name in FILTERS}
    check_filters(filters)
    with sandbox.lock:
        count = len(sandbox.store.matching(order_filter(filters)))
    return JSONResponse({"count": count})


async def order(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        return JSONResponse({"order": _render(sandbox, _order(sandbox, request), _fields(request))})


# -- what hangs off an order ---------------------------------------------------------------------------


def _since(request: Request) -> int:
    raw = request.query_params.get("since_id", "0")
    try:
        return int(raw)
    except ValueError:
        raise invalid("since_id") from None


async def transactions(request: Request) -> Response:
    sandbox = _sandbox(request)
    since = _since(request)
    with sandbox.lock:
        found = _order(sandbox, request)
        rendered = [shapes.transaction(t, found) for t in found.all_transactions() if t.id > since]
    return JSONResponse({"transactions": rendered})


async def transactions_count(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        return JSONResponse({"count": len(_order(sandbox, request).all_transactions())})


async def transaction(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        found = _order(sandbox, request)
        match = next((t for t in found.all_transactions() if t.id == request.path_params["tid"]), None)
        if match is None:
            raise not_found()
        return JSONResponse({"transaction": shapes.transaction(match, found)})


async def refunds(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        found = _order(sandbox, request)
        return JSONResponse({"refunds": [shapes.refund(r, found) for r in found.refunds]})


async def refund(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        found = _order(sandbox, request)
        match = next((r for r in found.refunds if r.id == request.path_params["rid"]), None)
        if match is None:
            raise not_found()
        return JSONResponse({"refund": shapes.refund(match, found)})


async def fulfillments(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        found = _order(sandbox, request)
        rendered = [shapes.fulfillment(f, found, n) for n, f in enumerate(found.fulfillments, start=1)]
    return JSONResponse({"fulfillments": rendered})


async def fulfillments_count(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        return JSONResponse({"count": len(_order(sandbox, request).fulfillments)})


# -- webhook subscriptions -----------------------------------------------------------------------------


async def _webhook_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise ShopError(400, "Bad Request") from None
    if not isinstance(body, dict) or not isinstance(body.get("webhook"), dict):
        raise ShopError(400, {"webhook": "Required parameter missing or invalid"})
    return body["webhook"]


async def webhooks(request: Request) -> Response:
    sandbox = _sandbox(request)
    if request.method == "POST":
        made = sandbox.webhooks.create(await _webhook_body(request), request.path_params["version"])
        return JSONResponse({"webhook": shapes.webhook(made)}, status_code=201)
    params = request.query_params
    found = sandbox.webhooks.matching(
        topic=params.get("topic"), address=params.get("address"), since_id=_since(request)
    )
    return JSONResponse({"webhooks": [shapes.trim(shapes.webhook(s), _fields(request)) for s in found]})


async def webhooks_count(request: Request) -> Response:
    params = request.query_params
    found = _sandbox(request).webhooks.matching(topic=params.get("topic"), address=params.get("address"))
    return JSONResponse({"count": len(found)})


async def webhook(request: Request) -> Response:
    sandbox = _sandbox(request)
    subscription_id = request.path_params["id"]
    if request.method == "DELETE":
        sandbox.webhooks.delete(subscription_id)
        return JSONResponse({})
    if request.method == "PUT":
        found = sandbox.webhooks.update(subscription_id, await _webhook_body(request))
    else:
        found = sandbox.webhooks.get(subscription_id)
    return JSONResponse({"webhook": shapes.webhook(found)})


# -- the shop ------------------------------------------------------------------------------------------


async def shop(request: Request) -> Response:
    sandbox = _sandbox(request)
    info = sandbox.info()
    return JSONResponse(
        {
            "shop": {
                "id": 61_234_567_890,
                "name": "Finsync Demo Trading Co.",
                "email": "shop@northwind-demo.example",
                "domain": info["shop_domain"],
                "myshopify_domain": info["shop_domain"],
                "currency": info["currency"],
                "enabled_presentment_currencies": list(PRESENTMENT_CURRENCIES),
                "iana_timezone": SHOP_ZONE.key,
                "timezone": "(GMT-05:00) Eastern Time (US & Canada)",
                "country_code": "US",
                "plan_name": "basic",
                "taxes_included": False,
                "money_format": "${{amount}}",
            }
        }
    )


async def not_found_handler(_request: Request, _exc: Exception) -> Response:
    return JSONResponse({"errors": "Not Found"}, status_code=404)
