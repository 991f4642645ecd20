"""The FreshBooks client's HTTP layer over ``httpx.MockTransport``: how answers become finsync errors,
what is retried (and what is never resent), how tokens are refreshed, and how listings are paged.

The mock plays FreshBooks at the transport boundary only; everything above it is the real client.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from finsync_dagster.errors import (
    AuthenticationError,
    ForbiddenError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
    ValidationError,
)
from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.freshbooks import FreshBooksClient
from finsync_dagster.resources.http_policy import HttpPolicy, RateLimiter
from tests.clients.freshbooks.helpers import (
    ACCESS_TOKEN,
    ACCOUNT,
    CLIENT_SECRET,
    FAST,
    PAIR,
    REFRESH_TOKEN,
    store_token,
)

MakeClient = Callable[..., FreshBooksClient]
INVOICES = f"/accounting/account/{ACCOUNT}/invoices/invoices"
CLIENTS = f"/accounting/account/{ACCOUNT}/users/clients"


def ok(result: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"response": {"result": result}})


def accounting_error(status: int, errno: int, message: str, field: str | None = None) -> httpx.Response:
    error = {"errno": errno, "field": field, "message": message, "object": "client", "value": ""}
    return httpx.Response(status, json={"response": {"errors": [error]}})


def token_answer(access: str, refresh: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": 43200,
            "scope": "user:profile:read",
            "created_at": int(time.time()),
        },
    )


class Recorder:
    """Answers requests from a script and remembers them."""

    def __init__(self, *answers: httpx.Response | Callable[[httpx.Request], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request) if callable(answer) else answer

    def methods(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


# -- error translation ---------------------------------------------------------------------------------


def test_validation_error_names_the_field_and_is_not_retried(make_client: MakeClient) -> None:
    server = Recorder(accounting_error(422, 1004, "Invalid value for field email.", "email"))
    client = make_client(server)

    with pytest.raises(ValidationError) as caught:
        client.update("clients", 7, {"email": "not-an-email"})

    assert caught.value.field == "email"
    assert caught.value.code == "1004"
    assert caught.value.status == 422
    assert "Invalid value for field email." in str(caught.value)
    assert len(server.requests) == 1


def test_unknown_id_is_not_found(make_client: MakeClient) -> None:
    server = Recorder(accounting_error(404, 1012, "Client not found.", "userid"))
    with pytest.raises(NotFoundError, match="Client not found"):
        make_client(server).get("clients", 99)
    assert len(server.requests) == 1


def test_feature_not_available_answered_with_200_is_an_error(make_client: MakeClient) -> None:
    body = {"response": {"errors": [{"errno": 12001, "message": "You do not have access to items."}]}}
    client = make_client(Recorder(httpx.Response(200, json=body)))
    with pytest.raises(ForbiddenError, match="do not have access to items"):
        client.get("items", 1)


def test_persistent_5xx_surfaces_as_unavailable_after_the_policy_attempts(make_client: MakeClient) -> None:
    server = Recorder(httpx.Response(503, text="<html>gateway</html>"))
    with pytest.raises(UnavailableError) as caught:
        make_client(server).get("clients", 1)
    assert caught.value.status == 503
    assert len(server.requests) == FAST.max_attempts


# -- retries -------------------------------------------------------------------------------------------


def test_retry_after_is_honoured_on_429(make_client: MakeClient) -> None:
    record = {"id": 1, "userid": 1, "organization": "Acme"}
    server = Recorder(_with_retry_after(0.4), ok({"client": record}))
    client = make_client(server)

    started = time.monotonic()
    assert client.get("clients", 1) == record
    assert time.monotonic() - started >= 0.4
    assert client.stats.rate_limited == 1


def _with_retry_after(seconds: float) -> httpx.Response:
    body = {"response": {"errors": [{"errno": 429, "message": "Too Many Requests"}]}}
    return httpx.Response(429, json=body, headers={"Retry-After": str(seconds)})


def test_rate_limited_error_carries_retry_after(make_client: MakeClient) -> None:
    client = make_client(Recorder(_with_retry_after(0)), policy=HttpPolicy(max_attempts=1))
    with pytest.raises(RateLimitedError) as caught:
        client.get("clients", 1)
    assert caught.value.retry_after == 0


def test_dropped_connections_and_5xx_are_retried_for_reads(make_client: MakeClient) -> None:
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    server = Recorder(drop, httpx.Response(500), ok({"client": {"id": 3}}))
    assert make_client(server).get("clients", 3) == {"id": 3}
    assert len(server.requests) == 3


# -- creates are never blindly repeated ----------------------------------------------------------------


def test_create_that_may_have_applied_is_surfaced_not_resent(make_client: MakeClient) -> None:
    server = Recorder(httpx.Response(502))
    with pytest.raises(OutcomeUnknownError, match="may have been applied"):
        make_client(server).create("clients", {"organization": "Acme"})
    assert server.methods() == [f"POST {CLIENTS}"]


def test_create_that_applied_before_a_5xx_is_found_by_its_lookup(make_client: MakeClient) -> None:
    created = {"id": 41, "invoiceid": 41, "invoice_number": "FS-0001"}

    def lookup(request: httpx.Request) -> httpx.Response:
        assert request.url.params["search[invoice_number]"] == "FS-0001"
        return ok({"invoices": [created], "page": 1, "pages": 1, "per_page": 2, "total": 1})

    server = Recorder(httpx.Response(504), lookup)
    result = make_client(server).create(
        "invoices", {"invoice_number": "FS-0001", "customerid": 1}, lookup={"invoice_number": "FS-0001"}
    )

    assert result == created
    assert server.methods() == [f"POST {INVOICES}", f"GET {INVOICES}"]


def test_create_not_applied_per_lookup_is_sent_again(make_client: MakeClient) -> None:
    empty = ok({"invoices": [], "page": 1, "pages": 0, "per_page": 2, "total": 0})
    server = Recorder(httpx.Response(500), empty, ok({"invoice": {"id": 42}}))
    result = make_client(server).create("invoices", {"invoice_number": "X"}, lookup={"invoice_number": "X"})
    assert result == {"id": 42}
    assert server.methods() == [f"POST {INVOICES}", f"GET {INVOICES}", f"POST {INVOICES}"]


def test_create_refused_with_429_is_resent(make_client: MakeClient) -> None:
    server = Recorder(_with_retry_after(0), ok({"client": {"id": 5}}))
    assert make_client(server).create("clients", {"organization": "Acme"}) == {"id": 5}
    assert server.methods() == [f"POST {CLIENTS}", f"POST {CLIENTS}"]


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout], ids=lambda e: e.__name__
)
def test_create_that_never_left_the_client_is_sent_again(
    make_client: MakeClient, failure: type[httpx.TransportError]
) -> None:
    def unsent(request: httpx.Request) -> httpx.Response:
        raise failure("no connection", request=request)

    server = Recorder(unsent, ok({"client": {"id": 6}}))
    assert make_client(server).create("clients", {"organization": "Acme"}) == {"id": 6}
    assert server.methods() == [f"POST {CLIENTS}", f"POST {CLIENTS}"]


def test_create_sends_money_as_decimal_strings(make_client: MakeClient) -> None:
    server = Recorder(ok({"payment": {"id": 1}}))
    make_client(server).create(
        "payments", {"invoiceid": 3, "amount": {"amount": Decimal("10.50"), "code": "USD"}}
    )
    assert json.loads(server.requests[0].content) == {
        "payment": {"invoiceid": 3, "amount": {"amount": "10.50", "code": "USD"}}
    }


def test_delete_whose_answer_was_lost_is_not_an_error(make_client: MakeClient) -> None:
    server = Recorder(httpx.Response(503), accounting_error(404, 1012, "Invoice not found.", "invoiceid"))
    make_client(server).delete("invoices", 9)
    assert server.methods() == [f"DELETE {INVOICES}/9"] * 2


# -- tokens ---------------------------------------------------------------------------------------------


def test_401_refreshes_the_token_commits_it_then_retries(make_client: MakeClient, ledger: Ledger) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/oauth/token":
            form = parse_qs(request.content.decode())
            assert form["grant_type"] == ["refresh_token"]
            assert form["refresh_token"] == [REFRESH_TOKEN]
            assert form["client_secret"] == [CLIENT_SECRET]
            assert form["redirect_uri"] == ["https://localhost/finsync/callback"]
            return token_answer("access-2", "refresh-2")
        if request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}":
            return accounting_error(401, 1003, "The server could not verify that you are authorized.")
        assert request.headers["Authorization"] == "Bearer access-2"
        stored = ledger.get_token("freshbooks", PAIR)
        assert stored is not None and stored.refresh_token == "refresh-2"  # committed before use
        return ok({"client": {"id": 1}})

    server = Recorder(api)
    assert make_client(server).get("clients", 1) == {"id": 1}
    assert [r.url.path for r in server.requests] == [f"{CLIENTS}/1", "/auth/oauth/token", f"{CLIENTS}/1"]


def test_token_about_to_expire_is_refreshed_before_the_request(
    make_client: MakeClient, ledger: Ledger
) -> None:
    store_token(ledger, expires_in=10)
    server = Recorder(
        lambda r: (
            token_answer("access-2", "refresh-2") if r.url.path == "/auth/oauth/token" else ok({"client": {}})
        )
    )
    make_client(server).get("clients", 1)
    assert [r.url.path for r in server.requests] == ["/auth/oauth/token", f"{CLIENTS}/1"]
    assert server.requests[1].headers["Authorization"] == "Bearer access-2"


def test_spent_refresh_token_asks_for_a_reconnect(make_client: MakeClient, ledger: Ledger) -> None:
    store_token(ledger, expires_in=-1)
    refused = httpx.Response(400, json={"error": "invalid_grant", "error_description": "refresh token used"})
    with pytest.raises(AuthenticationError, match="finsync connect freshbooks") as caught:
        make_client(Recorder(refused)).get("clients", 1)
    assert caught.value.code == "invalid_grant"


def test_without_a_stored_token_the_error_says_how_to_connect(make_client: MakeClient) -> None:
    client = make_client(Recorder(ok({})), stored=False)
    with pytest.raises(AuthenticationError, match=f"connect freshbooks --pair {PAIR}"):
        client.get("clients", 1)


def test_token_endpoint_429_is_retried_with_its_retry_after(make_client: MakeClient, ledger: Ledger) -> None:
    store_token(ledger, expires_in=-1)
    limited = httpx.Response(429, json={"error": "too_many_requests"}, headers={"Retry-After": "0"})
    server = Recorder(
        limited,
        lambda r: (
            token_answer("access-2", "refresh-2") if r.url.path == "/auth/oauth/token" else ok({"client": {}})
        ),
    )
    make_client(server).get("clients", 1)
    assert [r.url.path for r in server.requests] == ["/auth/oauth/token"] * 2 + [f"{CLIENTS}/1"]


# -- listing ---------------------------------------------------------------------------------------------


class PagedInvoices:
    """``pages`` pages of invoices, answered after a pause so concurrency shows; counts requests in flight."""

    def __init__(self, pages: int, per_page: int = 3, pause: float = 0.05) -> None:
        self.pages, self.per_page, self.pause = pages, per_page, pause
        self.in_flight = self.max_in_flight = 0
        self.queries: list[httpx.QueryParams] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.queries.append(request.url.params)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.pause)
        with self._lock:
            self.in_flight -= 1
        page = int(request.url.params["page"])
        deleted = request.url.params.get("search[vis_state]") == "1"
        base = 10_000 if deleted else 0
        rows = [
            {
                "id": base + (page - 1) * self.per_page + i,
                "amount": {"amount": "1.10", "code": "USD"},
                "total": 2.5,
            }
            for i in range(self.per_page)
        ]
        if page > self.pages:
            rows = []
        return ok(
            {"invoices": rows, "page": page, "pages": self.pages, "per_page": self.per_page, "total": 0}
        )


def test_pages_arrive_in_order_fetched_concurrently_within_the_bound(make_client: MakeClient) -> None:
    server = PagedInvoices(pages=12)
    client = make_client(server)  # FAST: max_concurrency 4

    pages = list(client.iter_pages("invoices", include=("lines",), per_page=3))

    ids = [r["id"] for page in pages for r in page]
    assert ids == list(range(36))
    assert 1 < server.max_in_flight <= FAST.max_concurrency
    assert all(q.get_list("include[]") == ["lines"] for q in server.queries)


def test_numbers_arrive_as_decimals_never_floats(make_client: MakeClient) -> None:
    pages = list(make_client(PagedInvoices(pages=1)).iter_pages("invoices"))
    assert pages[0][0]["total"] == Decimal("2.5")


def test_deleted_records_are_listed_after_the_others_on_request(make_client: MakeClient) -> None:
    server = PagedInvoices(pages=2, per_page=2, pause=0)
    ids = [r["id"] for page in make_client(server).iter_pages("invoices", include_deleted=True) for r in page]
    assert ids == [0, 1, 2, 3, 10_000, 10_001, 10_002, 10_003]


def test_updated_window_is_widened_to_whole_eastern_days(make_client: MakeClient) -> None:
    server = PagedInvoices(pages=1, pause=0)
    # 03:00 UTC on 2 March is still 1 March in New York (EST, UTC-5).
    since = datetime(2024, 3, 2, 3, 0, tzinfo=UTC)
    until = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
    list(make_client(server).iter_pages("invoices", updated_min=since, updated_max=until))
    assert server.queries[0]["search[updated_min]"] == "2024-03-01"
    assert server.queries[0]["search[updated_max]"] == "2024-03-06"


def test_per_page_is_capped_at_the_api_maximum(make_client: MakeClient) -> None:
    server = PagedInvoices(pages=1, pause=0)
    list(make_client(server).iter_pages("invoices", per_page=500))
    assert server.queries[0]["per_page"] == "100"


def test_client_side_rate_limiter_paces_requests(make_client: MakeClient) -> None:
    server = PagedInvoices(pages=10, pause=0)
    policy = HttpPolicy(max_concurrency=2)
    started = time.monotonic()
    list(make_client(server, policy=policy, limiter=RateLimiter(20, burst=2)).iter_pages("invoices"))
    # A burst of 2, then 8 more at 20/s: at least 0.4 s.
    assert time.monotonic() - started >= 0.35


# -- secrets --------------------------------------------------------------------------------------------


def test_secrets_never_appear_in_errors_or_reprs(make_client: MakeClient, ledger: Ledger) -> None:
    store_token(ledger, expires_in=-1)
    refused = httpx.Response(401, json={"error": "invalid_client", "error_description": "bad client"})
    client = make_client(Recorder(refused))
    with pytest.raises(AuthenticationError) as caught:
        client.get("clients", 1)

    texts = [
        str(caught.value),
        repr(caught.value),
        repr(client),
        repr(client.tokens),
        repr(ledger.get_token("freshbooks", PAIR)),
    ]
    for secret in (CLIENT_SECRET, ACCESS_TOKEN, REFRESH_TOKEN):
        assert all(secret not in text for text in texts), secret
