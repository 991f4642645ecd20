"""The shop's Admin REST API client: pooled httpx, the shared retry policy, the leaky bucket, cursor paging.

Every request goes through :meth:`ShopClient._send`, where the answer (or the transport failure) becomes a
finsync error; retrying is :func:`call_with_retries` on those classes, honouring ``Retry-After``. Before
each call the client waits for room in its copy of Shopify's leaky bucket (``bucket.py``), so a long
listing runs at the shop's pace instead of meeting 429s.

Listings always send ``status=any`` (the default hides closed and cancelled orders, contract 3.1) and
follow the ``Link`` header's ``rel="next"``; only its ``page_info`` and ``limit`` are taken from it, and
the request goes to this client's own base URL, so the token never follows a link elsewhere. Records stay
dicts with every JSON number as ``Decimal`` (money is a decimal string; ``values.money`` reads either);
``values.utc`` turns their times to UTC.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx

from finsync_dagster.errors import (
    SAFE_TO_RESEND,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    RequestNotSentError,
    TransientApiError,
    UnavailableError,
    ValidationError,
)
from finsync_dagster.resources.http_policy import (
    DEFAULT_POLICY,
    ClientStats,
    HttpPolicy,
    call_with_retries,
    new_http_client,
    quota_limiter,
    translate_transport_error,
)
from finsync_dagster.resources.shop.bucket import CallBucket
from finsync_dagster.resources.shop.errors import SYSTEM, error_from_response
from finsync_dagster.resources.shop.values import query_time

T = TypeVar("T")
MAX_LIMIT = 250  # Shopify's page size limit (contract 3.1)
CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
# Listable resources and the time filters each takes.
LISTINGS = {"orders": ("created_at", "updated_at", "processed_at")}
Params = list[tuple[str, str]]


class ShopClient:
    """One shop's Admin REST API, read (and its webhook subscriptions written) with one policy.

    Example::

        with clients.shop("acme") as shop:  # clients: PairClients
            for page in shop.iter_pages("orders", updated_at_min=since):
                upsert(page)
    """

    def __init__(
        self,
        *,
        api_url: str,
        api_version: str,
        access_token: str,
        policy: HttpPolicy = DEFAULT_POLICY,
        bucket: CallBucket | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_version = api_version
        self.policy = policy
        self.stats = ClientStats()
        self.bucket = bucket or CallBucket()
        self.served_version: str | None = None  # X-Shopify-API-Version of the last answer
        self._token = access_token
        self._base = f"/admin/api/{api_version}"
        self._http = new_http_client(api_url.rstrip("/"), policy, transport=transport)
        self._limiter = quota_limiter(policy.requests_per_minute)

    def __repr__(self) -> str:
        return f"ShopClient(api_url={str(self._http.base_url)!r}, api_version={self.api_version!r})"

    def __enter__(self) -> ShopClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- orders ------------------------------------------------------------------------------------

    def iter_pages(
        self,
        resource: str = "orders",
        *,
        updated_at_min: datetime | None = None,
        updated_at_max: datetime | None = None,
        created_at_min: datetime | None = None,
        created_at_max: datetime | None = None,
        since_id: int | None = None,
        status: str = "any",
        limit: int = MAX_LIMIT,
        fields: Sequence[str] = (),
        params: Mapping[str, str] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Every record of ``resource`` matching the filters, a page at a time, following ``Link`` cursors.

        Time filters are inclusive and must be timezone-aware. Each record is yielded at most once.
        """
        if resource not in LISTINGS:
            raise ValueError(f"the shop client lists {', '.join(LISTINGS)}, not {resource!r}")
        limit = max(1, min(limit, MAX_LIMIT))
        query: Params = [("limit", str(limit)), ("status", status)]
        for name, value in (
            ("updated_at_min", updated_at_min),
            ("updated_at_max", updated_at_max),
            ("created_at_min", created_at_min),
            ("created_at_max", created_at_max),
        ):
            if value is not None:
                query.append((name, query_time(value)))
        if since_id is not None:
            query.append(("since_id", str(since_id)))
        if fields:
            query.append(("fields", ",".join(fields)))
        query.extend((params or {}).items())
        seen: set[Any] = set()
        path = f"{self._base}/{resource}.json"
        while True:
            body, response = self._retrying(partial(self._send, "GET", path, params=query))
            records = [r for r in body.get(resource) or [] if r.get("id") not in seen]
            seen.update(r.get("id") for r in records)
            yield records
            cursor = _next_page(response)
            if cursor is None:
                return
            query = [("limit", str(limit)), ("page_info", cursor)]
            if fields:
                query.append(("fields", ",".join(fields)))

    def iter_orders(self, **options: Any) -> Iterator[dict[str, Any]]:
        """:meth:`iter_pages` of orders, one order at a time."""
        for page in self.iter_pages("orders", **options):
            yield from page

    def get_order(self, order_id: int, *, fields: Sequence[str] = ()) -> dict[str, Any]:
        params: Params = [("fields", ",".join(fields))] if fields else []
        body = self._get(f"orders/{int(order_id)}.json", params)
        return _member(body, "order")

    def count_orders(self, *, status: str = "any", **filters: datetime | str) -> int:
        """How many orders match (time filters as in :meth:`iter_pages`)."""
        params: Params = [("status", status)]
        for name, value in filters.items():
            params.append((name, query_time(value) if isinstance(value, datetime) else str(value)))
        return int(self._get("orders/count.json", params).get("count", 0))

    def transactions(self, order_id: int) -> list[dict[str, Any]]:
        return list(self._get(f"orders/{int(order_id)}/transactions.json").get("transactions") or [])

    def refunds(self, order_id: int) -> list[dict[str, Any]]:
        return list(self._get(f"orders/{int(order_id)}/refunds.json").get("refunds") or [])

    # -- webhook subscriptions ---------------------------------------------------------------------

    def webhooks(self, *, topic: str | None = None) -> list[dict[str, Any]]:
        params: Params = [("topic", topic)] if topic else []
        return list(self._get("webhooks.json", params).get("webhooks") or [])

    def subscribe(self, topic: str, address: str, *, fields: Sequence[str] = ()) -> dict[str, Any]:
        """Subscribe ``address`` to ``topic`` once: an existing subscription (Shopify's 422 "already been
        taken", or a create whose answer was lost) is looked up and returned, never duplicated."""
        payload: dict[str, Any] = {"webhook": {"topic": topic, "address": address, "format": "json"}}
        if fields:
            payload["webhook"]["fields"] = list(fields)
        path = f"{self._base}/webhooks.json"
        try:
            body, _ = self._retrying(
                lambda: self._send("POST", path, json_body=payload), retry_on=SAFE_TO_RESEND
            )
            return _member(body, "webhook")
        except ValidationError as exc:
            existing = self._find_webhook(topic, address) if exc.field == "address" else None
            if existing is None:
                raise  # refused for another reason (a bad topic or address)
            return existing
        except UnavailableError as exc:
            if isinstance(exc, RequestNotSentError):
                raise
            existing = self._find_webhook(topic, address)
            if existing is None:
                raise OutcomeUnknownError(
                    f"subscribing to {topic} failed after it may have been applied ({exc.message}); "
                    "run it again: an existing subscription is found, not duplicated",
                    system=SYSTEM,
                    status=exc.status,
                    request=exc.request,
                ) from exc
            return existing

    def unsubscribe(self, webhook_id: int) -> None:
        """Delete a subscription; one already gone (also by an attempt whose answer was lost) is fine."""
        try:
            self._retrying(lambda: self._send("DELETE", f"{self._base}/webhooks/{int(webhook_id)}.json"))
        except NotFoundError:
            return

    def _find_webhook(self, topic: str, address: str) -> dict[str, Any] | None:
        found = [w for w in self.webhooks(topic=topic) if w.get("address") == address]
        return found[0] if found else None

    # -- internals ---------------------------------------------------------------------------------

    def _get(self, path: str, params: Params | None = None) -> dict[str, Any]:
        body, _ = self._retrying(lambda: self._send("GET", f"{self._base}/{path}", params=params))
        return body

    def _retrying(
        self, fn: Callable[[], T], *, retry_on: tuple[type[BaseException], ...] = (TransientApiError,)
    ) -> T:
        return call_with_retries(fn, self.policy, retry_on=retry_on)

    def _send(
        self, method: str, path: str, *, params: Params | None = None, json_body: Any = None
    ) -> tuple[dict[str, Any], httpx.Response]:
        """One attempt: the only place an HTTP answer or failure becomes a finsync error."""
        request = f"{method} {path}"
        self._limiter.acquire()
        self.bucket.acquire()
        headers = {"X-Shopify-Access-Token": self._token, "Accept": "application/json"}
        content = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(json_body).encode()
        try:
            query = tuple(params) if params else None  # a tuple: httpx's param types are not a list's
            response = self._http.request(method, path, params=query, content=content, headers=headers)
        except httpx.TransportError as exc:
            failure = translate_transport_error(exc, system=SYSTEM, request=request)
            self.stats.count(error=failure)
            raise failure from exc
        self.bucket.observe(response.headers.get(CALL_LIMIT_HEADER))
        self.served_version = response.headers.get("X-Shopify-API-Version") or self.served_version
        body = _parse(response.content)
        error = error_from_response(response, request=request, body=body)
        self.stats.count(error=error)
        if isinstance(error, RateLimitedError):
            self.bucket.full()
        if error is not None:
            raise error
        if not response.content:
            return {}, response
        if not isinstance(body, dict):
            raise UnavailableError("answer was not JSON (truncated?)", system=SYSTEM, request=request)
        return body, response


def _next_page(response: httpx.Response) -> str | None:
    """The ``page_info`` of the ``Link`` header's ``rel="next"`` URL, if there is one."""
    link = response.links.get("next")
    if not link or not link.get("url"):
        return None
    values = parse_qs(urlsplit(link["url"]).query).get("page_info")
    return values[0] if values else None


def _parse(content: bytes) -> Any:
    """The answer's JSON with every number that has a fraction as ``Decimal``; None if it is not JSON."""
    if not content:
        return None
    try:
        return json.loads(content, parse_float=Decimal)
    except ValueError:
        return None


def _member(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if not isinstance(value, dict):
        raise UnavailableError(f"answer lacks {name!r}", system=SYSTEM)
    return value
