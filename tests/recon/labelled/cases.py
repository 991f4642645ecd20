"""Labelled cases, drawn deterministically from a seed: what each system holds, and what should come out.

A *case* is a small scene a bookkeeper would recognise (the same customer keyed with a typo, an invoice
whose M3 order is a cent off, a payment entered once in FreshBooks and in two parts in M3), made of
records on one or both sides. Each record has a key (``c00012.fb``); :class:`Expected` rows say which
FreshBooks record pairs with which M3 record and with what status, or that a record stands alone.

Records of different cases never resemble each other on purpose: names are built from random syllables
and amounts carry random cents, so a wrong pairing across cases is the matcher's. Dates spread over a
span that grows with the draw, so each GL account sees about as many entries a day in a small draw as in
a large one (0.4 days per case: 2,500 cases span 1,000 days).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

MATCHED = "matched"
DIFFERS = "matched_with_differences"
MISSING_IN_INFOR = "missing_in_infor"
MISSING_IN_FRESHBOOKS = "missing_in_freshbooks"
DUPLICATE = "duplicate_suspected"
UNMATCHED_EXPECTED = "unmatched_expected"  # a draft no M3 order carries yet, under the default settings
PAIRED = (MATCHED, DIFFERS)

ENTITIES = ("customers", "invoices", "payments", "expenses")

# FreshBooks' built-in categories -> the GL account finsync maps them to (lookups/expense_category_gl.csv).
CATEGORIES = {
    "Advertising": "6500", "Car & Truck Expenses": "6910", "Contractors": "6920",
    "Education and Training": "6930", "Employee Benefits": "6940", "Meals and Entertainment": "6400",
    "Office Expenses & Postage": "6200", "Office Supplies": "6200", "Other Expenses": "6990",
    "Professional Fees": "6800", "Rent": "6600", "Software": "6300", "Travel": "6100", "Utilities": "6700",
}  # fmt: skip

_SYLLABLES = (
    "kal", "vor", "en", "bri", "dal", "mon", "tar", "ves", "lin", "gro", "pel", "sun", "hal", "mer", "rik",
    "tof", "nor", "bes", "cam", "dor", "fal", "gen", "hus", "jor", "lam", "mad", "nix", "ost", "pra", "quin",
)  # fmt: skip
_TRADES = (
    "Logistics", "Bakery", "Consulting", "Plumbing", "Dental", "Marine", "Textiles", "Analytics", "Roofing",
    "Catering", "Printing", "Robotics", "Outfitters", "Brewing", "Cabinetry", "Engineering", "Optics",
)  # fmt: skip
_STREETS = ("Main St", "Harbour Road", "Mill Lane", "Station Ave", "Elm Street", "Kings Way", "Quay Side")
_CITIES = ("Springfield", "Riverton", "Lakeside", "Fairview", "Oakdale", "Bergen", "Hamburg", "Aarhus")
# Legal-form spellings that name the same company: (FreshBooks, M3).
_LEGAL_PAIRS = (
    ("Ltd", "Limited"),
    ("LLC", "L.L.C."),
    ("Inc", "Inc."),
    ("GmbH", "GmbH"),
    ("Corp", "Corporation"),
)
# Letters that folding must transliterate, not drop, with their ASCII spelling in M3.
_SPECIAL_WORDS = (
    ("Sjømat", "Sjoemat"), ("Strauß", "Strauss"), ("Kjær", "Kjaer"), ("Grøn", "Groen"), ("Weiß", "Weiss"),
    ("Læsø", "Laesoe"), ("Brød", "Broed"), ("Mæhle", "Maehle"), ("Café", "Cafe"),
)  # fmt: skip


@dataclass
class Customer:
    key: str
    name: str
    email: str | None
    street: str
    city: str
    postcode: str


@dataclass
class Invoice:
    """A FreshBooks invoice, or the M3 customer order (``number`` is its CUOR, blank when keyed in M3)."""

    key: str
    customer: str
    number: str
    issued: date
    quantity: int
    price: Decimal
    currency: str = "USD"
    draft: bool = False  # FreshBooks only
    invoiced: bool = False  # M3 only: delivered and invoiced into the AR ledger on ``issued``

    @property
    def total(self) -> Decimal:
        return self.price * self.quantity


@dataclass
class Payment:
    key: str
    invoice: str  # the key of the invoice on the same side
    paid: date
    amount: Decimal
    reference: str | None = None


@dataclass
class Expense:
    key: str
    category: str
    vendor: str
    spent: date
    amount: Decimal
    currency: str = "USD"
    reference: str | None = None  # FreshBooks notes / the M3 voucher text carry it when set

    @property
    def gl_account(self) -> str:
        return CATEGORIES[self.category]


@dataclass
class Side:
    customers: list[Customer] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    expenses: list[Expense] = field(default_factory=list)


@dataclass(frozen=True)
class Expected:
    """One row the match table should hold: a pair (both keys) or a record alone (one key)."""

    entity: str
    case: str
    kind: str
    freshbooks: str | None
    infor: str | None
    status: str


@dataclass
class Draw:
    seed: int
    freshbooks: Side
    infor: Side
    truth: list[Expected]

    def kinds(self, entity: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.truth:
            if row.entity == entity:
                counts[row.kind] = counts.get(row.kind, 0) + 1
        return counts


def draw(seed: int, per_entity: int) -> Draw:
    """About ``per_entity`` cases of each entity (a case may hold several records), the same for a seed."""
    # Books of any size hold about as many entries per account and day: a small draw spans fewer days.
    builder = _Builder(random.Random(seed), days=max(20, per_entity * 2 // 5))
    builder.customers(per_entity)
    builder.invoices(per_entity)
    builder.payments(per_entity)
    builder.expenses(per_entity)
    return Draw(seed, builder.fb, builder.m3, builder.truth)


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100)) / 100


def _alpha(number: int) -> str:
    """A tag without digits (a digit would become a reference token in M3's voucher text)."""
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


class _Builder:
    def __init__(self, rng: random.Random, days: int) -> None:
        self.rng, self.days = rng, days
        self.fb, self.m3 = Side(), Side()
        self.truth: list[Expected] = []
        self.serial = 0
        self.used_names: set[str] = set()
        self.anchors: list[tuple[str, str]] = []  # clean customer pairs that invoices hang off

    # -- helpers --------------------------------------------------------------------------------------

    def _case(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:05d}"

    def _expect(self, entity: str, case: str, kind: str, fb: str | None, m3: str | None, status: str) -> None:
        self.truth.append(Expected(entity, case, kind, fb, m3, status))

    def _surname(self) -> str:
        while True:
            word = "".join(self.rng.choice(_SYLLABLES) for _ in range(3)).capitalize()
            if word not in self.used_names:
                self.used_names.add(word)
                return word

    def _day(self) -> date:
        return date(2024, 1, 1) + timedelta(days=self.rng.randrange(self.days))

    def _company(self, case: str, name: str, email: bool) -> Customer:
        return Customer(
            key="",
            name=name,
            email=f"ap@{name.split()[0].lower()}-{case}.example" if email else None,
            street=f"{self.rng.randrange(1, 400)} {self.rng.choice(_STREETS)}",
            city=self.rng.choice(_CITIES),
            postcode=f"{self.rng.randrange(10000, 99999)}",
        )

    def _pair(self, case: str, fb: Customer, m3: Customer) -> tuple[str, str]:
        fb.key, m3.key = f"{case}.fb", f"{case}.m3"
        self.fb.customers.append(fb)
        self.m3.customers.append(m3)
        return fb.key, m3.key

    # -- customers ------------------------------------------------------------------------------------

    def customers(self, count: int) -> None:
        kinds = (
            ("same", 3), ("email_and_name_typo", 2), ("legal_form", 2), ("dropped_legal_form", 1),
            ("transliterated", 2), ("reordered_words", 1), ("name_typo", 2), ("truncated_in_m3", 1),
            ("shared_email", 1), ("similar_name_other_company", 1), ("freshbooks_only", 1), ("m3_only", 1),
        )  # fmt: skip
        names, weights = zip(*kinds, strict=True)
        for kind in self.rng.choices(names, weights, k=count):
            getattr(self, f"_customer_{kind}")(self._case("c"), kind)

    def _same_pair(self, case: str, kind: str, fb: Customer, m3_name: str, status: str, email: bool) -> None:
        m3 = Customer("", m3_name, fb.email if email else None, fb.street, fb.city, fb.postcode)
        self._expect("customers", case, kind, *self._pair(case, fb, m3), status)

    def _customer_same(self, case: str, kind: str) -> None:
        name = f"{self._surname()} {self.rng.choice(_TRADES)} {self.rng.choice(_LEGAL_PAIRS)[0]}"
        self._same_pair(case, kind, self._company(case, name, True), name, MATCHED, True)

    def _customer_email_and_name_typo(self, case: str, kind: str) -> None:
        surname, trade = self._surname(), self.rng.choice(_TRADES)
        fb = self._company(case, f"{surname} {trade}", True)
        self._same_pair(case, kind, fb, f"{_typo(self.rng, surname)} {trade}", DIFFERS, True)

    def _customer_legal_form(self, case: str, kind: str) -> None:
        base = f"{self._surname()} {self.rng.choice(_TRADES)}"
        fb_form, m3_form = self.rng.choice(_LEGAL_PAIRS)
        fb = self._company(case, f"{base} {fb_form}", False)
        self._same_pair(case, kind, fb, f"{base.upper()} {m3_form}", MATCHED, False)

    def _customer_dropped_legal_form(self, case: str, kind: str) -> None:
        base = f"{self._surname()} {self.rng.choice(_TRADES)}"
        fb = self._company(case, f"{base} {self.rng.choice(_LEGAL_PAIRS)[0]}", False)
        self._same_pair(case, kind, fb, base, MATCHED, False)

    def _customer_transliterated(self, case: str, kind: str) -> None:
        special, ascii_spelling = self.rng.choice(_SPECIAL_WORDS)
        surname, form = self._surname(), self.rng.choice(("AS", "GmbH", "ApS"))
        fb = self._company(case, f"{surname} {special} {form}", False)
        self._same_pair(case, kind, fb, f"{surname} {ascii_spelling} {form}", MATCHED, False)

    def _customer_reordered_words(self, case: str, kind: str) -> None:
        surname, trade = self._surname(), self.rng.choice(_TRADES)
        fb = self._company(case, f"{surname} {trade} Ltd", False)
        self._same_pair(case, kind, fb, f"{trade} {surname} Ltd", DIFFERS, False)

    def _customer_name_typo(self, case: str, kind: str) -> None:
        surname, trade = self._surname(), self.rng.choice(_TRADES)
        fb = self._company(case, f"{surname} {trade} Inc", False)
        self._same_pair(case, kind, fb, f"{_typo(self.rng, surname)} {trade} Inc", DIFFERS, False)

    def _customer_truncated_in_m3(self, case: str, kind: str) -> None:
        name = f"{self._surname()} {self._surname()} and Partners {self.rng.choice(_TRADES)} Ltd"
        fb = self._company(case, name, True)
        self._same_pair(case, kind, fb, name[:36], MATCHED, True)  # M3's CUNM holds 36 characters

    def _customer_shared_email(self, case: str, kind: str) -> None:
        shared = f"finance@{self._surname().lower()}-group-{case}.example"
        for half in ("a", "b"):
            name = f"{self._surname()} {self.rng.choice(_TRADES)} Ltd"
            fb = self._company(case, name, False)
            fb.email = shared
            m3 = Customer("", name, shared, fb.street, fb.city, fb.postcode)
            fb.key, m3.key = f"{case}{half}.fb", f"{case}{half}.m3"
            self.fb.customers.append(fb)
            self.m3.customers.append(m3)
            self._expect("customers", case, kind, fb.key, m3.key, MATCHED)

    def _customer_similar_name_other_company(self, case: str, kind: str) -> None:
        surname = self._surname()
        trade_fb, trade_m3 = self.rng.sample(_TRADES, 2)
        fb = self._company(case, f"{surname} {trade_fb} Ltd", True)
        m3 = self._company(case + "x", f"{surname} {trade_m3} Ltd", True)
        while m3.city == fb.city:
            m3.city = self.rng.choice(_CITIES)
        fb.key, m3.key = f"{case}.fb", f"{case}.m3"
        self.fb.customers.append(fb)
        self.m3.customers.append(m3)
        self._expect("customers", case, kind, fb.key, None, MISSING_IN_INFOR)
        self._expect("customers", case, kind, None, m3.key, MISSING_IN_FRESHBOOKS)

    def _customer_freshbooks_only(self, case: str, kind: str) -> None:
        fb = self._company(case, f"{self._surname()} {self.rng.choice(_TRADES)}", self.rng.random() < 0.5)
        fb.key = f"{case}.fb"
        self.fb.customers.append(fb)
        self._expect("customers", case, kind, fb.key, None, MISSING_IN_INFOR)

    def _customer_m3_only(self, case: str, kind: str) -> None:
        m3 = self._company(case, f"{self._surname()} {self.rng.choice(_TRADES)}", self.rng.random() < 0.5)
        m3.key = f"{case}.m3"
        self.m3.customers.append(m3)
        self._expect("customers", case, kind, None, m3.key, MISSING_IN_FRESHBOOKS)

    def _anchor(self) -> tuple[str, str]:
        """A clean customer pair to trade with; a new one every few documents (it is a customer case too)."""
        if not self.anchors or self.rng.random() < 0.2:
            case = self._case("a")
            name = f"{self._surname()} {self.rng.choice(_TRADES)} Ltd"
            self._same_pair(case, "trading_customer", self._company(case, name, True), name, MATCHED, True)
            self.anchors.append((f"{case}.fb", f"{case}.m3"))
        return self.rng.choice(self.anchors)

    # -- invoices -------------------------------------------------------------------------------------

    def _invoice_pair(
        self, case: str, *, invoiced: bool = False, draft: bool = False
    ) -> tuple[Invoice, Invoice]:
        fb_customer, m3_customer = self._anchor()
        issued, quantity, price = self._day(), self.rng.randrange(1, 5), _cents(self.rng, 20, 900)
        number = f"LB-{case[1:]}"
        fb = Invoice(f"{case}.fb", fb_customer, number, issued, quantity, price, draft=draft)
        m3 = Invoice(f"{case}.m3", m3_customer, number, issued, quantity, price, invoiced=invoiced)
        return fb, m3

    def invoices(self, count: int) -> None:
        kinds = (
            ("confirmed_order", 3), ("invoiced_order", 3), ("cent_difference", 2), ("quantity_difference", 1),
            ("currency_difference", 1), ("order_dated_later", 1), ("draft", 2), ("freshbooks_only", 1),
            ("m3_only", 1), ("m3_order_without_reference", 1), ("duplicate_reference", 1),
            ("draft_without_order", 1), ("draft_already_invoiced_in_m3", 1),
        )  # fmt: skip
        names, weights = zip(*kinds, strict=True)
        for kind in self.rng.choices(names, weights, k=count):
            case = self._case("i")
            fb, m3 = self._invoice_pair(
                case,
                invoiced=kind in ("invoiced_order", "draft_already_invoiced_in_m3"),
                draft=kind.startswith("draft"),
            )
            status = DIFFERS if kind == "draft_already_invoiced_in_m3" else MATCHED
            if kind == "cent_difference":
                m3.price += Decimal("0.01")
                status = DIFFERS
            elif kind == "quantity_difference":
                m3.quantity += 1
                status = DIFFERS
            elif kind == "currency_difference":
                fb.currency = "EUR"
                status = DIFFERS
            elif kind == "order_dated_later":
                m3.issued += timedelta(days=2)
                status = DIFFERS
            if kind in ("freshbooks_only", "draft_without_order"):
                self.fb.invoices.append(fb)
                alone = UNMATCHED_EXPECTED if fb.draft else MISSING_IN_INFOR
                self._expect("invoices", case, kind, fb.key, None, alone)
                continue
            if kind in ("m3_only", "m3_order_without_reference"):
                m3.number = "" if kind == "m3_order_without_reference" else f"OLD-{case[1:]}"
                self.m3.invoices.append(m3)
                self._expect("invoices", case, kind, None, m3.key, MISSING_IN_FRESHBOOKS)
                continue
            self.fb.invoices.append(fb)
            self.m3.invoices.append(m3)
            self._expect("invoices", case, kind, fb.key, m3.key, status)
            if kind == "duplicate_reference":  # the same order keyed twice in M3, a day apart
                twin = Invoice(
                    f"{case}.m3b",
                    m3.customer,
                    m3.number,
                    m3.issued + timedelta(days=1),
                    m3.quantity,
                    m3.price,
                )
                self.m3.invoices.append(twin)
                self._expect("invoices", case, kind, None, twin.key, DUPLICATE)

    # -- payments -------------------------------------------------------------------------------------

    def payments(self, count: int) -> None:
        kinds = (
            ("same_reference", 3), ("next_day_no_reference", 3), ("instalments", 2), ("split_in_m3", 1),
            ("split_in_freshbooks", 1), ("cent_difference", 1), ("near_pair_after_older_payment", 1),
            ("entered_twice_in_m3", 1), ("freshbooks_only", 1), ("m3_only", 1),
        )  # fmt: skip
        names, weights = zip(*kinds, strict=True)
        for kind in self.rng.choices(names, weights, k=count):
            case = self._case("p")
            fb_inv, m3_inv = self._invoice_pair(case, invoiced=True)
            fb_inv.quantity = m3_inv.quantity = 1
            self.fb.invoices.append(fb_inv)
            self.m3.invoices.append(m3_inv)
            self._expect("invoices", case, "paid_invoice", fb_inv.key, m3_inv.key, MATCHED)
            getattr(self, f"_payment_{kind}")(case, kind, fb_inv, m3_inv)

    def _pay(
        self, side: Side, invoice: Invoice, suffix: str, paid: date, amount: Decimal, ref: str | None = None
    ) -> str:
        key = f"{invoice.key.split('.')[0]}.{suffix}"
        side.payments.append(Payment(key, invoice.key, paid, amount, ref))
        return key

    def _payment_same_reference(self, case: str, kind: str, fb: Invoice, m3: Invoice) -> None:
        day, ref = (
            fb.issued + timedelta(days=self.rng.randrange(5, 40)),
            f"TX{case[1:]}{self.rng.randrange(100, 999)}",
        )
        a = self._pay(self.fb, fb, "pay.fb", day, fb.total, ref)
        b = self._pay(self.m3, m3, "pay.m3", day, m3.total, ref)
        self._expect("payments", case, kind, a, b, MATCHED)

    def _payment_next_day_no_reference(self, case: str, kind: str, fb: Invoice, m3: Invoice) -> None:
        day = fb.issued + timedelta(days=self.rng.randrange(5, 40))
        a = self._pay(self.fb, fb, "pay.fb", day, fb.total)
        b = self._pay(self.m3, m3, "pay.m3", day + timedelta(days=1), m3.total)
        self._expect("payments", case, kind, a, b, MATCHED)

    def _payment_instalments(self, case: str, kind: str, fb: Invoice, m3: Invoice) -> None:
        first = (fb.total / 2).quantize(Decimal("0.01"))
        for n, (amount, offset) in enumerate(((first, 10), (fb.total - first, 40))):
            day = fb.issued + timedelta(days=offset)
            a = self._pay(self.fb, fb, f"pay{n}.fb", day, amount)
            b = self._pay(self.m3, m3, f"pay{n}.m3", day, amount)
            self._expect("payments", case, kind, a, b, MATCHED)

    def _split(self, case: str, kind: str, fb: Invoice, m3: Invoice, *, in_m3: bool) -> None:
        day = fb.issued + timedelta(days=self.rng.randrange(5, 40))
        part = (fb.total * Decimal("0.4")).quantize(Decimal("0.01"))
        one_side, parts_side = (self.fb, self.m3) if in_m3 else (self.m3, self.fb)
        one_inv, parts_inv = (fb, m3) if in_m3 else (m3, fb)
        suffix_one, suffix_parts = ("fb", "m3") if in_m3 else ("m3", "fb")
        whole = self._pay(one_side, one_inv, f"pay.{suffix_one}", day, fb.total)
        for n, amount in enumerate((part, fb.total - part)):
            piece = self._pay(parts_side, parts_inv, f"pay{n}.{suffix_parts}", day, amount)
            pair = (whole, piece) if in_m3 else (piece, whole)
            self._expect("payments", case, kind, *pair, MATCHED)

    def _payment_split_in_m3(self, case: str, kind: str, fb: Invoice, m3: Invoice) -> None:
        self._split(case, kind, fb, m3, in_m3=True)

    def _payment_split_in_freshbooks(self, case: str, kind: str, fb: Invoice, m3: Invoice) -> None:
        self._split(case, kind, fb, m3, in_m3=False)

    def _payment_cent_difference(self, case: str, kind: str, fb: Invoice, m3: Invoice) -> None:
        day = fb.issued + timedelta(days=self.rng.randrange(5, 40))
        a = self._pay(self.fb, fb, "pay.fb", day, fb.total)
        b = self._pay(self.m3, m3, "pay.m3", day, m3.total - Decimal("0.01"))
        self._expect("payments", case, kind, a, b, DIFFERS)

    def _payment_near_pair_after_older_payment(self, case: str, kind: str, fb: Invoice, m3: Invoice) -> None:
        """Issue 12's case: an older FreshBooks payment M3 never got, then a near pair a day apart."""
        day = fb.issued + timedelta(days=5)
        older = (fb.total * Decimal("0.3")).quantize(Decimal("0.01"))
        a0 = self._pay(self.fb, fb, "pay0.fb", day, older)
        later = fb.total - older
        a1 = self._pay(self.fb, fb, "pay1.fb", day + timedelta(days=21), later)
        b = self._pay(self.m3, m3, "pay1.m3", day + timedelta(days=22), later - Decimal("1.00"))
        self._expect("payments", case, kind, a0, None, MISSING_IN_INFOR)
        self._expect("payments", case, kind, a1, b, DIFFERS)

    def _payment_entered_twice_in_m3(self, case: str, kind: str, fb: Invoice, m3: Invoice) -> None:
        day = fb.issued + timedelta(days=self.rng.randrange(5, 40))
        half = (fb.total / 2).quantize(Decimal("0.01"))
        a = self._pay(self.fb, fb, "pay.fb", day, half)
        b = self._pay(self.m3, m3, "pay.m3", day, half)
        twin = self._pay(self.m3, m3, "pay.m3b", day + timedelta(days=1), half)
        self._expect("payments", case, kind, a, b, MATCHED)
        self._expect("payments", case, kind, None, twin, DUPLICATE)

    def _payment_freshbooks_only(self, case: str, kind: str, fb: Invoice, m3: Invoice) -> None:
        a = self._pay(self.fb, fb, "pay.fb", fb.issued + timedelta(days=9), fb.total)
        self._expect("payments", case, kind, a, None, MISSING_IN_INFOR)

    def _payment_m3_only(self, case: str, kind: str, fb: Invoice, m3: Invoice) -> None:
        b = self._pay(self.m3, m3, "pay.m3", m3.issued + timedelta(days=9), m3.total)
        self._expect("payments", case, kind, None, b, MISSING_IN_FRESHBOOKS)

    # -- expenses -------------------------------------------------------------------------------------

    def expenses(self, count: int) -> None:
        kinds = (
            ("same_reference", 2), ("same_day", 3), ("posted_two_days_later", 2), ("cent_difference", 1),
            ("one_unit_off_after_older_entry", 1), ("entered_twice_in_freshbooks", 1), ("other_currency", 1),
            ("freshbooks_only", 1), ("m3_only", 1),
        )  # fmt: skip
        names, weights = zip(*kinds, strict=True)
        for kind in self.rng.choices(names, weights, k=count):
            case = self._case("e")
            vendor = f"{self._surname()} {self.rng.choice(('Supplies', 'Travel', 'Services', 'Hardware'))}"
            category, day, amount = (
                self.rng.choice(sorted(CATEGORIES)),
                self._day(),
                _cents(self.rng, 5, 3000),
            )
            fb = Expense(f"{case}.fb", category, vendor, day, amount)
            m3 = Expense(f"{case}.m3", category, vendor, day, amount)
            status = MATCHED
            if kind == "same_reference":
                fb.reference = m3.reference = f"R{case[1:]}"
            elif kind == "posted_two_days_later":
                m3.spent += timedelta(days=2)
            elif kind == "cent_difference":
                m3.amount -= Decimal("0.01")
                status = DIFFERS
            elif kind == "other_currency":
                fb.currency = m3.currency = "EUR"
            if kind == "freshbooks_only":
                self.fb.expenses.append(fb)
                self._expect("expenses", case, kind, fb.key, None, MISSING_IN_INFOR)
                continue
            if kind == "m3_only":
                self.m3.expenses.append(m3)
                self._expect("expenses", case, kind, None, m3.key, MISSING_IN_FRESHBOOKS)
                continue
            if kind == "one_unit_off_after_older_entry":  # issue 12: 1,713.77 a day before 1,712.77
                older = Expense(
                    f"{case}.fb0", category, vendor, day - timedelta(days=21), _cents(self.rng, 5, 3000)
                )
                self.fb.expenses.append(older)
                self._expect("expenses", case, kind, older.key, None, MISSING_IN_INFOR)
                m3.spent += timedelta(days=1)
                m3.amount -= Decimal("1.00")
                status = DIFFERS
            self.fb.expenses.append(fb)
            self.m3.expenses.append(m3)
            self._expect("expenses", case, kind, fb.key, m3.key, status)
            if kind == "entered_twice_in_freshbooks":
                twin = Expense(f"{case}.fbb", category, vendor, day + timedelta(days=1), amount)
                self.fb.expenses.append(twin)
                self._expect("expenses", case, kind, twin.key, None, DUPLICATE)


def _typo(rng: random.Random, word: str) -> str:
    """One letter swapped for a neighbour, dropped, or doubled (never the first letter)."""
    while True:
        at = rng.randrange(1, len(word) - 1)
        how = rng.choice(("swap", "drop", "double"))
        if how == "swap":
            typo = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif how == "drop":
            typo = word[:at] + word[at + 1 :]
        else:
            typo = word[:at] + word[at] + word[at:]
        if typo.lower() != word.lower():
            return typo
