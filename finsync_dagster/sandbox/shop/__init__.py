"""A sandbox of a Shopify shop's Admin REST API (``../shared/contracts/shop-api.md``), served on loopback.

Layout, in moto's split and the FreshBooks and Infor sandboxes' shape (see
``finsync_dagster/sandbox/__init__.py``): ``service.py`` is the runner's entry and writes
``shop-truth.json``; ``backend.py`` holds all state of one sandbox (store, tokens, leaky bucket,
webhooks, clock, faults) and its control-plane hooks; ``app.py`` builds its app behind ``gate.py`` (the
version in the path, ``X-Shopify-Access-Token``, the leaky bucket, the headers every answer carries) and
the fault injector; ``routes.py`` maps paths to handlers; ``handlers.py`` answers the Admin API;
``paging.py`` parses ``orders.json``'s filters and pages with ``Link`` cursors; ``models.py`` holds the
records and what derives from them, ``pricing.py`` the order arithmetic, ``store.py`` every change a
shopper or the merchant makes; ``shapes.py`` renders records in the API's field names; ``errors.py``
holds the ``{"errors": ...}`` answers; ``webhooks.py`` the subscriptions and signed delivery;
``control.py`` this system's own control routes; ``seed.py`` builds ``demo``, ``empty`` and ``--scale N``.

Endpoints (REST ``2025-10``, under ``/admin/api/{version}/``)
------------------------------------------------------------
- ``orders.json`` (``ids``, ``limit`` 1-250, default 50, ``since_id``, ``created_at_min/max``,
  ``updated_at_min/max``, ``processed_at_min/max``, ``status``, ``financial_status``,
  ``fulfillment_status``, ``fields``; ``page_info`` cursors in ``Link``), ``orders/count.json``,
  ``orders/{id}.json``; ``orders/{id}/transactions.json`` (also ``/count`` and ``/{id}``),
  ``orders/{id}/refunds.json`` (and ``/{id}``), ``orders/{id}/fulfillments.json`` (and ``/count``);
  ``webhooks.json`` (GET, POST), ``webhooks/count.json``, ``webhooks/{id}.json`` (GET, PUT, DELETE);
  ``shop.json``. Customers come embedded in orders (the contract has no customers endpoint).
- ``POST /admin/oauth/access_token`` (client-credentials grant: ``client_id`` and the app's secret,
  ``webhook_secret`` in sandbox.json) answers ``{"access_token": "shpca_...", "scope", "expires_in":
  86399}``; those tokens expire on the sandbox clock. The custom app's ``shpat_`` token never expires.
- Control plane (never faulted or rate limited): the shared ``/sandbox`` routes of
  ``finsync_dagster/sandbox/control.py`` (details and counts, reset, clock, faults, token expiry,
  settings, truth), with ``/sandbox/settings`` holding ``bucket_size`` (40), ``leak_per_second`` (2),
  ``oldest_api_version`` (2025-01), ``access_token_lifetime`` (86399) and ``webhooks`` (``delay``,
  ``retry_base``, ``max_retries``, ``timeout``, ``connect_timeout``, ``duplicate_rate``,
  ``shuffle_window``, ``seed``); an unknown name is 400. This system's own routes are in
  ``control.py``: check out, pay, edit, cancel, refund, fulfil and delete orders, and the webhook
  deliveries.

Contract choices (UNCONFIRMED points of the contract, decided here)
------------------------------------------------------------------
- Versions: any well-formed ``YYYY-MM`` (or ``unstable``) is served; older than ``oldest_api_version``
  falls forward to it; a malformed one is 404 ``{"errors": "Not Found"}``; ``X-Shopify-API-Version``
  names the version that answered. Versions' differences are not emulated: every version answers 2025-10.
- ``limit`` above 250 (or below 1) is 400 ``{"errors": {"limit": "Invalid value."}}``, not clamped; the
  obsolete ``page`` is 400. A bad date filter is 400 on its name. A date without an offset is read in the
  shop's time zone (America/New_York). Unknown parameters are ignored.
- Default order of ``orders.json``: newest first (``created_at``, then ``id``, descending); with
  ``since_id`` ascending ``id``. ``status`` defaults to ``open`` for lists and counts: ``open`` means neither
  closed nor cancelled; ``closed`` has ``closed_at``; ``cancelled`` has ``cancelled_at``.
- ``page_info`` is base64url JSON of the first request's filters, the boundary's sort key and the
  direction; a request with it that adds anything but ``limit`` and ``fields`` is 400
  ``{"errors": {"<param>": "<param> cannot be passed when page_info is present. ..."}}``; a bad one is
  400 ``{"errors": {"page_info": "Invalid value."}}``.
- The leaky bucket is per access token and counts every call under ``/admin/api`` that passed the token
  check; the header shows the bucket's fill rounded up. ``Retry-After`` is fractional seconds ("0.5").
  The 429 body names the leak rate: ``Exceeded 2 calls per second for api client. ...``.
- Money: the shop's currency is USD; Canadian buyers pay in CAD (``presentment_currency``). CAD prices
  are the market's fixed prices, the same numbers as the catalogue (as the demo business bills its CAD
  clients), and the shop-currency figures convert them at 1.37 CAD per USD, each currency's figures
  computed from its own unit prices so that both add up (``pricing.py``). Always two decimals.
- Taxes exclude prices (``taxes_included`` false): 8.25 % "Sales Tax" in the US, 5 % "GST" in Canada,
  per line on the discounted amount, rounded half-up; shipping (9.99, free from 75.00) is untaxed.
  Discount codes (``WELCOME10``: 10 %, ``SAVE15``: 15.00 off) are spread across lines by line total.
- Transactions are in the presentment currency. ``total_outstanding`` is in the shop's currency.
  ``financial_status``: cancelled with nothing captured is ``voided``; any refund makes it
  ``partially_refunded`` or ``refunded``; otherwise ``pending``/``authorized`` before a capture,
  ``partially_paid`` or ``paid`` after. Refund line amounts (``subtotal``, ``total_tax``) are JSON
  numbers, as in Shopify's fixtures.
- Edits: lowering a line keeps its ``quantity`` and lowers ``current_quantity``; an added item is a new
  line. ``total_*`` figures count every line's ``quantity``; ``current_*`` figures count current
  quantities and shipping not refunded. A goodwill refund is an order adjustment
  (``refund_discrepancy``) and owes nothing.
- A paid and fulfilled order is closed (auto-archive on); a cancelled order is closed. Cancelling an
  unpaid order removes its lines and shipping; a paid one is refunded in full unless ``refund`` is false.
- Deleted orders vanish from every list (``orders/delete`` carries ``{"id"}`` only).
- Webhooks: see ``webhooks.py`` (retries compressed, subscription removed after one delivery's retries
  all fail, ``http://`` allowed on loopback, event ids per change and topic).
- The ``revoke`` fault answers 401 once; the token itself stays valid (a custom app's token cannot be
  refreshed, so a real revocation needs a person).
"""

from __future__ import annotations

from finsync_dagster.sandbox.shop.app import create_app
from finsync_dagster.sandbox.shop.backend import ShopSandbox
from finsync_dagster.sandbox.shop.service import ShopService

service = ShopService()

__all__ = ["ShopSandbox", "ShopService", "create_app", "service"]
