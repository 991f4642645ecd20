"""A sandbox of Infor M3 behind the ION API Gateway, served on loopback.

Layout, in moto's split and the FreshBooks sandbox's shape (see ``finsync_dagster/sandbox/__init__.py``):
``service.py`` is the runner's entry and writes ``infor.ionapi``; ``backend.py`` holds all state of one
sandbox (the M3 model, the gateway, faults) and its control-plane hooks; ``app.py`` builds its app and
wraps it in the gateway's auth, faults and timeout; ``routes.py`` maps paths to handlers; ``handlers.py``
parses MI calls and serialises their answers; ``mi.py`` runs a transaction against the ``catalog.py``
field catalogue, with one module per MI program in ``transactions/``; ``models.py`` owns companies and
tables, ``lifecycle.py`` and ``postings.py`` the order and ledger rules, ``exportmi.py`` EXPORTMI's SQL;
``errors.py`` holds the gateway and MI error shapes; ``gateway.py`` is the ION API Gateway (OAuth2,
bearer checks, quota, timeout), M3-agnostic; ``control.py`` adds this system's own control routes;
``seed.py`` picks among the seeds, which build on ``configuration.py`` (``demo_seed.py``,
``scale_seed.py``).

Coverage (see ``catalog.json``): the gateway's ``token.oauth2`` (password and refresh grants) and
``revoke_token.oauth2`` under ``/{TENANT}/as/``; M3 MI REST v2 under ``/{TENANT}/M3/m3api-rest/v2/execute``
(single GET with query or matrix parameters, bulk POST) for CRS610MI, OIS100MI, OIS350MI, ARS200MI,
ARS040MI, CRS630MI, GLS840MI, GLS200MI, MMS200MI, CRS620MI, APS450MI and EXPORTMI (``catalog.json`` lists
each transaction, built by ``build_catalog.py`` from the shared catalog: fields, lengths and required
flags are the catalog's). Control plane (never faulted): the
shared ``/sandbox`` routes of ``finsync_dagster/sandbox/control.py`` (details and counts, reset, clock,
faults, token expiry, settings, truth), with ``/sandbox/settings`` holding the gateway policy
(``expires_in``, ``issue_refresh_tokens``, ``rolling_refresh_tokens``, ``refresh_token_lifetime``,
``quota_per_second``, ``timeout_ms``; an unknown name is 400); ``/sandbox/gateway`` and
``/sandbox/gateway/expire-tokens`` are its first names for settings and token expiry, kept as aliases,
as the clock still takes ``{"advance_seconds": s}`` and ``{"set": ISO}``; and this system's
``POST /sandbox/orders/{ORNO}/deliver`` and ``.../invoice``.

Contract choices (``../shared/contracts/infor-api.md``; UNCONFIRMED points decided here):

- Refresh tokens: real apps issue none by default; the sandbox's authorized app has "Issue Refresh Tokens"
  on (``inforion`` indexes ``refresh_token``), rolling on (each refresh token works once). ``expires_in``
  defaults to 7200. No ``id_token`` or ``scope`` is echoed. ``client_credentials`` is not offered.
- Revoke: POST form or GET query; client authentication is optional but checked when sent; unknown tokens
  answer 200 (RFC 7009).
- Gateway errors (401, 404, 405, 429, 504, injected 5xx) have the body ``{"code", "error", "message"}``;
  401 adds ``WWW-Authenticate``, 429 adds ``Retry-After``. The gateway timeout defaults to 60 s; a call
  that outlives it gets 504 while the backend still completes it (so writes must be idempotent).
- Faults (``../faults.py``): ``commit_then_timeout`` hits single GETs of non-read transactions (anything
  not starting ``Get``, ``Lst``, ``List``, ``Search``, ``Select``, ``Check``: ``mi.READ_PREFIXES``) and
  bulk POSTs holding at least one; the whole call is applied, then its answer is lost. With
  ``ctt=delay`` and ``slow_ms`` above the gateway's ``timeout_ms`` the caller gets the gateway's 504.
- MI errors: a single call answers 400 with the quartet at the top level; a bulk POST answers 200 with
  the quartet in the failing transaction's result and the rest processed. An unknown *program* has no
  gateway route and gets a bare 400 (no body), as observed in the contract's harness [S12]; an unknown
  *transaction* gets the quartet with ``errorType`` ``TransactionNotFound``. Business errors use
  ``ServerReturnedNOK`` with M3-style message ids (``WCU0203`` unknown customer, ``XAU0008`` company not
  authorised, ...) whose exact values are illustrative.
- A required field that is absent is ``MandatoryInputFieldNotFound``; present but blank is a
  ``ServerReturnedNOK`` "... must be entered". Unknown input fields are ignored.
- ``maxrecs`` defaults to 100 when omitted (0 = all); ``excludeempty`` is also accepted as
  ``excludempty``; ``returncols`` ignores unknown names; ``righttrim=false`` pads values to the field
  length; ``dateformat`` applies to date inputs and outputs, ``YMD8-`` meaning ``yyyy-MM-dd``.
- Bulk: ``cono`` in the body is honoured (an unknown company fails each transaction with ``XAU0008``);
  a record's own ``CONO`` wins over ``cono``; query parameters on the bulk URL apply to every transaction.
- ``LMTS`` is ``yyyyMMddHHmmssfff`` in UTC, strictly increasing per sandbox; as an input
  (``CRS610MI/LstByNumber``) it selects records changed at or after it. ``LMDT`` is the UTC change date.
- Orders: ``OIS100MI/AddBatchHead`` returns a temporary number (9xxxxxxxxx) and writes the batch head to
  OXHEAD (lines to OXLINE; both keep OOHEAD's/OOLINE's prefixes OA/OB: UNCONFIRMED); ``Confirm`` returns
  the real order number (1xxxxxxxxx) and status 90. The batch stays after Confirm, with ``STAT`` 90 and
  ``ORNR`` = the real number (05 and blank before; UNCONFIRMED that M3 keeps it until a clean-up run):
  ``LstBatchHead`` (``CUNO``; ``ORSL``/``ORST`` bound ``STAT``) and ``GetBatchHead`` show ``CUOR`` and
  ``ORNR``, ``LstBatchLine`` the batch's lines, ``GetOrderNo`` the ``ORNR`` (blank until confirmed:
  UNCONFIRMED), ``DelBatchHead`` abandons an unconfirmed batch. Adding lines to, confirming or deleting
  a confirmed batch fails ("closed", OI10003). ``LstHead`` outputs ``CUOR``. Line statuses: 05 batch,
  22 confirmed, 66 delivered, 77 invoiced.
- Write-side lookups (what resolves an in-doubt write; error codes are the sandbox's): customers by the
  caller's ``CUNO`` (a second ``CRS610MI/Add`` answers "already exists", WCU0201) or ``YREF`` (EXPORTMI
  ``OKYREF``); orders by ``CUNO`` + ``CUOR`` (20) through ``LstBatchHead``/``LstHead`` or EXPORTMI on
  OXHEAD/OOHEAD (``OACUOR``; OXHEAD keeps confirmed batches too, so filter ``OASTAT`` or look in OOHEAD
  first), lines through ``LstBatchLine`` or EXPORTMI on OXLINE (``OBORNO``); an order's AR invoice and
  delivery through ``OIS350MI/LstInvHeadByCo`` (``IVNO`` is the AR ``CINO``, ``YEA4`` its ``INYR``,
  ``DLIX`` the delivery; OOLINE ``OBDLIX`` too); cash by
  the line's ``CKNO`` (15) through EXPORTMI on FSLEDG (``ESCKNO``, with ``ESPBID``; UNCONFIRMED that real
  FSLEDG carries the check number) or ``ARS200MI/LstInvoiceTrans`` per invoice; GL postings by the
  line's ``VTXT`` (40) through EXPORTMI on FGLEDG (``EGVTXT``), then ``GLS200MI/LstVoucherLines``;
  suppliers by the caller's ``SUNO``; supplier invoices by ``SPYN`` + ``SUNO`` + ``SINO`` (24) through
  ``APS450MI/LstInvBySupInv`` or EXPORTMI on FAPIBH (``E5SINO``) and FPLEDG (``EPSINO``). Every batch
  program refuses a step sent twice: ARS040MI ``PBID``/``TRNO`` (WPB0201/WPB0211) and a controlled batch
  (WPB0204), GLS840MI ``KEY1``/``LINE`` (GL84006/GL84007) and a posted batch (GL84005, naming the
  voucher), APS450MI a duplicate ``SINO`` (AP45003, naming the batch), a ``TRNO`` (AP45013) and an
  approved or rejected batch (AP45002).
- AR: invoicing writes ``OINVOH``/``OINVOL`` and an ``FSLEDG`` entry (``TRCD`` 10, ``CINO`` = invoice number,
  ``INYR`` = year); ``ARS040MI/ControlBatch`` writes payment entries (``TRCD`` 20, negative ``CUAM``) and
  sets ``RECO`` 9 with ``REDE`` on every entry of an invoice that nets to zero.
- GL: ``GLS840MI/AddBatchLine`` ``PARM`` is ``KEY=value`` pairs joined by ``;`` with ``AIT1`` (account),
  ``ACDT`` (yyyyMMdd), ``CUAM`` (signed, debit positive), optional ``CUCD``, ``VTXT``, ``AIT2``-``AIT7``; the
  real positional layout is UNCONFIRMED. ``AddBatchLineFld`` takes the same values as the catalog's own
  fields (``INRI`` required and kept, its meaning UNCONFIRMED; ``DBCR`` D/C sets the sign). The catalog
  requires ``CONO`` as an input field of AddBatchHead, AddBatchLine, CtrlBatch and UpdBatch.
  ``CtrlBatch`` checks without posting; ``UpdBatch`` posts one voucher, all lines or none, when the batch
  balances per currency (else GL84009, nothing posted); read it back with ``GLS200MI`` (``VDSC`` = the
  batch's ``DESC``, ``VTXT`` per line).
- Payments: ``ARS040MI`` ``PBID`` (numeric 10) and ``TRNO`` (numeric 7) are the caller's; ``CKNO`` lands
  on the payment's FSLEDG entry; ``ControlBatch`` applies a batch once (see ``transactions/ars040mi.py``).
- Procure to pay: ``CRS620MI`` (AddSupplier with the catalog's 11 required fields, UpdSupplier,
  GetBasicData, LstByNumber, LstSuppliers by ``LMTS``, DelSupplier, AddAddress, GetAddress,
  LstAddresses) on CIDMAS (prefix ID; M3's CIDVEN financial fields kept on it) and CIDADR (SA,
  UNCONFIRMED); ``APS450MI`` (AddHead, AddLine, ApproveInvoice, RejectInvoice, GetHead, LstLines,
  LstInvBySupInv, LstInvBatchNo) on FAPIBH/FAPIBL (E5/E6, UNCONFIRMED), posting to FPLEDG (EP,
  ``TRCD`` 40, amounts negative: UNCONFIRMED) and one GL voucher (cost lines and VAT debited, ``2200``
  payables credited). Only cost lines (``RDTP`` 8 on ``AO01``; the code is UNCONFIRMED) are modelled;
  ``ApproveInvoice`` stands for M3's approve-then-update and posts only a balanced invoice (``CUAM`` =
  lines + VAT); ``SUPA`` 10 entered, 80 rejected, 90 posted (UNCONFIRMED). Seeded empty; the demo seed
  adds two suppliers (see ``demo_seed.py``).
- EXPORTMI tables: ``OCUSMA`` (OK), ``OOHEAD`` (OA), ``OOLINE`` (OB), ``OXHEAD`` (OA), ``OXLINE`` (OB),
  ``OINVOH`` (UH), ``OINVOL`` (ON), ``FSLEDG`` (ES), ``FCHACC`` (EA), ``FGLEDG`` (EG), ``CIDMAS`` (ID),
  ``CIDADR`` (SA), ``FAPIBH`` (E5), ``FAPIBL`` (E6), ``FPLEDG`` (EP), ``MITMAS`` (MM), ``MITBAL`` (MB); rows
  come in key order; ``maxrecs`` applies, so page with ``where KEY > 'last'``.
- Item prices live on ``MITMAS.SAPR`` (a sandbox simplification of M3's price lists); VAT comes from the
  customer's ``VTCD``.
"""

from __future__ import annotations

from finsync_dagster.sandbox.infor.app import create_app
from finsync_dagster.sandbox.infor.backend import InforSandbox
from finsync_dagster.sandbox.infor.service import InforService

service = InforService()

__all__ = ["InforSandbox", "InforService", "create_app", "service"]
