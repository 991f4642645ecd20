"""State and rules of the FreshBooks sandbox: one :class:`Account` per account id, a clock, a rate limiter.

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
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from finsync_dagster.sandbox.freshbooks.errors import (
    AccountingError,
    OAuthError,
    invalid_value,
    not_found,
    required_field,
)

EASTERN = ZoneInfo("America/New_York")
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30

Record = dict[str, Any]
EmitEvent = Callable[[str, str, int], None]  # (account_id, event name, object id)


# -- clock and time text ---------------------------------------------------------------------------


class Clock:
    """Wall-clock time plus an offset that tests move through ``/sandbox/clock``; can be frozen."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen: float | None = None

    def time(self) -> float:
        return self._frozen if self._frozen is not None else time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def today_eastern(self) -> str:
        return datetime.fromtimestamp(self.time(), EASTERN).date().isoformat()

    def advance(self, seconds: float) -> None:
        if self._frozen is not None:
            self._frozen += seconds
        else:
            self._offset += seconds

    def set(self, epoch: float, *, frozen: bool = False) -> None:
        if frozen:
            self._frozen = epoch
        else:
            self._frozen = None
            self._offset = epoch - time.time()

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now().isoformat().replace("+00:00", "Z"),
            "epoch": self.time(),
            "frozen": self._frozen is not None,
            "offset_seconds": self._offset,
        }


@lru_cache(maxsize=65536)
def eastern_text(epoch: float) -> str:
    """Accounting timestamps: US/Eastern wall-clock time without a zone (contract section 4)."""
    return datetime.fromtimestamp(epoch, EASTERN).strftime("%Y-%m-%d %H:%M:%S")


def utc_text(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso_z(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_start(day: str, zone: ZoneInfo | type[UTC] | Any) -> float:
    """Epoch seconds of midnight starting ``day`` in ``zone``."""
    parsed = date.fromisoformat(day)
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=zone).timestamp()


@lru_cache(maxsize=65536)
def add_days(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


# -- money and decimal strings ---------------------------------------------------------------------


def cents_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


@lru_cache(maxsize=65536)
def money(cents: int, code: str) -> dict[str, str]:
    # Cached, so the same dict may appear in many responses: callers serialise it, never mutate it.
    return {"amount": cents_text(cents), "code": code}


def _decimal(raw: Any, *, object: str, field: str) -> Decimal:
    if isinstance(raw, dict):
        raw = raw.get("amount")
    if raw is None or isinstance(raw, bool) or str(raw).strip() == "":
        raise invalid_value(object, field, raw, f"Invalid number for field {field}.")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise invalid_value(object, field, raw, f"Invalid number for field {field}.") from None
    if not value.is_finite():
        raise invalid_value(object, field, raw, f"Invalid number for field {field}.")
    return value


def parse_cents(raw: Any, *, object: str, field: str) -> int:
    """A Money object, string or number -> integer cents (half-up to the cent)."""
    return int((_decimal(raw, object=object, field=field) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def decimal_text(raw: Any, *, object: str, field: str) -> str:
    """Quantities and percentages travel as strings ("4", "1.5", "13")."""
    value = _decimal(raw, object=object, field=field).normalize()
    return format(value, "f")


def percent_of(cents: int, percent: str) -> int:
    return int((Decimal(cents) * Decimal(percent) / 100).quantize(Decimal(1), ROUND_HALF_UP))


def parse_date(raw: Any, *, object: str, field: str) -> str:
    try:
        return date.fromisoformat(str(raw)[:10]).isoformat()
    except ValueError:
        raise invalid_value(object, field, raw, f"Invalid date for field {field}; use YYYY-MM-DD.") from None


def parse_int(raw: Any, *, object: str, field: str) -> int:
    if isinstance(raw, bool):
        raise invalid_value(object, field, raw)
    try:
        return int(str(raw).strip())
    except ValueError:
        raise invalid_value(object, field, raw, f"Invalid integer for field {field}.") from None


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, str):
        return raw.strip().lower() in ("1", "true", "yes")
    return bool(raw)


def text_or_none(raw: Any) -> str | None:
    return None if raw is None else str(raw)


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
                "v3_status": Filter("computed", "v3_status"),
                "status": Filter("computed", "status"),
                "payment_status": Filter("computed", "payment_status"),
                "currency_code": _eq("currency_code"),
                **_dates("create_date"),
            },
            indexed=("customerid", "invoice_number"),
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

PAYMENT_TYPES = (
    "Check",
    "Credit",
    "Cash",
    "Bank Transfer",
    "Credit Card",
    "Debit",
    "PayPal",
    "2Checkout",
    "VISA",
    "MASTERCARD",
    "DISCOVER",
    "AMEX",
    "DINERS",
    "JCB",
    "ACH",
    "Other",
)
CLIENT_TEXT_FIELDS = (
    "fname",
    "lname",
    "organization",
    "email",
    "username",
    "currency_code",
    "language",
    "p_street",
    "p_street2",
    "p_city",
    "p_province",
    "p_code",
    "p_country",
    "s_street",
    "s_street2",
    "s_city",
    "s_province",
    "s_code",
    "s_country",
    "bus_phone",
    "home_phone",
    "mob_phone",
    "fax",
    "note",
    "vat_name",
    "vat_number",
    "company_industry",
    "company_size",
)
INVOICE_TEXT_FIELDS = (
    "po_number",
    "notes",
    "terms",
    "language",
    "discount_description",
    "address",
    "street",
    "street2",
    "city",
    "province",
    "code",
    "country",
    "fname",
    "lname",
    "organization",
    "email",
    "vat_name",
    "vat_number",
)
BILL_VENDOR_TEXT_FIELDS = (
    "vendor_name",
    "currency_code",
    "language",
    "primary_contact_email",
    "primary_contact_first_name",
    "primary_contact_last_name",
    "street",
    "street2",
    "city",
    "province",
    "postal_code",
    "country",
    "phone",
    "website",
    "account_number",
    "note",
)


class Line(NamedTuple):
    """An invoice line (contract 4.2); ``amount`` = qty x unit_cost, ``tax`` the line's tax in cents."""

    name: str
    description: str
    qty: str
    unit_cost: int
    tax_name1: str | None
    tax_amount1: str
    tax_name2: str | None
    tax_amount2: str
    amount: int
    tax: int


class BillLine(NamedTuple):
    categoryid: int
    description: str
    quantity: str
    unit_cost: int
    tax_name1: str | None
    tax_percent1: str
    tax_name2: str | None
    tax_percent2: str
    amount: int
    tax: int


def make_line(
    name: str,
    description: str,
    qty: str,
    unit_cost: int,
    tax_name1: str | None = None,
    tax_amount1: str = "0",
    tax_name2: str | None = None,
    tax_amount2: str = "0",
    discount_percent: str = "0",
) -> Line:
    amount = int((Decimal(qty) * unit_cost).quantize(Decimal(1), ROUND_HALF_UP))
    # Tax is computed on the discounted line amount (java-sdk fixture hint, contract 4.2; UNCONFIRMED).
    taxable = amount - percent_of(amount, discount_percent) if discount_percent != "0" else amount
    tax = percent_of(taxable, tax_amount1) if tax_name1 else 0
    tax += percent_of(taxable, tax_amount2) if tax_name2 else 0
    return Line(
        name, description, qty, unit_cost, tax_name1, tax_amount1, tax_name2, tax_amount2, amount, tax
    )


def invoice_totals(lines: Sequence[Line], discount_percent: str) -> tuple[int, int, int]:
    """(discount, tax, amount) in cents for an invoice's lines and its discount percentage."""
    subtotal = sum(line.amount for line in lines)
    discount = percent_of(subtotal, discount_percent) if discount_percent != "0" else 0
    tax = sum(line.tax for line in lines)
    return discount, tax, subtotal - discount + tax


# -- invoice and bill states derived at read time -------------------------------------------------


def invoice_payment_status(rec: Record) -> str:
    if rec["amount"] > 0 and rec["paid"] >= rec["amount"]:
        return "paid"
    return "partial" if rec["paid"] > 0 else "unpaid"


def invoice_v3_status(rec: Record, today: str) -> str:
    payment_status = invoice_payment_status(rec)
    if payment_status != "unpaid":
        return payment_status
    if rec["sent"] == "draft":
        return "draft"
    if add_days(rec["create_date"], rec["due_offset_days"]) < today:
        return "overdue"
    return rec["sent"]  # sent | viewed


_INVOICE_STATUS_CODES = {"draft": 1, "sent": 2, "viewed": 3, "overdue": 2, "paid": 4, "partial": 8}


def invoice_status(rec: Record, today: str) -> int:
    return _INVOICE_STATUS_CODES[invoice_v3_status(rec, today)]


def bill_status(rec: Record, today: str) -> str:
    if rec["amount"] > 0 and rec["paid"] >= rec["amount"]:
        return "paid"
    if rec["paid"] > 0:
        return "partial"
    return "overdue" if add_days(rec["issue_date"], rec["due_offset_days"]) < today else "unpaid"


_COMPUTED: dict[tuple[str, str], Callable[[Record, str], Any]] = {
    ("invoices", "v3_status"): invoice_v3_status,
    ("invoices", "status"): invoice_status,
    ("invoices", "payment_status"): lambda rec, _today: invoice_payment_status(rec),
    ("bills", "status"): bill_status,
}


# -- tables and queries ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


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
            index.setdefault(_text(rec.get(name)), set()).add(record_id)
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
                index.setdefault(_text(rec.get(name)), set()).add(record_id)
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
            index.get(_text(old.get(name)), set()).discard(old["id"])

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
                hits = self.index[flt.field].get(values[-1], set())
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
    compute = _COMPUTED[(spec.name, name)]
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

    def __init__(self, business: Business, clock: Clock, emit: EmitEvent | None = None) -> None:
        self.business = business
        self.clock = clock
        self.emit = emit or (lambda *_: None)
        self.tables = {name: Table(spec) for name, spec in RESOURCES.items()}
        self.last_invoice_number = "0000"
        self.next_credit_id = 1

    @property
    def account_id(self) -> str:
        return self.business.account_id

    def table(self, name: str) -> Table:
        return self.tables[name]

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
        ids = table.select(query, self.clock.today_eastern())
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
        rec = _BUILDERS[resource](self, data, None)
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
        # Update phases (contract 3.5): vis_state, then actions, then data; only the first applies and
        # every other field in the body is silently dropped.
        if "vis_state" in data:
            return self.set_vis_state(resource, record_id, data["vis_state"])
        if resource == "invoices" and any(key.startswith("action_") for key in data):
            return self._invoice_action(old, data)
        rec = _BUILDERS[resource](self, data, old)
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

    def _invoice_action(self, old: Record, data: dict[str, Any]) -> Record:
        rec = dict(old)
        sending = parse_bool(data.get("action_mark_as_sent")) or parse_bool(data.get("action_email"))
        if sending and rec["sent"] == "draft":
            rec["sent"] = "sent"
        rec["updated"] = self.clock.time()
        self.tables["invoices"].put(rec)
        if parse_bool(data.get("action_email")):
            self.emit(self.account_id, "invoice.sendByEmail", rec["id"])
        self.emit(self.account_id, "invoice.update", rec["id"])
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


# -- builders: request data (+ the old record) -> the new internal record ---------------------------


def _required(data: dict[str, Any], old: Record | None, object: str, name: str) -> Any:
    if name in data and data[name] not in (None, ""):
        return data[name]
    if old is not None and name not in data:
        return old[name]
    raise required_field(object, name)


def _copy_text(rec: Record, data: dict[str, Any], names: Iterable[str]) -> None:
    for name in names:
        if name in data:
            rec[name] = text_or_none(data[name])


def _build_client(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old)
        if old
        else {
            "currency_code": account.business.currency_code,
            "language": "en",
            "signup": account.clock.time(),
        }
    )
    _copy_text(rec, data, CLIENT_TEXT_FIELDS)
    if not any(rec.get(name) for name in ("fname", "lname", "email", "organization")):
        raise AccountingError(
            422,
            7012,
            "At least one field among fname, lname, email and organization is required.",
            object="client",
            value="",
        )
    email = rec.get("email")
    if email and ("@" not in email or " " in email.strip()):
        raise invalid_value("client", "email", email, "Invalid email address.")
    return rec


def _client_or_error(account: Account, raw: Any, object: str, name: str) -> Record:
    client = account.tables["clients"].get(parse_int(raw, object=object, field=name))
    if client is None:
        raise invalid_value(object, name, raw, f"{name} does not refer to a client.")
    return client


def _invoice_lines(raw: Any, code: str, discount: str) -> tuple[Line, ...]:
    if not isinstance(raw, list):
        raise invalid_value("invoice", "lines", raw, "lines must be a list.")
    lines = []
    for item in raw:
        if not isinstance(item, dict):
            raise invalid_value("invoice", "lines", item, "Each line must be an object.")
        unit = item.get("unit_cost", {"amount": "0"})
        if isinstance(unit, dict) and unit.get("code") not in (None, code):
            raise invalid_value(
                "line", "unit_cost", unit.get("code"), "Line currency must match the invoice."
            )
        tax1, tax2 = item.get("taxName1") or None, item.get("taxName2") or None
        lines.append(
            make_line(
                str(item.get("name") or ""),
                str(item.get("description") or ""),
                decimal_text(item.get("qty", 1), object="line", field="qty"),
                parse_cents(unit, object="line", field="unit_cost"),
                tax1,
                decimal_text(item.get("taxAmount1", 0), object="line", field="taxAmount1") if tax1 else "0",
                tax2,
                decimal_text(item.get("taxAmount2", 0), object="line", field="taxAmount2") if tax2 else "0",
                discount,
            )
        )
    return tuple(lines)


def _build_invoice(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = dict(old) if old else {"paid": 0, "date_paid": None, "sent": "draft", "lines": ()}
    if old is None or "customerid" in data:
        client = _client_or_error(
            account, _required(data, old, "invoice", "customerid"), "invoice", "customerid"
        )
        rec["customerid"] = client["id"]
        if old is None:
            for name in ("fname", "lname", "organization", "email", "vat_name", "vat_number"):
                rec[name] = client.get(name)
            for api, src in (
                ("street", "p_street"),
                ("street2", "p_street2"),
                ("city", "p_city"),
                ("province", "p_province"),
                ("code", "p_code"),
                ("country", "p_country"),
            ):
                rec[api] = client.get(src)
            rec["currency_code"] = client.get("currency_code") or account.business.currency_code
    rec["create_date"] = parse_date(
        _required(data, old, "invoice", "create_date"), object="invoice", field="create_date"
    )
    if "due_offset_days" in data or old is None:
        rec["due_offset_days"] = parse_int(
            data.get("due_offset_days", 0), object="invoice", field="due_offset_days"
        )
    if "currency_code" in data:
        rec["currency_code"] = str(data["currency_code"])
    if "discount_value" in data or old is None:
        rec["discount_value"] = decimal_text(
            data.get("discount_value", 0), object="invoice", field="discount_value"
        )
    _copy_text(rec, data, INVOICE_TEXT_FIELDS)
    rec.setdefault("language", "en")
    if "invoice_number" in data and data["invoice_number"] not in (None, ""):
        rec["invoice_number"] = str(data["invoice_number"])
        if old is None:
            account.last_invoice_number = rec["invoice_number"]
    elif old is None:
        rec["invoice_number"] = account.next_invoice_number()
    if "status" in data and old is None and parse_int(data["status"], object="invoice", field="status") == 2:
        rec["sent"] = "sent"  # creating an invoice already marked as sent
    if "lines" in data:
        rec["lines"] = _invoice_lines(data["lines"], rec["currency_code"], rec["discount_value"])
    elif old is not None and "discount_value" in data:
        rec["lines"] = _invoice_lines(
            _lines_as_data(rec["lines"]), rec["currency_code"], rec["discount_value"]
        )
    rec["discount"], rec["tax"], rec["amount"] = invoice_totals(rec["lines"], rec["discount_value"])
    return rec


def _lines_as_data(lines: Sequence[Line]) -> list[dict[str, Any]]:
    return [
        {
            "name": ln.name,
            "description": ln.description,
            "qty": ln.qty,
            "unit_cost": cents_text(ln.unit_cost),
            "taxName1": ln.tax_name1,
            "taxAmount1": ln.tax_amount1,
            "taxName2": ln.tax_name2,
            "taxAmount2": ln.tax_amount2,
        }
        for ln in lines
    ]


def _build_payment(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old) if old else {"type": "Check", "note": "", "overpaymentid": None, "from_credit": False}
    )
    raw_invoice = _required(data, old, "payment", "invoiceid")
    invoice = account.tables["invoices"].get(parse_int(raw_invoice, object="payment", field="invoiceid"))
    if invoice is None or invoice.get("vis_state", 0) == 1:
        raise invalid_value("payment", "invoiceid", raw_invoice, "invoiceid does not refer to an invoice.")
    rec["invoiceid"], rec["clientid"], rec["code"] = (
        invoice["id"],
        invoice["customerid"],
        invoice["currency_code"],
    )
    raw_amount = _required(data, old, "payment", "amount")
    if isinstance(raw_amount, dict) and raw_amount.get("code") not in (None, invoice["currency_code"]):
        raise invalid_value(
            "payment", "amount", raw_amount.get("code"), "Payment currency must match the invoice currency."
        )
    amount = parse_cents(raw_amount, object="payment", field="amount") if "amount" in data else old["amount"]  # type: ignore[index]
    if amount <= 0:
        raise invalid_value("payment", "amount", cents_text(amount), "Payment amount must be positive.")
    rec["date"] = parse_date(_required(data, old, "payment", "date"), object="payment", field="date")
    if "type" in data:
        if data["type"] not in PAYMENT_TYPES:
            raise invalid_value("payment", "type", data["type"], "Invalid payment type.")
        rec["type"] = data["type"]
    for name in ("note", "transactionid", "orderid"):
        if name in data:
            rec[name] = text_or_none(data[name])
    # An amount above what is outstanding is applied up to the balance; the excess becomes a credit
    # (the docs' example shows overpaymentid set; contract 4.3).
    already = invoice["paid"] - (
        old["amount"]
        if old is not None and old.get("vis_state", 0) != 1 and old["invoiceid"] == invoice["id"]
        else 0
    )
    outstanding = max(invoice["amount"] - already, 0)
    if amount > outstanding:
        rec["overpaymentid"] = account.next_credit_id
        account.next_credit_id += 1
        amount = outstanding
    rec["amount"] = amount
    return rec


def _build_expense(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old)
        if old
        else {
            "staffid": 1,
            "clientid": 0,
            "projectid": 0,
            "invoiceid": None,
            "vendor": None,
            "notes": "",
            "markup_percent": "0",
            "tax_name1": None,
            "tax_amount1": None,
            "tax_name2": None,
            "tax_amount2": None,
            "code": account.business.currency_code,
        }
    )
    raw_category = _required(data, old, "expense", "categoryid")
    category = account.tables["categories"].get(parse_int(raw_category, object="expense", field="categoryid"))
    if category is None:
        raise invalid_value("expense", "categoryid", raw_category, "categoryid does not refer to a category.")
    rec["categoryid"] = category["id"]
    raw_amount = _required(data, old, "expense", "amount")
    if "amount" in data:
        rec["amount"] = parse_cents(raw_amount, object="expense", field="amount")
        if isinstance(raw_amount, dict) and raw_amount.get("code"):
            rec["code"] = str(raw_amount["code"])
    rec["date"] = parse_date(_required(data, old, "expense", "date"), object="expense", field="date")
    for name in ("staffid", "clientid", "projectid"):
        if name in data:
            rec[name] = parse_int(data[name] or 0, object="expense", field=name)
    if rec["clientid"] and account.tables["clients"].get(rec["clientid"]) is None:
        raise invalid_value("expense", "clientid", rec["clientid"], "clientid does not refer to a client.")
    _copy_text(rec, data, ("vendor", "notes", "markup_percent"))
    for n in ("1", "2"):
        if f"taxName{n}" in data:
            rec[f"tax_name{n}"] = text_or_none(data[f"taxName{n}"])
        if data.get(f"taxAmount{n}") not in (None, ""):
            rec[f"tax_amount{n}"] = parse_cents(
                data[f"taxAmount{n}"], object="expense", field=f"taxAmount{n}"
            )
    return rec


def _build_item(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old)
        if old
        else {
            "description": "",
            "qty": "1",
            "inventory": None,
            "sku": None,
            "unit_cost": 0,
            "tax1": 0,
            "tax2": 0,
            "code": account.business.currency_code,
        }
    )
    rec["name"] = str(_required(data, old, "item", "name"))
    _copy_text(rec, data, ("description", "sku"))
    for name in ("qty", "inventory"):
        if data.get(name) is not None:
            rec[name] = decimal_text(data[name], object="item", field=name)
    if "unit_cost" in data:
        rec["unit_cost"] = parse_cents(data["unit_cost"], object="item", field="unit_cost")
        if isinstance(data["unit_cost"], dict) and data["unit_cost"].get("code"):
            rec["code"] = str(data["unit_cost"]["code"])
    for name in ("tax1", "tax2"):
        if name in data:
            rec[name] = parse_int(data[name] or 0, object="item", field=name)
    return rec


def _build_tax(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = dict(old) if old else {"number": None, "amount": "0", "compound": False}
    rec["name"] = str(_required(data, old, "tax", "name"))
    if "amount" in data:
        percent = decimal_text(data["amount"], object="tax", field="amount")
        if not 0 <= Decimal(percent) <= 100:
            raise AccountingError(
                422,
                1018,
                "Percent value must be between 0 and 100.",
                field="amount",
                object="tax",
                value=data["amount"],
            )
        rec["amount"] = percent
    if "number" in data:
        rec["number"] = text_or_none(data["number"])
    if "compound" in data:
        rec["compound"] = parse_bool(data["compound"])
    return rec


def _build_bill_vendor(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old)
        if old
        else {"currency_code": account.business.currency_code, "language": "en", "is_1099": False}
    )
    _copy_text(rec, data, BILL_VENDOR_TEXT_FIELDS)
    if not rec.get("vendor_name"):
        raise required_field("bill_vendor", "vendor_name")
    if "is_1099" in data:
        rec["is_1099"] = parse_bool(data["is_1099"])
    return rec


def _build_bill(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old)
        if old
        else {
            "paid": 0,
            "language": "en",
            "overall_category": None,
            "overall_description": None,
            "bill_number": None,
        }
    )
    raw_vendor = _required(data, old, "bill", "vendorid")
    vendor = account.tables["bill_vendors"].get(parse_int(raw_vendor, object="bill", field="vendorid"))
    if vendor is None:
        raise invalid_value("bill", "vendorid", raw_vendor, "vendorid does not refer to a bill vendor.")
    rec["vendorid"] = vendor["id"]
    rec["issue_date"] = parse_date(
        _required(data, old, "bill", "issue_date"), object="bill", field="issue_date"
    )
    rec["due_offset_days"] = parse_int(
        data.get("due_offset_days", rec.get("due_offset_days", 0)), object="bill", field="due_offset_days"
    )
    rec["currency_code"] = str(
        data.get("currency_code") or rec.get("currency_code") or vendor["currency_code"]
    )
    _copy_text(rec, data, ("bill_number", "language", "overall_category", "overall_description"))
    if old is None or "lines" in data:
        raw_lines = _required(data, old, "bill", "lines")
        if not isinstance(raw_lines, list) or not raw_lines:
            raise invalid_value("bill", "lines", raw_lines, "A bill needs at least one line.")
        rec["lines"] = tuple(_bill_line(account, item) for item in raw_lines)
    rec["tax"] = sum(line.tax for line in rec["lines"])
    rec["amount"] = sum(line.amount for line in rec["lines"]) + rec["tax"]
    return rec


def _bill_line(account: Account, item: Any) -> BillLine:
    if not isinstance(item, dict):
        raise invalid_value("bill", "lines", item, "Each line must be an object.")
    raw_category = item.get("categoryid")
    if raw_category in (None, ""):
        raise required_field("bill_line", "categoryid")
    if (
        account.tables["categories"].get(parse_int(raw_category, object="bill_line", field="categoryid"))
        is None
    ):
        raise invalid_value(
            "bill_line", "categoryid", raw_category, "categoryid does not refer to a category."
        )
    quantity = decimal_text(item.get("quantity", 1), object="bill_line", field="quantity")
    unit_cost = parse_cents(item.get("unit_cost", 0), object="bill_line", field="unit_cost")
    amount = int((Decimal(quantity) * unit_cost).quantize(Decimal(1), ROUND_HALF_UP))
    taxes = []
    for n in ("1", "2"):
        name = item.get(f"tax_name{n}") or None
        percent = (
            decimal_text(item.get(f"tax_percent{n}", 0), object="bill_line", field=f"tax_percent{n}")
            if name
            else "0"
        )
        taxes.append((name, percent))
    tax = sum(percent_of(amount, percent) for name, percent in taxes if name)
    return BillLine(
        int(raw_category),
        str(item.get("description") or ""),
        quantity,
        unit_cost,
        taxes[0][0],
        taxes[0][1],
        taxes[1][0],
        taxes[1][1],
        amount,
        tax,
    )


def _read_only(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    raise AccountingError(405, 1006, "This resource is read-only through the API.")


_BUILDERS: dict[str, Callable[[Account, dict[str, Any], Record | None], Record]] = {
    "clients": _build_client,
    "invoices": _build_invoice,
    "payments": _build_payment,
    "expenses": _build_expense,
    "categories": _read_only,
    "items": _build_item,
    "taxes": _build_tax,
    "bill_vendors": _build_bill_vendor,
    "bills": _build_bill,
}


# -- OAuth state (contract section 1.2) ----------------------------------------------------------------

DEFAULT_SCOPES = (
    "user:profile:read",
    "user:clients:read",
    "user:clients:write",
    "user:invoices:read",
    "user:invoices:write",
    "user:payments:read",
    "user:payments:write",
    "user:expenses:read",
    "user:expenses:write",
    "user:billable_items:read",
    "user:billable_items:write",
    "user:taxes:read",
    "user:taxes:write",
    "user:bills:read",
    "user:bills:write",
    "user:bill_vendors:read",
    "user:bill_vendors:write",
)
CODE_LIFETIME = 300  # authorization codes live 5 minutes


@dataclass(frozen=True)
class OAuthApp:
    """The one registered developer app of the sandbox."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str


@dataclass
class Grant:
    scope: str
    redirect_uri: str
    expires_at: float


@dataclass
class AccessToken:
    scope: str
    expires_at: float


class TokenStore:
    """Authorization codes, access tokens and single-use rotating refresh tokens.

    Whether a refresh also revokes the previous access token is UNCONFIRMED; here it does not (the old
    access token lives until it expires), so a second process holding it is not cut off mid-page.
    """

    def __init__(self, app: OAuthApp, clock: Clock, lifetime: int = 43200) -> None:
        self.app = app
        self.clock = clock
        self.lifetime = lifetime
        self.codes: dict[str, Grant] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, str] = {}  # live refresh token -> scope
        self.used_refresh_tokens: set[str] = set()
        self.refreshes = 0

    def authorize(self, redirect_uri: str, scope: str) -> str:
        code = _token(32)
        self.codes[code] = Grant(scope, redirect_uri, self.clock.time() + CODE_LIFETIME)
        return code

    def exchange_code(self, code: str, redirect_uri: str | None) -> dict[str, Any]:
        grant = self.codes.pop(code, None)  # single use
        if grant is None or grant.expires_at < self.clock.time():
            raise _invalid_grant("The authorization code is invalid, expired or already used.")
        if redirect_uri != grant.redirect_uri:
            raise _invalid_grant("The redirect_uri does not match the one used to authorize.")
        return self.issue(grant.scope)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        scope = self.refresh_tokens.pop(refresh_token, None)
        if scope is None:
            reason = "already used" if refresh_token in self.used_refresh_tokens else "unknown"
            raise _invalid_grant(f"The refresh token is invalid ({reason}); refresh tokens are single-use.")
        self.used_refresh_tokens.add(refresh_token)
        self.refreshes += 1
        return self.issue(scope)

    def issue(self, scope: str | None = None) -> dict[str, Any]:
        """A fresh access + refresh token pair, in the token endpoint's response shape."""
        scope = " ".join(DEFAULT_SCOPES) if scope is None else scope
        created = int(self.clock.time())
        access, refresh = _token(32), _token(32)
        self.access[access] = AccessToken(scope, created + self.lifetime)
        self.refresh_tokens[refresh] = scope
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "refresh_token": refresh,
            "scope": scope,
            "created_at": created,
            "direct_buy_tokens": {},
        }

    def check(self, token: str) -> AccessToken | None:
        found = self.access.get(token)
        if found is None or found.expires_at <= self.clock.time():
            return None
        return found

    def revoke(self, token: str) -> None:
        self.access.pop(token, None)

    def expire_all(self) -> int:
        """Expire every live access token (refresh tokens stay usable); returns how many."""
        count = len(self.access)
        self.access.clear()
        return count


def _token(nbytes: int) -> str:
    return secrets.token_hex(nbytes)


def _invalid_grant(description: str) -> OAuthError:
    return OAuthError(400, "invalid_grant", description)
