"""``orders.json`` query parameters and its cursor paging through the ``Link`` header (contract 3.1-3.3).

The first request carries the filters; the answer's ``Link`` header holds absolute URLs with ``limit`` and
an opaque ``page_info``: base64url JSON of the filters, the sort key of the page's last (or first) record
and the direction, the scheme integrators have observed. A request with ``page_info`` may add only
``limit`` and ``fields``; anything else is 400 naming the parameter. ``previous`` appears on every page but
the first, ``next`` while more records follow, and no header at all when one page holds everything.

Order: newest first (``created_at`` then ``id``, descending) unless ``since_id`` is given, then ascending
``id`` (UNCONFIRMED, contract 3.1). Pages are cut by key, not offset, so a record changing while a client
pages never makes it skip or repeat one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from finsync_dagster.sandbox.shop.errors import ShopError, invalid, not_with_page_info
from finsync_dagster.sandbox.shop.models import Order
from finsync_dagster.sandbox.shop.shapes import SHOP_ZONE

DEFAULT_LIMIT = 50
MAX_LIMIT = 250
STATUSES = ("open", "closed", "cancelled", "any")
FINANCIAL = (
    "any",
    "authorized",
    "pending",
    "paid",
    "partially_paid",
    "refunded",
    "voided",
    "partially_refunded",
    "unpaid",
)
FULFILLMENT = ("any", "shipped", "partial", "unshipped", "unfulfilled")
_TIME_FILTERS = {
    "created_at_min": ("created_at", ">="),
    "created_at_max": ("created_at", "<="),
    "updated_at_min": ("updated_at", ">="),
    "updated_at_max": ("updated_at", "<="),
    "processed_at_min": ("processed_at", ">="),
    "processed_at_max": ("processed_at", "<="),
}
FILTERS = (
    "ids",
    "since_id",
    "status",
    "financial_status",
    "fulfillment_status",
    "attribution_app_id",
    *_TIME_FILTERS,
)
PAGE_PARAMS = ("page_info", "limit", "fields")


@dataclass(frozen=True)
class Listing:
    filters: dict[str, str]
    limit: int
    fields: list[str] | None
    boundary: list[float] | None = None  # sort key of the record the page starts after (or before)
    direction: str = "next"

    @property
    def ascending(self) -> bool:
        return "since_id" in self.filters


def parse_listing(params: Mapping[str, str]) -> Listing:
    """The listing a request asks for; ShopError (400) for what the API refuses."""
    if "page" in params:
        raise invalid("page", "page cannot be passed: use cursor pagination (page_info).")
    limit = _limit(params.get("limit"))
    fields = [f.strip() for f in params["fields"].split(",") if f.strip()] if params.get("fields") else None
    if "page_info" not in params:
        filters = {name: params[name] for name in FILTERS if name in params}
        check_filters(filters)
        return Listing(filters, limit, fields)
    for name in params:
        if name not in PAGE_PARAMS:
            raise not_with_page_info(name)
    try:
        cursor = json.loads(base64.urlsafe_b64decode(params["page_info"].encode() + b"=="))
        filters, boundary, direction = dict(cursor["f"]), list(cursor["k"]), cursor["d"]
        if direction not in ("next", "prev") or not all(isinstance(v, int | float) for v in boundary):
            raise ValueError(direction)
        check_filters(filters)
    except (ValueError, KeyError, TypeError, binascii.Error, ShopError):
        raise invalid("page_info") from None
    return Listing(filters, limit, fields, boundary, direction)


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise invalid("limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit")  # UNCONFIRMED (contract 3.1): 400 rather than clamping
    return limit


def check_filters(filters: Mapping[str, str]) -> None:
    for name in _TIME_FILTERS:
        if name in filters:
            parse_time(name, filters[name])
    for name, allowed in (
        ("status", STATUSES),
        ("financial_status", FINANCIAL),
        ("fulfillment_status", FULFILLMENT),
    ):
        if name in filters and filters[name] not in allowed:
            raise invalid(name)
    if "since_id" in filters:
        _integer("since_id", filters["since_id"])
    if "ids" in filters:
        for part in filters["ids"].split(","):
            _integer("ids", part.strip())


def _integer(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid(name) from None


def parse_time(name: str, value: str) -> float:
    """ISO 8601 with an offset (or ``Z``); without one, the shop's own time zone (UNCONFIRMED)."""
    try:
        text = value.strip()
        # An unencoded "+" of an offset arrives as a space.
        moment = datetime.fromisoformat(text.replace(" ", "+") if "T" in text else text)
    except ValueError:
        raise invalid(name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHOP_ZONE)
    return moment.timestamp()


def order_filter(filters: Mapping[str, str], *, default_status: str = "open") -> Callable[[Order], bool]:
    """The test an order passes to be listed or counted under ``filters``."""
    status = filters.get("status", default_status)
    financial = filters.get("financial_status", "any")
    fulfillment = filters.get("fulfillment_status", "any")
    ids = {int(p) for p in filters["ids"].split(",")} if filters.get("ids") else None
    since_id = int(filters["since_id"]) if "since_id" in filters else None
    bounds = [
        (attribute, op, parse_time(name, filters[name]))
        for name, (attribute, op) in _TIME_FILTERS.items()
        if name in filters
    ]

    def passes(order: Order) -> bool:
        if ids is not None and order.id not in ids:
            return False
        if since_id is not None and order.id <= since_id:
            return False
        for attribute, op, bound in bounds:
            value = getattr(order, attribute)
            if (op == ">=" and value < bound) or (op == "<=" and value > bound):
                return False
        if status == "open" and (order.closed_at is not None or order.cancelled_at is not None):
            return False
        if status == "closed" and order.closed_at is None:
            return False
        if status == "cancelled" and order.cancelled_at is None:
            return False
        return _financial(order, financial) and _fulfillment(order, fulfillment)

    return passes


def _financial(order: Order, wanted: str) -> bool:
    if wanted == "any":
        return True
    if wanted == "unpaid":
        return order.financial_status in ("authorized", "partially_paid", "pending")
    return order.financial_status == wanted


def _fulfillment(order: Order, wanted: str) -> bool:
    status = order.fulfillment_status
    return {
        "any": True,
        "shipped": status == "fulfilled",
        "partial": status == "partial",
        "unshipped": status is None,
        "unfulfilled": status in (None, "partial"),
    }[wanted]


def sort_key(order: Order, ascending: bool) -> list[float]:
    """Ascending ``id``, or newest first: negated so that both sort ascending."""
    return [order.id] if ascending else [-order.created_at, -order.id]


@dataclass(frozen=True)
class Page:
    orders: list[Order]
    has_previous: bool
    has_next: bool


def select(orders: Sequence[Order], listing: Listing) -> Page:
    ranked = sorted(orders, key=lambda o: sort_key(o, listing.ascending))
    if listing.boundary is None:
        chosen = ranked[: listing.limit]
        return Page(chosen, False, len(ranked) > listing.limit)
    keys = [sort_key(o, listing.ascending) for o in ranked]
    if listing.direction == "next":
        start = next((i for i, key in enumerate(keys) if key > listing.boundary), len(ranked))
        chosen = ranked[start : start + listing.limit]
        return Page(chosen, True, start + listing.limit < len(ranked))
    end = next((i for i, key in enumerate(keys) if key >= listing.boundary), len(ranked))
    start = max(0, end - listing.limit)
    return Page(ranked[start:end], start > 0, True)


def link_header(base: str, page: Page, listing: Listing) -> str | None:
    """``<URL>; rel="previous", <URL>; rel="next"``, or None when there is neither."""
    links = []
    if page.has_previous and page.orders:
        links.append((_cursor(listing, page.orders[0], "prev"), "previous"))
    if page.has_next and page.orders:
        links.append((_cursor(listing, page.orders[-1], "next"), "next"))
    if not links:
        return None
    parts = []
    for cursor, rel in links:
        query: dict[str, Any] = {"limit": listing.limit, "page_info": cursor}
        if listing.fields:
            query["fields"] = ",".join(listing.fields)
        parts.append(f'<{base}?{urlencode(query)}>; rel="{rel}"')
    return ", ".join(parts)


def _cursor(listing: Listing, order: Order, direction: str) -> str:
    data = {"f": listing.filters, "k": sort_key(order, listing.ascending), "d": direction}
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
