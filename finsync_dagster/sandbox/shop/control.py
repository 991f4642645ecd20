"""The shop's own ``/sandbox`` control routes, beside the shared ones of ``../control.py``: shoppers and the
merchant acting on the shop, for tests and demos. Each change fires its webhooks, as in the real shop.

- ``POST /sandbox/orders`` checks out: ``{"email", "lines": [{"sku", "quantity"}], "address": {...},
  "currency": "USD" | "CAD", "discount_code", "payment": "paid" | "pending" | "authorized", "guest",
  "test", "note", "tags"}``; ``address`` (``first_name``, ``last_name``, ``company``, ``address1``,
  ``city``, ``province_code``, ``country_code`` US or CA, ``zip``, ...) may be left out for a known
  e-mail. Answers 201 ``{"order": ...}`` in the API's shape.
- ``POST /sandbox/orders/{ref}/pay`` ``{"amount"}`` (default: what is outstanding);
  ``.../edit`` ``{"quantities": [{"line_item_id" | "sku", "quantity"}], "add": [{"sku", "quantity"}],
  "note", "tags", "email"}``; ``.../cancel`` ``{"reason", "refund": true}``; ``.../refund``
  ``{"lines": [{"line_item_id" | "sku", "quantity"}], "shipping": bool, "amount", "note"}``;
  ``.../fulfill`` ``{"lines": [...], "tracking_number"}``; ``DELETE /sandbox/orders/{ref}``.
  ``ref`` is the order's id or its name (``WEB-1001``). Each answers ``{"order": ...}``.
- ``GET /sandbox/webhooks/deliveries``: every delivery attempt so far, oldest first.

A refused action is 400 (404 for an unknown order or line) with ``{"error": ...}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import fields as dataclass_fields
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from finsync_dagster.sandbox.control import BadControlBody, control_body
from finsync_dagster.sandbox.shop import shapes
from finsync_dagster.sandbox.shop.backend import ShopSandbox
from finsync_dagster.sandbox.shop.models import Address, Order
from finsync_dagster.sandbox.shop.store import NewLine, NewOrder, Store, StoreError, parse_amount

Action = Callable[[Store, Order, dict[str, Any]], None]
_ADDRESS_FIELDS = {f.name for f in dataclass_fields(Address)}
_COUNTRY_NAMES = {"US": "United States", "CA": "Canada"}


def _find(store: Store, ref: str) -> Order:
    if ref.isdigit():
        return store.order(int(ref))
    found = next((o for o in store.orders.values() if o.name == ref), None)
    if found is None:
        raise StoreError(f"no order {ref}", 404)
    return found


def _line_id(order: Order, entry: dict[str, Any]) -> int:
    if "line_item_id" in entry:
        return int(entry["line_item_id"])
    sku = entry.get("sku")
    line = next((line for line in order.lines if line.product.sku == sku), None)
    if line is None:
        raise StoreError(f"order {order.name} has no line with sku {sku!r}", 404)
    return line.id


def _quantities(order: Order, entries: Any) -> dict[int, int]:
    if not isinstance(entries, list):
        raise StoreError("lines are a list of {line_item_id or sku, quantity}")
    return {_line_id(order, entry): int(entry["quantity"]) for entry in entries}


def _new_lines(entries: Any) -> tuple[NewLine, ...]:
    if not isinstance(entries, list):
        raise StoreError("lines are a list of {sku, quantity}")
    return tuple(NewLine(str(entry["sku"]), int(entry.get("quantity", 1))) for entry in entries)


def _address(store: Store, body: dict[str, Any]) -> Address:
    given = body.get("address")
    if given is None:
        known = store.customer_by_email(str(body.get("email") or ""))
        if known is None or known.address is None:
            raise StoreError(
                "a new buyer needs an address (first_name, last_name, address1, city, country_code, ...)"
            )
        return known.address
    if not isinstance(given, dict) or set(given) - _ADDRESS_FIELDS:
        raise StoreError(f"address takes {', '.join(sorted(_ADDRESS_FIELDS))}")
    country = str(given.get("country_code", "US"))
    values = {
        "company": None,
        "address2": "",
        "province": given.get("province_code", ""),
        "country": _COUNTRY_NAMES.get(country, country),
        "country_code": country,
        "zip": "",
        "phone": None,
        **given,
    }
    try:
        return Address(**values)
    except TypeError as error:
        raise StoreError(f"address is missing a field: {error}") from None


def _checkout(store: Store, body: dict[str, Any]) -> Order:
    return store.create_order(
        NewOrder(
            lines=_new_lines(body.get("lines")),
            email=body.get("email"),
            address=_address(store, body),
            currency=str(body.get("currency", "USD")),
            discount_code=body.get("discount_code"),
            payment=str(body.get("payment", "paid")),
            guest=bool(body.get("guest", False)),
            test=bool(body.get("test", False)),
            note=body.get("note"),
            tags=str(body.get("tags", "")),
        )
    )


def _pay(store: Store, order: Order, body: dict[str, Any]) -> None:
    store.pay(order, parse_amount(body["amount"]) if "amount" in body else None)


def _edit(store: Store, order: Order, body: dict[str, Any]) -> None:
    store.edit(
        order,
        quantities=_quantities(order, body.get("quantities", [])),
        add=_new_lines(body.get("add", [])),
        note=body.get("note"),
        tags=body.get("tags"),
        email=body.get("email"),
    )


def _cancel(store: Store, order: Order, body: dict[str, Any]) -> None:
    store.cancel(order, reason=str(body.get("reason", "customer")), refund=bool(body.get("refund", True)))


def _refund(store: Store, order: Order, body: dict[str, Any]) -> None:
    store.refund(
        order,
        lines=_quantities(order, body.get("lines", [])),
        shipping=bool(body.get("shipping", False)),
        amount=parse_amount(body["amount"]) if "amount" in body else None,
        note=body.get("note"),
    )


def _fulfill(store: Store, order: Order, body: dict[str, Any]) -> None:
    lines = _quantities(order, body["lines"]) if "lines" in body else None
    store.fulfill(order, lines, tracking_number=body.get("tracking_number"))


def control_routes(sandbox: ShopSandbox) -> list[Route]:
    def rendered(order: Order, status: int = 200) -> Response:
        return JSONResponse(
            {"order": shapes.order(order, sandbox.store.customer_of(order))}, status_code=status
        )

    def guarded(
        step: Callable[[Request, dict[str, Any]], Response],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                body = await control_body(request)
                with sandbox.lock:
                    return step(request, body)
            except StoreError as error:
                return JSONResponse({"error": str(error)}, status_code=error.status)
            except (BadControlBody, KeyError, TypeError, ValueError) as error:
                return JSONResponse({"error": f"bad body: {error}"}, status_code=400)

        return endpoint

    def checkout(_request: Request, body: dict[str, Any]) -> Response:
        return rendered(_checkout(sandbox.store, body), 201)

    def act(action: Action) -> Callable[[Request, dict[str, Any]], Response]:
        def step(request: Request, body: dict[str, Any]) -> Response:
            order = _find(sandbox.store, request.path_params["ref"])
            action(sandbox.store, order, body)
            return rendered(order)

        return step

    def delete(request: Request, _body: dict[str, Any]) -> Response:
        order = _find(sandbox.store, request.path_params["ref"])
        sandbox.store.delete(order)
        return JSONResponse({"deleted": order.id})

    async def deliveries(_request: Request) -> Response:
        return JSONResponse({"deliveries": list(sandbox.webhooks.deliveries)})

    orders = "/sandbox/orders/{ref}"
    return [
        Route("/sandbox/orders", guarded(checkout), methods=["POST"]),
        Route(orders, guarded(delete), methods=["DELETE"]),
        *(
            Route(f"{orders}/{name}", guarded(act(action)), methods=["POST"])
            for name, action in (
                ("pay", _pay),
                ("edit", _edit),
                ("cancel", _cancel),
                ("refund", _refund),
                ("fulfill", _fulfill),
            )
        ),
        Route("/sandbox/webhooks/deliveries", deliveries, methods=["GET"]),
    ]
