"""The shop client's pieces without a server: answers as finsync errors, the bucket's bookkeeping, values.

Statuses and bodies are the contract's (section 5); a ``MockTransport`` answers, so each case is exact.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from finsync_dagster.errors import (
    SAFE_TO_RESEND,
    AuthenticationError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
    ValidationError,
)
from finsync_dagster.resources.http_policy import HttpPolicy
from finsync_dagster.resources.shop import CallBucket, ShopClient, money, query_time, utc

FAST = HttpPolicy(max_attempts=2, backoff_initial=0.001, backoff_max=0.001)


def client_answering(status: int, body: object, headers: dict[str, str] | None = None) -> ShopClient:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    return ShopClient(
        api_url="https://acme.myshopify.com",
        api_version="2025-10",
        access_token="shpat_secret_value",
        policy=FAST,
        transport=httpx.MockTransport(handler),
    )


@pytest.mark.parametrize(
    ("status", "body", "error", "field"),
    [
        (401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
         AuthenticationError, None),
        (402, {"errors": "Unavailable Shop"}, ForbiddenError, None),
        (403, {"errors": "[API] This action requires merchant approval for read_orders scope."}, ForbiddenError, None),
        (404, {"errors": "Not Found"}, NotFoundError, None),
        (423, {"errors": "Locked"}, ForbiddenError, None),
        (400, {"errors": {"page_info": "Invalid value."}}, ValidationError, "page_info"),
        (422, {"errors": {"address": ["for this topic has already been taken"]}}, ValidationError, "address"),
        (500, {"errors": "Internal Server Error"}, UnavailableError, None),
        (503, None, UnavailableError, None),
    ],
)  # fmt: skip
def test_answers_become_the_errors_of_the_one_tree(
    status: int, body: object, error: type[Exception], field: str | None
) -> None:
    with client_answering(status, body) as client, pytest.raises(error) as raised:
        client.count_orders()
    assert getattr(raised.value, "field", None) == field
    assert getattr(raised.value, "system", None) == "shop" and getattr(raised.value, "status", None) == status
    assert "shpat_secret_value" not in str(raised.value)


def test_a_429_is_safe_to_resend_and_carries_a_fractional_retry_after() -> None:
    body = {
        "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
    }
    with (
        client_answering(429, body, {"Retry-After": "0.01"}) as client,
        pytest.raises(RateLimitedError) as raised,
    ):
        client.count_orders()
    assert raised.value.retry_after == 0.01 and isinstance(raised.value, SAFE_TO_RESEND)
    assert client.stats.rate_limited == 2  # both attempts were throttled


def test_a_next_link_is_followed_on_the_clients_own_host_only() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if "page_info" in request.url.params:
            return httpx.Response(200, json={"orders": [{"id": 2}]})
        link = '<https://evil.example.com/admin/api/2025-10/orders.json?limit=1&page_info=abc>; rel="next"'
        return httpx.Response(200, json={"orders": [{"id": 1}]}, headers={"Link": link})

    client = ShopClient(api_url="https://acme.myshopify.com", api_version="2025-10", access_token="t",
                        policy=FAST, transport=httpx.MockTransport(handler))  # fmt: skip
    with client:
        ids = [order["id"] for order in client.iter_orders(limit=1)]
    assert ids == [1, 2]
    assert {url.host for url in seen} == {"acme.myshopify.com"}
    assert dict(seen[0].params) == {"limit": "1", "status": "any"}
    assert dict(seen[1].params) == {"limit": "1", "page_info": "abc"}  # filters stay in the cursor


def test_the_bucket_learns_size_and_use_and_is_full_after_a_429() -> None:
    bucket = CallBucket(size=40, margin=2)
    assert bucket.leak_per_second == 2
    bucket.observe("32/80")
    assert bucket.size == 80 and bucket.leak_per_second == 4
    bucket.observe("garbage")
    bucket.observe("")
    assert bucket.size == 80
    fixed = CallBucket(size=10, leak_per_second=1000, margin=0)
    fixed.full()
    fixed.acquire()  # waits about a millisecond for one slot to leak
    assert 0 < fixed.waited < 0.1


def test_values_are_decimal_and_utc() -> None:
    assert money("67.52") == Decimal("67.52") and money(Decimal("0.06")) == Decimal("0.06")
    with pytest.raises(ValueError, match="not an amount"):
        money("12,50")
    assert utc("2025-11-03T14:22:05-05:00") == datetime(2025, 11, 3, 19, 22, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="no UTC offset"):
        utc("2025-11-03T14:22:05")
    eastern = timezone(timedelta(hours=-5))
    assert query_time(datetime(2025, 11, 3, 14, 22, 5, 999, tzinfo=eastern)) == "2025-11-03T19:22:05+00:00"
