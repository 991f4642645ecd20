"""A generated business for the write-back chaos test: FreshBooks records M3 lacks, and M3 customers
FreshBooks lacks, drawn from a seeded generator and entered through the APIs.

Nothing is planted: names, addresses, line counts, prices, payment splits and expense categories are
drawn, so the planner sees an ordinary (if large) reconciliation and plans whatever it plans from it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from finsync_dagster.resources.infor.models import MiCall

CATEGORIES = ("Travel", "Office Supplies", "Software", "Advertising", "Rent", "Utilities")
TOWNS = ("Springfield", "Riverton", "Lakeside", "Fairview", "Ashford", "Kingsbridge", "Millbrook")
STREETS = ("Mill Lane", "High Street", "Station Road", "Church Walk", "Harbour View", "Oak Avenue")
WORDS = (
    "Alpine",
    "Harbor",
    "Copper",
    "Granite",
    "Willow",
    "Summit",
    "Cedar",
    "Falcon",
    "Meridian",
    "Juniper",
)
TRADES = ("Traders", "Works", "Supply", "Partners", "Logistics", "Studio", "Foods", "Engineering")
# Single words become M3 item numbers; longer texts go to M3's generic SERVICE item (the shipped mapping).
ITEMS = ("Consulting", "Installation", "Support plan", "Training day", "Site survey", "Maintenance")
M3_ITEMS = ("SERVICE", "CONSULTING", "INSTALLATION", "MAINTENANCE")
# The GL accounts the shipped category lookup maps those categories to.
GL_ACCOUNTS = {"6100": "Travel", "6200": "Office supplies", "6300": "Software", "6500": "Advertising",
               "6600": "Rent", "6700": "Utilities"}  # fmt: skip
_START = date(2026, 9, 1)


@dataclass(frozen=True)
class Share:
    """How a total number of actions splits over the kinds the planner makes."""

    clients: float = 0.10  # FreshBooks clients -> CRS610MI/Add
    invoices: float = 0.35  # FreshBooks invoices -> OIS100MI batch orders
    payments: float = 0.20  # FreshBooks payments -> ARS040MI batches
    expenses: float = 0.20  # FreshBooks expenses -> GLS840MI batches
    # the rest: M3 customers -> FreshBooks clients


@dataclass
class World:
    m3_customers: list[dict[str, str]] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)  # with "client": index into clients
    payments: list[dict[str, Any]] = field(default_factory=list)  # with "invoice": index into invoices
    expenses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(map(len, (self.m3_customers, self.clients, self.invoices, self.payments, self.expenses)))


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _name(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(TRADES)} {rng.randint(1, 999)}"
        if name not in taken:
            taken.add(name)
            return name


def generate(seed: int, total: int, share: Share = Share()) -> World:
    """About ``total`` records, each one write the rules plan by default."""
    rng = random.Random(seed)
    world = World()
    taken: set[str] = set()
    n_clients = max(1, round(total * share.clients))
    n_invoices = round(total * share.invoices)
    n_payments = min(n_invoices, round(total * share.payments))
    n_expenses = round(total * share.expenses)
    n_m3 = total - n_clients - n_invoices - n_payments - n_expenses
    for _ in range(n_clients):
        name = _name(rng, taken)
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
        world.clients.append(
            {"organization": name, "email": f"ap@{slug}.example", "p_street": f"{rng.randint(1, 200)} "
             f"{rng.choice(STREETS)}", "p_city": rng.choice(TOWNS), "p_code": f"{rng.randint(10000, 99999)}",
             "p_country": "United States", "currency_code": "USD"}
        )  # fmt: skip
    for _ in range(n_invoices):
        lines = [
            {"name": rng.choice(ITEMS), "qty": rng.randint(1, 5),
             "unit_cost": {"amount": str(_money(rng, 20, 900)), "code": "USD"}}
            for _ in range(rng.choice((1, 1, 2, 2, 3)))
        ]  # fmt: skip
        day = _START + timedelta(days=rng.randint(0, 50))
        world.invoices.append(
            {"client": rng.randrange(n_clients), "create_date": day.isoformat(), "lines": lines}
        )
    for index in rng.sample(range(n_invoices), n_payments):
        invoice = world.invoices[index]
        total_due = sum(Decimal(line["unit_cost"]["amount"]) * line["qty"] for line in invoice["lines"])
        part = (
            total_due
            if rng.random() < 0.7
            else (total_due * Decimal(rng.randint(20, 90)) / 100).quantize(Decimal("0.01"))
        )
        day = date.fromisoformat(invoice["create_date"]) + timedelta(days=rng.randint(1, 20))
        world.payments.append({"invoice": index, "amount": str(part), "date": day.isoformat(),
                               "type": rng.choice(("Check", "Credit Card", "Bank Transfer"))})  # fmt: skip
    for _ in range(n_expenses):
        day = _START + timedelta(days=rng.randint(0, 60))
        world.expenses.append({"category": rng.choice(CATEGORIES), "amount": str(_money(rng, 5, 2500)),
                               "date": day.isoformat(), "vendor": f"{rng.choice(WORDS)} {rng.choice(TRADES)}"})  # fmt: skip
    for n in range(n_m3):
        name = _name(rng, taken)
        world.m3_customers.append(
            {"CUNO": f"GC{n + 1:06d}", "CUNM": name, "CUA1": f"{rng.randint(1, 200)} {rng.choice(STREETS)}",
             "TOWN": rng.choice(TOWNS), "PONO": f"{rng.randint(10000, 99999)}", "CSCD": "US",
             "MAIL": f"billing@{''.join(ch for ch in name.lower() if ch.isalnum())[:24]}.example",
             "CUTM": "TSTD", "STAT": "20"}
        )  # fmt: skip
    return world


@dataclass
class Entered:
    """The ids the systems gave the generated records."""

    clients: list[str] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)  # the FreshBooks invoices as created
    payments: list[str] = field(default_factory=list)
    expenses: list[str] = field(default_factory=list)


def enter(world: World, fb: Any, m3: Any) -> Entered:
    """Create the world through the production clients (M3 in bulk, FreshBooks one by one), after the M3
    set-up a company has before it takes orders: its items and its expense accounts."""
    setup = [("MMS200MI", MiCall("AddItmBasic", {"ITNO": item, "ITDS": item.title(), "STAT": "20", "RESP": "FINANCE",
                                                      "UNMS": "EA", "ITTY": "SRV", "MABU": "2", "PRVG": "01"}))
             for item in M3_ITEMS]  # fmt: skip
    setup += [("CRS630MI", MiCall("AddAccountID", {"AITP": "1", "AITM": code, "TX40": name}))
              for code, name in GL_ACCOUNTS.items()]  # fmt: skip
    for program, call in setup:
        [outcome] = m3.execute_bulk(program=program, calls=[call])
        assert outcome.ok, outcome.error
    for start in range(0, len(world.m3_customers), 100):
        chunk = world.m3_customers[start : start + 100]
        for outcome in m3.execute_bulk(program="CRS610MI", calls=[MiCall("Add", record) for record in chunk]):
            assert outcome.ok, outcome.error
    entered = Entered()
    for client in world.clients:
        entered.clients.append(str(fb.create("clients", client)["id"]))
    for invoice in world.invoices:
        body = {"customerid": entered.clients[invoice["client"]], "create_date": invoice["create_date"],
                "lines": invoice["lines"], "currency_code": "USD"}  # fmt: skip
        created = fb.create("invoices", body)
        fb.update("invoices", str(created["id"]), {"action_mark_as_sent": True})  # a draft is not billed yet
        entered.invoices.append(created)
    for payment in world.payments:
        body = {"invoiceid": entered.invoices[payment["invoice"]]["id"], "date": payment["date"],
                "type": payment["type"], "amount": {"amount": payment["amount"], "code": "USD"}}  # fmt: skip
        entered.payments.append(str(fb.create("payments", body)["id"]))
    categories = {c["category"]: c["id"] for c in fb.iter_records("expense_categories")}
    for expense in world.expenses:
        body = {"categoryid": categories[expense["category"]], "date": expense["date"], "vendor": expense["vendor"],
                "amount": {"amount": expense["amount"], "code": "USD"}}  # fmt: skip
        entered.expenses.append(str(fb.create("expenses", body)["id"]))
    return entered
