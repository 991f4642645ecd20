"""State of the FreshBooks sandbox: one :class:`Account` per account id, its tables, a rate limiter.

Resources, their paths and their ``search[...]`` filters are declared once, as data (``RESOURCES``). The
:class:`Account` applies writes through the builders of ``rules.py`` and keeps what spans records
consistent (payments on their invoice, update phases, soft delete, webhook events).

Records are kept in an internal form (ids as ints, money as integer cents, times as UTC epoch seconds,
invoice lines as tuples) and turned into the API's shape by ``shapes.py`` only when a page is served,
so a 200,000-invoice account stays small and a page costs O(page):

- every :class:`Table` keeps a sorted id list per ``vis_state``, so the default listing is a slice;
- equality filters on declared fields use a value -> ids index;
- any other filtered listing is computed once per (query, table version) and cached, so paging through
  it costs the filter once and then O(page) per page.

Listing order is by descending id (newest first), as the Classic API did (contract 3.4, UNCONFIRMED).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.freshbooks.errors import (
    AccountingError,
    invalid_value,
    not_found,
)
from finsync_dagster.sandbox.freshbooks.rules import BUILDERS
from finsync_dagster.sandbox.freshbooks.values import (
    COMPUTED,
    EASTERN,
    Record,
    day_start,
    parse_bool,
    parse_int,
    today_eastern,
)

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30
SENDABLE = frozenset({"invoices", "credit_notes"})  # resources with the send actions (contract 2)

EmitEvent = Callable[[str, str, int], None]  # (account_id, event name, object id)


# -- resource declarations (contract sections 2 and 3.4) -------------------------------------------


@dataclass(frozen=True)
class Filter:
    """One ``search[...]`` parameter. ``kind`` says how it compares; ``field`` is the internal field."""

    kind: str  # eq | in | like | min | max | updated_min | updated_max | computed
    field: str


def _eq(f: str) -> Filter:
    return Filter("eq", f)


def _in(f: str) -> Filter:
    return Filter("in", f)


def _like(f: str) -> Filter:
    return Filter("like", f)


def _updated() -> dict[str, Filter]:
    return {"updated_min": Filter("updated_min", "updated"), "updated_max": Filter("updated_max", "updated")}


def _dates(f: str) -> dict[str, Filter]:
    return {"date_min": Filter("min", f), "date_max": Filter("max", f)}


@dataclass(frozen=True)
class ResourceSpec:
    name: str  # the table's name, also the list key
    path: str  # under /accounting/account/{account_id}/
    single: str  # the single key, also the error ``object``
    id_field: str  # the API's duplicate of ``id`` (userid, invoiceid, logid, ...)
    event: str  # webhook object name
    id_start: int
    filters: dict[str, Filter]
    indexed: tuple[str, ...] = ()
    writable: bool = True
    hard_delete: bool = False  # taxes have no vis_state: HTTP DELETE removes them
    utc_times: bool = False  # bills and bill vendors keep created_at/updated_at in UTC


def _spec(
    name: str,
    path: str,
    single: str,
    id_field: str,
    event: str,
    id_start: int,
    filters: dict[str, Filter],
    **kwargs: Any,
) -> ResourceSpec:
    ids = {"ids": _in("id"), id_field: _eq("id"), f"{id_field}s": _in("id")}
    return ResourceSpec(
        name, path, single, id_field, event, id_start, {**ids, **_updated(), **filters}, **kwargs
    )


RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "clients",
            "users/clients",
            "client",
            "userid",
            "client",
            300001,
            {
                "email": _eq("email"),
                "username": _eq("username"),
                "fname_like": _like("fname"),
                "lname_like": _like("lname"),
                "organization_like": _like("organization"),
                "note_like": _like("note"),
                "phone_like": _like("bus_phone"),
                "address_like": _like("p_street"),
            },
        ),
        _spec(
            "invoices",
            "invoices/invoices",
            "invoice",
            "invoiceid",
            "invoice",
            700001,
            {
                "customerid": _eq("customerid"),
                "customerids": _in("customerid"),
                "invoice_number": _eq("invoice_number"),
                "po_number": _eq("po_number"),
                "v3_status": Filter("computed", "v3_status"),
                "status": Filter("computed", "status"),
                "payment_status": Filter("computed", "payment_status"),
                "currency_code": _eq("currency_code"),
                **_dates("create_date"),
            },
            indexed=("customerid", "invoice_number", "po_number"),
        ),
        _spec(
            "payments",
            "payments/payments",
            "payment",
            "logid",
            "payment",
            900001,
            {
                "invoiceid": _eq("invoiceid"),
                "invoiceids": _in("invoiceid"),
                "clientid": _eq("clientid"),
                "clientids": _in("clientid"),
                "customerid": _eq("clientid"),
                "customerids": _in("clientid"),
                "type": _eq("type"),
                "currency": _eq("code"),
                "notes": _like("note"),
                **_dates("date"),
            },
            indexed=("invoiceid",),
        ),
        _spec(
            "expenses",
            "expenses/expenses",
            "expense",
            "expenseid",
            "expense",
            500001,
            {
                "clientid": _eq("clientid"),
                "clientids": _in("clientid"),
                "categoryid": _eq("categoryid"),
                "categoryids": _in("categoryid"),
                "staffid": _eq("staffid"),
                "staffids": _in("staffid"),
                "projectid": _eq("projectid"),
                "projectids": _in("projectid"),
                "vendor_like": _like("vendor"),
                **_dates("date"),
            },
        ),
        _spec(
            "categories",
            "expenses/categories",
            "category",
            "categoryid",
            "category",
            4001,
            {
                "name": _like("category"),
                "parentid": _eq("parentid"),
                "is_cogs": _eq("is_cogs"),
            },
            writable=False,
        ),
        _spec(
            "items",
            "items/items",
            "item",
            "itemid",
            "item",
            110001,
            {
                "sku": _eq("sku"),
                "description": _like("description"),
                "name": _like("name"),
            },
        ),
        _spec(
            "taxes",
            "taxes/taxes",
            "tax",
            "taxid",
            "tax",
            8001,
            {
                "name": _like("name"),
                "number": _like("number"),
                "compound": _eq("compound"),
            },
            hard_delete=True,
        ),
        _spec(
            "credit_notes",
            "credit_notes/credit_notes",
            "credit_note",
            "creditid",
            "credit_note",
            20001,
            {
                "clientid": _eq("clientid"),
                "clientids": _in("clientid"),
                "credit_number": _eq("credit_number"),
                "currency_code": _eq("currency_code"),
                **_dates("create_date"),
            },
            indexed=("clientid", "credit_number"),
        ),
        _spec(
            "bill_vendors",
            "bill_vendors/bill_vendors",
            "bill_vendor",
            "vendorid",
            "bill_vendor",
            60001,
            {
                "vendor_name": _like("vendor_name"),
                "currency_code": _eq("currency_code"),
            },
            utc_times=True,
        ),
        _spec(
            "bills",
            "bills/bills",
            "bill",
            "id",
            "bill",
            40001,
            {
                "vendorid": _eq("vendorid"),
                "vendorids": _in("vendorid"),
                "bill_number": _eq("bill_number"),
                "status": Filter("computed", "status"),
                **_dates("issue_date"),
            },
            indexed=("vendorid",),
            utc_times=True,
        ),
    )
}

# -- tables and queries ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _index_key(value: Any) -> str:
    # Lower-cased, so an indexed "eq" filter compares as the unindexed ones do (case-insensitively).
    return _text(value).lower()


@dataclass(frozen=True)
class Query:
    """A parsed listing request: which vis_states, which filters (name -> raw values)."""

    vis_states: tuple[int, ...] = (0, 2)
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def cache_key(self, today: str) -> tuple[Any, ...]:
        return (self.vis_states, self.filters, today)


class Table:
    """The records of one resource in one account, with the indexes that keep a page O(page)."""

    def __init__(self, spec: ResourceSpec) -> None:
        self.spec = spec
        self.rows: dict[int, Record] = {}
        self.by_vis: dict[int, list[int]] = {0: [], 1: [], 2: []}
        self.index: dict[str, dict[str, set[int]]] = {name: {} for name in spec.indexed}
        self.version = 0
        self.next_id = spec.id_start
        self._cache: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, record_id: int) -> Record | None:
        return self.rows.get(record_id)

    def put(self, rec: Record) -> None:
        record_id = rec["id"]
        old = self.rows.get(record_id)
        if old is not None:
            self._unlink(old)
        self.rows[record_id] = rec
        ids = self.by_vis[rec.get("vis_state", 0)]
        if not ids or ids[-1] < record_id:
            ids.append(record_id)
        else:
            bisect.insort(ids, record_id)
        for name, index in self.index.items():
            index.setdefault(_index_key(rec.get(name)), set()).add(record_id)
        self.next_id = max(self.next_id, record_id + 1)
        self._changed()

    def remove(self, record_id: int) -> None:
        old = self.rows.pop(record_id)
        self._unlink(old)
        self._changed()

    def load(self, recs: Iterable[Record]) -> None:
        """Bulk insert (seeding): records in ascending id order, indexes built in one pass."""
        for rec in recs:
            record_id = rec["id"]
            self.rows[record_id] = rec
            self.by_vis[rec.get("vis_state", 0)].append(record_id)
            for name, index in self.index.items():
                index.setdefault(_index_key(rec.get(name)), set()).add(record_id)
            if record_id >= self.next_id:
                self.next_id = record_id + 1
        for ids in self.by_vis.values():
            ids.sort()
        self._changed()

    def _unlink(self, old: Record) -> None:
        ids = self.by_vis[old.get("vis_state", 0)]
        position = bisect.bisect_left(ids, old["id"])
        if position < len(ids) and ids[position] == old["id"]:
            del ids[position]
        for name, index in self.index.items():
            index.get(_index_key(old.get(name)), set()).discard(old["id"])

    def _changed(self) -> None:
        self.version += 1
        self._cache.clear()

    def select(self, query: Query, today: str) -> list[int]:
        """Matching ids in ascending order (callers page from the end: newest first)."""
        if not query.filters and len(query.vis_states) == 1:
            return self.by_vis[query.vis_states[0]]
        if not query.filters and query.vis_states == (0, 2) and not self.by_vis[2]:
            return self.by_vis[0]
        key = query.cache_key(today)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        result = self._compute(query, today)
        self._cache[key] = result
        if len(self._cache) > 32:
            self._cache.popitem(last=False)
        return result

    def _compute(self, query: Query, today: str) -> list[int]:
        candidates: set[int] | None = None
        predicates: list[Callable[[Record], bool]] = []
        for name, values in query.filters:
            flt = self.spec.filters[name]
            if flt.field == "id" and flt.kind in ("eq", "in"):
                wanted = {int(v) for v in values if v.strip().lstrip("-").isdigit()}
                candidates = wanted if candidates is None else candidates & wanted
            elif flt.kind == "eq" and flt.field in self.index:
                hits = self.index[flt.field].get(values[-1].lower(), set())
                candidates = set(hits) if candidates is None else candidates & hits
            else:
                predicates.append(_predicate(self.spec, flt, values, today))
        visible = set(query.vis_states)
        if candidates is None:
            pool: Iterable[int] = (i for vis in sorted(visible) for i in self.by_vis[vis])
        else:
            pool = (i for i in candidates if i in self.rows)
        rows = self.rows
        out = [
            i for i in pool if rows[i].get("vis_state", 0) in visible and all(p(rows[i]) for p in predicates)
        ]
        out.sort()
        return out


def _predicate(
    spec: ResourceSpec, flt: Filter, values: tuple[str, ...], today: str
) -> Callable[[Record], bool]:
    name = flt.field
    value = values[-1]
    if flt.kind == "eq":
        wanted = value.lower()
        return lambda rec: _text(rec.get(name)).lower() == wanted
    if flt.kind == "in":
        wanted_set = set(values)
        return lambda rec: _text(rec.get(name)) in wanted_set
    if flt.kind == "like":
        needle = value.lower()
        return lambda rec: needle in _text(rec.get(name)).lower()
    if flt.kind in ("min", "max"):
        bound = _filter_date(value, name)
        if flt.kind == "min":
            return lambda rec: rec[name] >= bound
        return lambda rec: rec[name] < bound
    if flt.kind in ("updated_min", "updated_max"):
        # Day-granular (contract 3.4): only the date part counts, at midnight in the field's own zone.
        start = day_start(_filter_date(value, "updated"), UTC if spec.utc_times else EASTERN)
        if flt.kind == "updated_min":
            return lambda rec: rec["updated"] >= start
        return lambda rec: rec["updated"] < start
    compute = COMPUTED[(spec.name, name)]
    return lambda rec: _text(compute(rec, today)).lower() == value.lower()


def _filter_date(raw: str, name: str) -> str:
    try:
        return date.fromisoformat(raw.strip()[:10]).isoformat()
    except ValueError:
        raise AccountingError(
            400, 1033, f"Invalid date for search filter on {name}; use YYYY-MM-DD.", field=name, value=raw
        ) from None


# -- rate limit --------------------------------------------------------------------------------------


class RateLimiter:
    """At most ``per_minute`` accepted requests in any sliding 60 s window; 0 turns it off."""

    def __init__(self, per_minute: int = 0) -> None:
        self.per_minute = per_minute
        self.refused = 0
        self._hits: deque[float] = deque()
        self._lock = threading.Lock()

    def check(self) -> int | None:
        """Record a request; return None if it may proceed, else the seconds to wait (Retry-After)."""
        if self.per_minute <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            while self._hits and self._hits[0] <= now - 60:
                self._hits.popleft()
            if len(self._hits) >= self.per_minute:
                self.refused += 1
                return max(1, int(self._hits[0] + 60 - now + 0.999))
            self._hits.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


# -- the account ----------------------------------------------------------------------------------


@dataclass
class Business:
    account_id: str
    business_id: int
    business_uuid: str
    name: str
    currency_code: str = "USD"
    date_format: str = "mm/dd/yyyy"
    address: dict[str, str] = field(default_factory=dict)


class Account:
    """One FreshBooks account: its tables and the business rules that keep records consistent.

    Every public method runs under the sandbox lock (the caller holds it); ``emit`` announces a change
    to the webhook dispatcher.
    """

    def __init__(self, business: Business, clock: SandboxClock, emit: EmitEvent | None = None) -> None:
        self.business = business
        self.clock = clock
        self.emit = emit or (lambda *_: None)
        self.tables = {name: Table(spec) for name, spec in RESOURCES.items()}
        self.last_invoice_number = "0000"
        self.last_credit_number = "CN-0000"
        self.next_credit_id = 1

    @property
    def account_id(self) -> str:
        return self.business.account_id

    # -- reads

    def get(self, resource: str, record_id: int) -> Record:
        spec = RESOURCES[resource]
        rec = self.tables[resource].get(record_id)
        if rec is None:
            # Soft-deleted records stay readable by id with vis_state 1 (contract 3.5, UNCONFIRMED).
            raise not_found(spec.single, spec.id_field, record_id)
        return rec

    def page(self, resource: str, query: Query, page: int, per_page: int) -> tuple[list[Record], int]:
        """One page (newest first) and the total number of matches."""
        table = self.tables[resource]
        ids = table.select(query, today_eastern(self.clock))
        total = len(ids)
        end = total - (page - 1) * per_page
        start = max(end - per_page, 0)
        if end <= 0:
            return [], total
        rows = table.rows
        return [rows[i] for i in reversed(ids[start:end])], total

    # -- writes

    def create(self, resource: str, data: dict[str, Any]) -> Record:
        spec = RESOURCES[resource]
        table = self.tables[resource]
        rec = BUILDERS[resource](self, data, None)
        rec["id"] = table.new_id()
        now = self.clock.time()
        rec.setdefault("created", now)
        rec["updated"] = now
        rec.setdefault("vis_state", 0)
        table.put(rec)
        if resource == "payments":
            self._apply_payment(rec, +1)
        self.emit(self.account_id, f"{spec.event}.create", rec["id"])
        return rec

    def update(self, resource: str, record_id: int, data: dict[str, Any]) -> Record:
        spec = RESOURCES[resource]
        old = self.get(resource, record_id)
        # Update phases (contract 3.5): ext_vis_state, then vis_state, then actions, then data; only the
        # first applies and every other field in the body is silently dropped.
        if "ext_vis_state" in data:
            return self._set_ext_vis_state(resource, old, data["ext_vis_state"])
        if "vis_state" in data:
            return self.set_vis_state(resource, record_id, data["vis_state"])
        if resource in SENDABLE and any(key.startswith("action_") for key in data):
            return self._send_action(resource, old, data)
        rec = BUILDERS[resource](self, data, old)
        rec["updated"] = self.clock.time()
        if resource == "payments":
            self._apply_payment(old, -1)
        self.tables[resource].put(rec)
        if resource == "payments":
            self._apply_payment(rec, +1)
        self.emit(self.account_id, f"{spec.event}.update", record_id)
        return rec

    def set_vis_state(self, resource: str, record_id: int, raw: Any) -> Record:
        spec = RESOURCES[resource]
        old = self.get(resource, record_id)
        vis_state = parse_int(raw, object=spec.single, field="vis_state")
        if vis_state not in (0, 1, 2):
            raise invalid_value(spec.single, "vis_state", raw, "vis_state must be 0, 1 or 2.")
        if vis_state == old.get("vis_state", 0):
            return old
        if resource == "payments":
            self._apply_payment(old, -1)
        rec = {**old, "vis_state": vis_state, "updated": self.clock.time()}
        self.tables[resource].put(rec)
        if resource == "payments":
            self._apply_payment(rec, +1)
        self.emit(self.account_id, f"{spec.event}.{'delete' if vis_state == 1 else 'update'}", record_id)
        return rec

    def delete(self, resource: str, record_id: int) -> None:
        """HTTP DELETE: soft delete (vis_state 1), except taxes, which have no vis_state."""
        spec = RESOURCES[resource]
        self.get(resource, record_id)
        if spec.hard_delete:
            self.tables[resource].remove(record_id)
            self.emit(self.account_id, f"{spec.event}.delete", record_id)
        else:
            self.set_vis_state(resource, record_id, 1)

    # -- rules that span records

    def _set_ext_vis_state(self, resource: str, old: Record, raw: Any) -> Record:
        """The first update phase: kept on the record; what it changes in FreshBooks is UNCONFIRMED."""
        spec = RESOURCES[resource]
        rec = {
            **old,
            "ext_vis_state": parse_int(raw, object=spec.single, field="ext_vis_state"),
            "updated": self.clock.time(),
        }
        self.tables[resource].put(rec)
        self.emit(self.account_id, f"{spec.event}.update", rec["id"])
        return rec

    def _send_action(self, resource: str, old: Record, data: dict[str, Any]) -> Record:
        """The actions phase: ``action_mark_as_sent`` or ``action_email`` take a draft to sent."""
        spec = RESOURCES[resource]
        rec = dict(old)
        sending = parse_bool(data.get("action_mark_as_sent")) or parse_bool(data.get("action_email"))
        if sending and rec["sent"] == "draft":
            rec["sent"] = "sent"
        rec["updated"] = self.clock.time()
        self.tables[resource].put(rec)
        if parse_bool(data.get("action_email")) and resource == "invoices":
            self.emit(self.account_id, "invoice.sendByEmail", rec["id"])
        self.emit(self.account_id, f"{spec.event}.update", rec["id"])
        return rec

    def _apply_payment(self, payment: Record, sign: int) -> None:
        """Add (sign +1) or take back (-1) a live payment's amount on its invoice."""
        if payment.get("vis_state", 0) == 1:
            return
        invoices = self.tables["invoices"]
        invoice = invoices.get(payment["invoiceid"])
        if invoice is None or payment["amount"] == 0:
            return
        paid = invoice["paid"] + sign * payment["amount"]
        updated = {**invoice, "paid": paid, "updated": self.clock.time()}
        fully_paid = updated["amount"] > 0 and paid >= updated["amount"]
        updated["date_paid"] = payment["date"] if fully_paid else None
        if updated["sent"] == "draft" and paid > 0:
            updated["sent"] = "sent"
        invoices.put(updated)
        self.emit(self.account_id, "invoice.update", invoice["id"])

    def next_invoice_number(self) -> str:
        self.last_invoice_number = increment_number(self.last_invoice_number)
        return self.last_invoice_number

    def next_credit_number(self) -> str:
        self.last_credit_number = increment_number(self.last_credit_number)
        return self.last_credit_number


def increment_number(number: str) -> str:
    """FreshBooks increments the previous number as a string: "0005"->"0006", "000D"->"000E"."""
    chars = list(number) or ["0"]
    i = len(chars) - 1
    while i >= 0:
        c = chars[i]
        if c == "9":
            chars[i] = "0"
        elif c in ("Z", "z"):
            chars[i] = "A" if c == "Z" else "a"
        elif c.isalnum():
            chars[i] = chr(ord(c) + 1)
            return "".join(chars)
        else:
            break
        i -= 1
    return "".join(chars[: i + 1]) + "1" + "".join(chars[i + 1 :])
