"""Shop orders become FreshBooks clients and invoices, against the real shop and FreshBooks sandboxes.

Orders are checked out in the shop sandbox from a seeded generator (one to three lines, both discount
codes and none, free and paid shipping, US and Canadian buyers paying in USD or CAD), staged as the
read side stages them, planned by the write-back rules and pushed by the pusher. What FreshBooks then
holds is read back through its API: one invoice per order, the order's name in po_number, the total and
the currency of what the buyer paid, exact to the cent; one client per e-mail address, an existing one
reused. A second push writes nothing; lost answers (``commit_then_timeout``) and an attempt resumed from
in doubt duplicate nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.ledger import Ledger, Outcome, State, utcnow
from finsync_dagster.push import Pusher, PushReport
from finsync_dagster.push.planning import plan_pair, record
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.runner import RunningSandboxes, SandboxOptions, start
from finsync_dagster.settings import PairConfig, Settings, load_settings
from finsync_dagster.staging.load import stage_pages
from finsync_dagster.staging.shop_tables import ORDER_LINES_CHILD, ORDERS
from finsync_dagster.writeback.shop_orders import CLIENT, DISCOUNT, INVOICE, SHIPPING, TAX

PAIR = "shop"
SKUS = ("WIDGET-A", "WIDGET-B", "SENSOR-K1", "CABLE-5M")
EMAILS = [f"buyer{n}@orders.example" for n in range(6)]


@dataclass
class World:
    settings: Settings
    ledger: Ledger
    sandboxes: RunningSandboxes

    def shop(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.sandboxes.info['shop']['control_url']}{path}", json=body, timeout=30)
        assert response.status_code in (200, 201), response.text
        return response.json()["order"]

    def faults(self, plan: dict[str, Any]) -> None:
        response = httpx.put(
            f"{self.sandboxes.info['freshbooks']['control_url']}/faults", json=plan, timeout=10
        )
        response.raise_for_status()

    def fb(self) -> Any:
        return PairClients.of(self.settings).freshbooks(PAIR)

    def sync_and_push(self) -> PushReport:
        """Stage the shop's orders, plan the pair's writes and push them to FreshBooks."""
        path = self.settings.warehouse_path(PAIR)
        path.parent.mkdir(parents=True, exist_ok=True)
        with PairClients.of(self.settings).shop(PAIR) as shop, duckdb.connect(str(path)) as con:
            stage_pages(
                con, ORDERS, shop.iter_pages("orders"), pair=PAIR, full_refresh=True, child=ORDER_LINES_CHILD
            )
            record(self.ledger, plan_pair(con, self.settings, self.ledger, PAIR), planned_by="test")
        pusher = Pusher(
            self.ledger, PAIR, self.settings.pair(PAIR).write_back, {"freshbooks": self.fb}, settle_seconds=5
        )
        return pusher.run(["freshbooks"])

    def invoices(self) -> list[dict[str, Any]]:
        with self.fb() as fb:
            return list(fb.iter_records("invoices", include=["lines"]))

    def clients(self) -> list[dict[str, Any]]:
        with self.fb() as fb:
            return list(fb.iter_records("clients"))

    def applied(self) -> int:
        return sum(1 for row in self.ledger.audit_rows(pair=PAIR) if row["outcome"] == "applied")


@pytest.fixture
def world(tmp_path: Path, finsync_home: Path) -> Iterator[World]:
    directory = tmp_path / "sandbox"
    running = start(SandboxOptions(dir=directory, seed="empty"), ["freshbooks", "shop"])
    running.state("freshbooks").limiter.per_minute = 0  # not a test of the rate limit
    try:
        result = CliRunner().invoke(
            cli, ["connect", "freshbooks", "--pair", PAIR, "--sandbox", str(directory)]
        )
        assert result.exit_code == 0, result.output
        settings = load_settings(env={"FINSYNC_HOME": str(finsync_home)}, require_file=False)
        settings = settings.with_pair(PairConfig(name=PAIR, sandbox_dir=str(directory)))
        yield World(settings, Ledger(settings.ledger_url), running)
    finally:
        running.stop()
        running.state("freshbooks").webhooks.close()
        running.state("shop").webhooks.close()


def checkout(world: World, rng: random.Random, email: str) -> dict[str, Any]:
    country = rng.choice(["US", "CA"])
    return world.shop(
        "/orders",
        {
            "email": email,
            "lines": [
                {"sku": sku, "quantity": rng.randint(1, 7)} for sku in rng.sample(SKUS, rng.randint(1, 3))
            ],
            "address": {
                "first_name": "Kim",
                "last_name": email.split("@")[0].title(),
                "company": "",
                "address1": "1 Main St",
                "city": "Springfield",
                "province_code": "IL" if country == "US" else "ON",
                "country_code": country,
                "zip": "62701" if country == "US" else "K1A 0B1",
            },
            "currency": rng.choice(["USD", "CAD"]),
            "discount_code": rng.choice([None, None, "WELCOME10", "SAVE15"]),
            "payment": "paid",
            "guest": rng.random() < 0.2,
        },
    )


def generated_orders(world: World, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [checkout(world, rng, rng.choice(EMAILS)) for _ in range(count)]


def presentment(order: dict[str, Any], field: str) -> Decimal:
    return Decimal(order[f"{field}_set"]["presentment_money"]["amount"])


def assert_invoiced_exactly(world: World, orders: list[dict[str, Any]]) -> None:
    invoices = {invoice["po_number"]: invoice for invoice in world.invoices()}
    assert sorted(invoices) == sorted(order["name"] for order in orders)  # one each, no duplicate
    clients = {str(client["id"]): client for client in world.clients()}
    links = {link["infor_id"]: link["freshbooks_id"] for link in world.ledger.links(PAIR, "shop_orders")}
    for order in orders:
        invoice = invoices[order["name"]]
        assert links[str(order["id"])] == str(invoice["id"])
        assert invoice["currency_code"] == order["presentment_currency"]
        assert Decimal(invoice["amount"]["amount"]) == presentment(order, "total_price"), order["name"]
        assert clients[str(invoice["customerid"])]["email"].lower() == order["email"]
        lines = invoice["lines"]
        assert [line["name"] for line in lines[: len(order["line_items"])]] == [
            i["sku"] for i in order["line_items"]
        ]
        extras = {
            line["name"]: Decimal(line["amount"]["amount"]) for line in lines[len(order["line_items"]) :]
        }
        discount = sum(
            (presentment(i, "price") * i["quantity"] for i in order["line_items"]), Decimal(0)
        ) - presentment(order, "subtotal_price")
        assert extras.get(DISCOUNT, Decimal(0)) == -discount
        assert extras.get(SHIPPING, Decimal(0)) == presentment(order, "total_shipping_price")
        assert extras.get(TAX, Decimal(0)) == presentment(order, "total_tax")
    emails = [client["email"].lower() for client in clients.values()]
    assert len(emails) == len(set(emails))  # one client per buyer


def test_generated_shop_orders_become_invoices_exact_to_the_cent_once(world: World) -> None:
    orders = generated_orders(world, 24, seed=16)
    assert {o["presentment_currency"] for o in orders} == {"USD", "CAD"}
    assert any(o["discount_codes"] for o in orders) and any(not o["discount_codes"] for o in orders)
    assert any(len(o["line_items"]) > 1 for o in orders) and any(o["customer"] is None for o in orders)
    assert any(presentment(o, "total_shipping_price") > 0 for o in orders)

    report = world.sync_and_push()

    assert report.errors == [] and report.count("done") == len(orders) + len({o["email"] for o in orders})
    assert_invoiced_exactly(world, orders)
    # Ready to be M3 customers, guests included: a name, and the billing address.
    clients = world.clients()
    assert all(c["fname"] and c["lname"] and c["p_street"] and c["p_city"] and c["p_code"] for c in clients)
    before = world.applied()
    again = world.sync_and_push()
    assert again.count("done") == 0 and world.applied() == before  # a second push creates nothing
    assert_invoiced_exactly(world, orders)


def test_an_existing_client_is_found_by_email_and_reused(world: World) -> None:
    with world.fb() as fb:
        existing = fb.create("clients", {"organization": "Known Buyer Ltd", "email": "Buyer0@Orders.example"})
    rng = random.Random(3)
    orders = [checkout(world, rng, "buyer0@orders.example") for _ in range(2)]

    world.sync_and_push()

    assert_invoiced_exactly(world, orders)
    [client] = world.clients()
    assert client["id"] == existing["id"] and client["organization"] == "Known Buyer Ltd"
    assert client["lname"] == "Buyer0"  # an empty field filled in from the shop, nothing overwritten
    [done] = [a for a in world.ledger.actions(pair=PAIR) if a.action == CLIENT]
    assert done.target_id == str(existing["id"])


def test_lost_answers_duplicate_nothing(world: World) -> None:
    orders = generated_orders(world, 8, seed=5)
    world.faults({"rate": 1.0, "kinds": ["commit_then_timeout"], "ctt": "drop"})
    try:
        world.sync_and_push()
    finally:
        world.faults({})
    assert world.sandboxes.state("freshbooks").faults.injected >= len(
        orders
    )  # every invoice's answer was lost
    world.sync_and_push()

    assert_invoiced_exactly(world, orders)
    assert {a.state for a in world.ledger.actions(pair=PAIR)} == {State.DONE}


def test_an_attempt_resumed_from_in_doubt_finds_the_invoice_it_made(world: World) -> None:
    [order] = generated_orders(world, 1, seed=9)
    path = world.settings.warehouse_path(PAIR)
    path.parent.mkdir(parents=True, exist_ok=True)
    with PairClients.of(world.settings).shop(PAIR) as shop, duckdb.connect(str(path)) as con:
        stage_pages(
            con, ORDERS, shop.iter_pages("orders"), pair=PAIR, full_refresh=True, child=ORDER_LINES_CHILD
        )
        record(world.ledger, plan_pair(con, world.settings, world.ledger, PAIR), planned_by="test")
    client_key = next(a.key for a in world.ledger.actions(pair=PAIR) if a.action == CLIENT)
    one_round = iter([False])  # the client only: the invoice is claimable once the client is done
    config = world.settings.pair(PAIR).write_back
    Pusher(world.ledger, PAIR, config, {"freshbooks": world.fb}, stop=lambda: next(one_round, True)).run(
        ["freshbooks"]
    )
    client = world.ledger.action(client_key)
    assert client is not None and client.state == State.DONE and client.target_id
    # The invoice's first attempt reached FreshBooks, then its worker died before recording it.
    [claimed] = world.ledger.claim(pair=PAIR, target="freshbooks", owner="dead-worker", limit=1)
    assert claimed.action == INVOICE
    body = {**claimed.payload["body"], "customerid": int(client.target_id)}
    with world.fb() as fb:
        made = fb.create("invoices", body)
    world.ledger.finish(claimed, Outcome(State.IN_DOUBT, error="worker died", next_attempt_at=utcnow()))

    world.sync_and_push()

    assert_invoiced_exactly(world, [order])
    assert world.ledger.action(claimed.key).target_id == str(made["id"])  # type: ignore[union-attr]
    assert [
        r["outcome"] for r in world.ledger.audit_rows(pair=PAIR) if r["call"] == "GET invoices?po_number"
    ] == ["found"]
