"""Conformance: the official FreshBooks Python SDK (PyPI ``freshbooks-sdk``) works, unmodified, against
the sandbox.

The SDK is pointed at the sandbox the documented way, through ``FRESHBOOKS_API_URL`` and
``FRESHBOOKS_AUTH_URL`` read when the ``Client`` is constructed (contract section 7). If the sandbox
drifted from the real envelopes, ids, pagination keys or error bodies, the SDK would fail here first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from freshbooks import (
    Client,
    FilterBuilder,
    FreshBooksError,
    IncludesBuilder,
    PaginateBuilder,
    VisState,
)
from freshbooks.errors import FreshBooksNotImplementedError

from tests.fixtures.freshbooks import FreshBooksSandboxHandle


def _sdk(monkeypatch: pytest.MonkeyPatch, sb: FreshBooksSandboxHandle, **kwargs: Any) -> Client:
    monkeypatch.setenv("FRESHBOOKS_API_URL", sb.info["api_url"])
    monkeypatch.setenv("FRESHBOOKS_AUTH_URL", sb.info["auth_url"])
    return Client(
        client_id=sb.info["client_id"],
        client_secret=sb.info["client_secret"],
        redirect_uri=sb.info["redirect_uri"],
        **kwargs,
    )


def _code_from(authorize_url: str) -> str:
    response = httpx.get(authorize_url)
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


@pytest.fixture
def demo_sdk(monkeypatch: pytest.MonkeyPatch, freshbooks_sandbox: FreshBooksSandboxHandle) -> Client:
    return _sdk(monkeypatch, freshbooks_sandbox, access_token=freshbooks_sandbox.tokens()["access_token"])


@pytest.fixture
def empty_sdk(
    monkeypatch: pytest.MonkeyPatch, freshbooks_empty_sandbox: FreshBooksSandboxHandle
) -> Iterator[Client]:
    yield _sdk(
        monkeypatch, freshbooks_empty_sandbox, access_token=freshbooks_empty_sandbox.tokens()["access_token"]
    )
    freshbooks_empty_sandbox.state.webhooks.clear()


def test_authorization_code_refresh_and_identity(
    monkeypatch: pytest.MonkeyPatch, freshbooks_sandbox: FreshBooksSandboxHandle
) -> None:
    sb = freshbooks_sandbox
    client = _sdk(monkeypatch, sb)
    url = client.get_auth_request_url(scopes=["user:profile:read", "user:clients:read"])
    assert url.startswith(f"{sb.info['auth_url']}/oauth/authorize?")
    token = client.get_access_token(_code_from(url))
    assert client.access_token == token.access_token
    assert token.access_token_expires_at > datetime.now(UTC)
    first_refresh = client.refresh_token

    identity = client.current_user()
    assert identity.identity_id == sb.info["identity_id"]
    business = identity.business_memberships[0].business
    assert business.account_id == sb.info["account_id"]
    assert business.id == sb.info["business_id"]

    refreshed = client.refresh_access_token()
    assert refreshed.refresh_token != first_refresh
    assert client.current_user().identity_id == sb.info["identity_id"]
    # A second process holding the old refresh token is refused: refresh tokens are single-use.
    stale = _sdk(monkeypatch, sb, refresh_token=first_refresh)
    with pytest.raises(FreshBooksError) as refused:
        stale.refresh_access_token()
    assert refused.value.status_code == 400


def test_paginated_list_loop_collects_every_invoice(
    demo_sdk: Client, freshbooks_sandbox: FreshBooksSandboxHandle
) -> None:
    account_id = freshbooks_sandbox.account_id
    includes = IncludesBuilder().include("lines")
    page = demo_sdk.invoices.list(account_id, builders=[PaginateBuilder(1, 50), includes])
    everything = page
    while page.pages.page < page.pages.pages:
        page = demo_sdk.invoices.list(
            account_id, builders=[PaginateBuilder(page.pages.page + 1, 50), includes]
        )
        everything = everything + page
    assert (
        len(everything) == everything.pages.total == len(freshbooks_sandbox.state.account.tables["invoices"])
    )
    first = everything[0]
    assert first.id == first.invoiceid
    assert isinstance(first.amount.amount, str) and Decimal(first.amount.amount) > 0
    assert len(first.lines) >= 1
    assert first.updated.tzinfo is not None  # Eastern wall-clock text parsed and converted to UTC by the SDK


def test_filtered_lists(demo_sdk: Client, freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    account_id = freshbooks_sandbox.account_id
    clients = demo_sdk.clients.list(account_id, builders=[PaginateBuilder(1, 5)])
    ids = [c.id for c in clients][:3]
    by_ids = demo_sdk.clients.list(account_id, builders=[FilterBuilder().in_list("userid", ids)])
    assert sorted(c.id for c in by_ids) == sorted(ids)
    buyer = demo_sdk.invoices.list(account_id, builders=[PaginateBuilder(1, 1)])[0].customerid
    customer = demo_sdk.invoices.list(account_id, builders=[FilterBuilder().equals("customerid", buyer)])
    assert customer.pages.total >= 1 and {i.customerid for i in customer} == {buyer}
    window = FilterBuilder().between("updated", "2000-01-01", "2100-01-01")
    assert demo_sdk.invoices.list(account_id, builders=[window]).pages.total == len(
        freshbooks_sandbox.state.account.tables["invoices"]
    )
    nothing = FilterBuilder().between("updated", "2100-01-01")
    assert demo_sdk.invoices.list(account_id, builders=[nothing]).pages.total == 0


def test_errors_surface_with_the_api_code(
    demo_sdk: Client, freshbooks_sandbox: FreshBooksSandboxHandle
) -> None:
    with pytest.raises(FreshBooksError) as missing:
        demo_sdk.clients.get(freshbooks_sandbox.account_id, 12345)
    assert (missing.value.status_code, missing.value.error_code, str(missing.value)) == (
        404,
        1012,
        "Client not found.",
    )
    with pytest.raises(FreshBooksError) as invalid:
        demo_sdk.clients.create(freshbooks_sandbox.account_id, {"note": "no name"})
    assert (invalid.value.status_code, invalid.value.error_code) == (422, 7012)


def test_create_update_delete_of_each_resource(
    empty_sdk: Client, freshbooks_empty_sandbox: FreshBooksSandboxHandle
) -> None:
    acct = freshbooks_empty_sandbox.account_id
    client = empty_sdk.clients.create(acct, {"organization": "SDK Ltd", "email": "sdk@example.com"})
    assert empty_sdk.clients.update(acct, client.id, {"organization": "SDK Two"}).organization == "SDK Two"

    lines = [{"name": "Work", "qty": 2, "unit_cost": {"amount": "30.00", "code": "USD"}}]
    invoice = empty_sdk.invoices.create(
        acct,
        {"customerid": client.id, "create_date": "2026-04-01", "lines": lines},
        includes=IncludesBuilder().include("lines"),
    )
    assert invoice.amount.amount == "60.00" and len(invoice.lines) == 1
    assert empty_sdk.invoices.update(acct, invoice.id, {"notes": "Thanks"}).notes == "Thanks"

    payment = empty_sdk.payments.create(
        acct, {"invoiceid": invoice.id, "amount": {"amount": "60.00"}, "date": "2026-04-05", "type": "Check"}
    )
    assert empty_sdk.invoices.get(acct, invoice.id).payment_status == "paid"
    assert empty_sdk.payments.update(acct, payment.id, {"note": "cheque 1001"}).note == "cheque 1001"
    empty_sdk.payments.delete(acct, payment.id)  # PUT vis_state=1
    assert empty_sdk.payments.get(acct, payment.id).vis_state == VisState.DELETED
    assert empty_sdk.invoices.get(acct, invoice.id).payment_status == "unpaid"

    category = empty_sdk.expenses_categories.list(acct)[0]
    assert empty_sdk.expenses_categories.get(acct, category.id).category == category.category
    with pytest.raises(FreshBooksNotImplementedError):
        empty_sdk.expenses_categories.create(acct, {"category": "New"})
    expense = empty_sdk.expenses.create(
        acct,
        {
            "categoryid": category.id,
            "amount": {"amount": "12.00", "code": "USD"},
            "date": "2026-04-02",
            "staffid": 1,
        },
    )
    assert empty_sdk.expenses.update(acct, expense.id, {"vendor": "Cafe"}).vendor == "Cafe"

    item = empty_sdk.items.create(acct, {"name": "Widget", "unit_cost": {"amount": "3.50", "code": "USD"}})
    assert empty_sdk.items.update(acct, item.id, {"name": "Widget 2"}).name == "Widget 2"
    tax = empty_sdk.taxes.create(acct, {"name": "GST", "amount": "5"})
    assert empty_sdk.taxes.update(acct, tax.id, {"number": "RT1"}).number == "RT1"
    vendor = empty_sdk.bill_vendors.create(acct, {"vendor_name": "Paper Co", "currency_code": "USD"})
    assert (
        empty_sdk.bill_vendors.update(acct, vendor.id, {"website": "https://paper.example"}).website
        == "https://paper.example"
    )
    bill = empty_sdk.bills.create(
        acct,
        {
            "vendorid": vendor.id,
            "issue_date": "2026-04-03",
            "due_offset_days": 30,
            "currency_code": "USD",
            "lines": [
                {"categoryid": category.id, "quantity": 1, "unit_cost": {"amount": "99.00", "code": "USD"}}
            ],
        },
    )
    assert empty_sdk.bills.update(acct, bill.id, {"bill_number": "B-1"}).bill_number == "B-1"

    for resource, rid in (
        (empty_sdk.clients, client.id),
        (empty_sdk.invoices, invoice.id),
        (empty_sdk.expenses, expense.id),
        (empty_sdk.items, item.id),
        (empty_sdk.bill_vendors, vendor.id),
        (empty_sdk.bills, bill.id),
    ):
        resource.delete(acct, rid)
        assert resource.get(acct, rid).vis_state == VisState.DELETED
        assert rid not in [r.id for r in resource.list(acct, builders=[PaginateBuilder(1, 100)])]
    empty_sdk.taxes.delete(acct, tax.id)  # HTTP DELETE
    with pytest.raises(FreshBooksError):
        empty_sdk.taxes.get(acct, tax.id)


def test_callbacks(empty_sdk: Client, freshbooks_empty_sandbox: FreshBooksSandboxHandle) -> None:
    acct = freshbooks_empty_sandbox.account_id
    created = empty_sdk.callbacks.create(
        acct, {"event": "invoice.create", "uri": "https://hooks.example/sdk"}
    )
    assert created.callbackid and created.verified is False
    assert [cb.callbackid for cb in empty_sdk.callbacks.list(acct)] == [created.callbackid]
    filtered = empty_sdk.callbacks.list(acct, builders=[FilterBuilder().equals("event", "invoice.create")])
    assert len(filtered) == 1
    assert empty_sdk.callbacks.get(acct, created.callbackid).uri == "https://hooks.example/sdk"
    assert empty_sdk.callbacks.resend_verification(acct, created.callbackid).callbackid == created.callbackid
    verifier = freshbooks_empty_sandbox.state.webhooks.callbacks[created.callbackid].verifier
    assert empty_sdk.callbacks.verify(acct, created.callbackid, verifier).verified is True
    assert empty_sdk.callbacks.update(acct, created.callbackid, {"event": "invoice"}).event == "invoice"
    empty_sdk.callbacks.delete(acct, created.callbackid)
    with pytest.raises(FreshBooksError) as gone:
        empty_sdk.callbacks.get(acct, created.callbackid)
    assert gone.value.status_code == 404
