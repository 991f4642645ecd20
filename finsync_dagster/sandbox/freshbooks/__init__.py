"""A contract-faithful sandbox of the FreshBooks Accounting API (``../shared/contracts/freshbooks-api.md``).

Layout, in moto's split and the Infor sandbox's shape (see ``finsync_dagster/sandbox/__init__.py``):
``service.py`` is the runner's entry; ``backend.py`` holds all state of one sandbox (accounts, OAuth,
webhooks, clock, limits, faults) and its control-plane hooks; ``app.py`` builds its Starlette app;
``routes.py`` maps paths to handlers; ``handlers.py`` parses, calls the model and serialises;
``models.py`` owns records, pagination, filters and the rate limiter, with the write rules in
``rules.py`` and the value conventions (money, Eastern time, lines, derived statuses) in ``values.py``;
``shapes.py`` renders records in the API's field names; ``errors.py`` holds the provider-shaped errors
(one Starlette exception handler renders them); ``oauth.py`` holds the token store and the OAuth and
identity endpoints; ``webhooks.py`` registers callbacks and delivers signed events from a background
thread; ``control.py`` adds this system's own control routes; ``seed.py`` builds ``demo``, ``empty`` and
``--scale N``.

Endpoints
---------
- ``GET /oauth/authorize[/]``, ``POST /auth/oauth/token``, ``GET /auth/api/v1/users/me``;
- ``/accounting/account/{account_id}/`` + ``users/clients``, ``invoices/invoices``,
  ``credit_notes/credit_notes``, ``payments/payments``, ``expenses/expenses``, ``expenses/categories``
  (read-only), ``items/items``, ``taxes/taxes``, ``bill_vendors/bill_vendors``, ``bills/bills``: list, get,
  create, update, delete;
- ``/events/account/{account_id}/events/callbacks[/{id}]``: create, list, get, update, verify, resend,
  delete;
- control plane (never faulted or rate limited): the shared ``/sandbox`` routes of
  ``finsync_dagster/sandbox/control.py`` (details and counts, reset, clock, faults, token expiry,
  settings, truth), with ``/sandbox/settings`` holding ``rate_limit_per_minute``,
  ``access_token_lifetime`` and ``webhooks`` (``delay``, ``retry_base``, ``max_attempts``, ``timeout``;
  other names are ignored); and this system's ``GET /sandbox/webhooks/deliveries``.

Contract choices (UNCONFIRMED points of the contract, decided here)
------------------------------------------------------------------
- Default list order: descending id (newest first), as the Classic API did; no ``sort`` support.
- Default ``per_page`` 30; ``page`` 0 counts as 1; a negative or non-numeric page is 400 errno 1014, a
  bad ``per_page`` 400 errno 1013; an empty result has ``pages`` 0 and ``page`` as asked.
- Filters: the per-resource ``search[...]`` names of contract 3.4; "in" filters take the per-resource
  plurals (``search[userids][]``, ``search[invoiceids][]``, ...) and also the generic
  ``search[ids][]`` that integrations send; unknown filter names are ignored, as the API ignores unknown
  parameters. ``*_min`` is inclusive and ``*_max`` exclusive. ``updated_min``/``updated_max`` are
  day-granular: only the date part counts, as midnight US/Eastern (UTC for bills and bill vendors,
  whose timestamps are UTC).
- Filters the write side finds its records by (contract 3.4): clients ``email`` (equal, case-insensitive),
  ``note_like``, ``organization_like``; invoices ``invoice_number``, ``customerid`` and ``po_number``
  (UNCONFIRMED: the official invoice filter table was not readable; chosen as an equality filter, like
  ``invoice_number``, so a key stamped in ``po_number`` finds exactly one invoice); credit notes
  ``credit_number``, ``clientid``, ``currency_code``, ``date_min``/``date_max``.
- Update phases (contract 3.5): a PUT body holding ``ext_vis_state`` applies only that (kept on the record;
  what it changes in FreshBooks is UNCONFIRMED, nothing the sandbox renders), else ``vis_state`` only, else
  an action only (``action_mark_as_sent`` or ``action_email`` take a draft invoice or credit note to
  sent), else the regular fields; every other field of the body is silently dropped.
- Credit notes (UNCONFIRMED beyond the path, single key and PUT delete of contract 2): ``id``/``creditid``,
  ``clientid`` (required; the client's names and currency are copied), ``credit_number`` (given, or the
  previous one incremented from ``CN-0000``), ``create_date`` (required), ``currency_code``, ``lines`` as
  an invoice's (required, the total must be positive; returned with ``include[]=lines``), ``amount`` and
  ``tax_amount`` (Money), ``status``/``display_status`` ``created`` or ``sent``, ``notes``, ``terms``,
  ``description``, ``vis_state``. Applying a credit to an invoice is not modelled.
- A soft-deleted record is still returned by GET on its id, with ``vis_state`` 1.
- Accounting create answers 200. Accounting HTTP DELETE answers 200 ``{"response": {}}`` and is a soft
  delete (taxes, which have no ``vis_state``, are removed); callbacks DELETE answers 204.
- Invoice ``status`` codes follow the docs (1 draft, 2 sent or overdue, 3 viewed, 4 paid, 8 partial);
  ``v3_status`` adds ``overdue`` when a sent invoice is unpaid past its due date on the sandbox clock.
  Lines are returned only with ``include[]=lines`` (also on create and update). Line tax is computed
  per line on the discounted amount and rounded half-up to the cent.
- A payment above the invoice's outstanding balance is applied up to the balance; the excess becomes a
  credit (``overpaymentid`` set). Payment currency must match the invoice's.
- Invoice numbers, when omitted, increment the previous number as a string (``FS-0180`` -> ``FS-0181``).
- A refresh does not revoke the previous access token; a used refresh token gets 400 ``invalid_grant``.
- 429 (rate limit) carries ``Retry-After`` in seconds and the path family's error envelope with
  errno 429. The default limit is 1,200 requests per minute in a sliding window (FreshBooks publishes
  none); ``/sandbox/settings`` changes it (0 turns it off).
- The fault kind ``revoke`` really revokes the presented access token, so the client has to refresh.
- The fault kind ``commit_then_timeout`` (``../faults.py``) hits POST, PUT and DELETE under
  ``/accounting/`` and ``/events/``: the write is applied (webhooks included), then its answer is lost.
  The OAuth token endpoint is never hit by it.
- Unknown account id in a path: 404 errno 1012; a token is valid for every account of its identity.
- Webhooks: see ``webhooks.py`` (verification event name, signing of the verifier POST, retries).
- Expense categories are read-only; even the ``empty`` seed has the built-in ones.
"""

from __future__ import annotations

from finsync_dagster.sandbox.freshbooks.app import create_app
from finsync_dagster.sandbox.freshbooks.backend import FreshBooksSandbox
from finsync_dagster.sandbox.freshbooks.service import FreshBooksService

service = FreshBooksService()

__all__ = ["FreshBooksSandbox", "FreshBooksService", "create_app", "service"]
