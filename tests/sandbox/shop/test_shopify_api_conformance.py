"""Conformance: Shopify's own Python library (PyPI ``ShopifyAPI``) works, unmodified, against the sandbox.

The library is pointed at the sandbox through its own session settings (``shopify.Session.setup``:
``protocol``, ``myshopify_domain`` and ``port``). It builds a shop's host as ``<handle>.<myshopify_domain>``
from the first label of the URL it is given, so the handle ``127`` and the domain ``0.0.1`` make it call
``http://127.0.0.1:<port>``. If the sandbox drifted from the real envelopes, the ``Link`` header's form,
the call-limit header or the error bodies, the library would fail here first.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import shopify
from pyactiveresource.connection import UnauthorizedAccess

from tests.fixtures.shop import ShopSandboxHandle


@pytest.fixture
def session(shop_isolated: ShopSandboxHandle) -> Iterator[ShopSandboxHandle]:
    settings = ("protocol", "myshopify_domain", "port")
    saved = {name: getattr(shopify.Session, name) for name in settings}
    port = urlsplit(shop_isolated.info["api_url"]).port
    shopify.Session.setup(protocol="http", myshopify_domain="0.0.1", port=port)
    shopify.ShopifyResource.activate_session(
        shopify.Session("127.0.0.1", shop_isolated.info["api_version"], shop_isolated.token)
    )
    try:
        yield shop_isolated
    finally:
        shopify.ShopifyResource.clear_session()
        shopify.Session.setup(**saved)


def test_the_library_pages_through_every_order_by_its_link_header(session: ShopSandboxHandle) -> None:
    page = shopify.Order.find(status="any", limit=10)
    names = [order.name for order in page]
    while page.has_next_page():
        page = page.next_page()
        names += [order.name for order in page]
    assert len(names) == len(set(names)) == 36
    assert page.has_previous_page()
    assert shopify.Order.count(status="any") == 36


def test_the_library_reads_one_order_with_its_customer_lines_and_money(session: ShopSandboxHandle) -> None:
    first = next(iter(session.state.store.orders))
    order = shopify.Order.find(first)
    assert order.name == "WEB-1001" and order.presentment_currency == "CAD"
    assert order.customer.email == "olivia@cedarpinedesign.example"
    assert [(line.sku, line.quantity) for line in order.line_items] == [("WIDGET-A", 4)]
    assert order.total_price_set.presentment_money.amount == "104.79"
    transactions = shopify.Transaction.find(order_id=first)
    assert [t.kind for t in transactions] == ["sale"]


def test_the_library_subscribes_lists_and_removes_a_webhook(session: ShopSandboxHandle) -> None:
    made = shopify.Webhook.create({"topic": "orders/paid", "address": "https://hooks.example.com/shop"})
    assert made.id and made.errors.full_messages() == []
    again = shopify.Webhook.create({"topic": "orders/paid", "address": "https://hooks.example.com/shop"})
    assert again.errors.full_messages() == ["address for this topic has already been taken"]
    assert [w.id for w in shopify.Webhook.find()] == [made.id]
    made.destroy()
    assert shopify.Webhook.find() == []


def test_the_library_reads_the_call_limit_header(session: ShopSandboxHandle) -> None:
    assert shopify.Limits.credit_limit() == session.state.bucket.size
    assert shopify.Limits.credit_used() >= 1


def test_a_wrong_token_is_the_librarys_unauthorized_access(session: ShopSandboxHandle) -> None:
    shopify.ShopifyResource.activate_session(
        shopify.Session("127.0.0.1", session.info["api_version"], "shpat_0000000000000000")
    )
    with pytest.raises(UnauthorizedAccess):
        shopify.Order.find(status="any")
