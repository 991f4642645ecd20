"""``finsync sync --write-back`` with the demo shop, end to end through Dagster and all three sandboxes.

The demo shop's live orders become FreshBooks invoices, once each, totals exact to the cent, in the first
sync. The next sync should carry them on with the rules that were already there (with
``draft_without_order_is_exception``, so a draft invoice is due in M3): each invoice a confirmed M3
customer order whose customer reference is the invoice number, with the invoice's total. The next sync
does plan it (every buyer's client is an M3 customer by then, new ones created), but M3 refuses the
orders yet: the xfail below says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.ledger import Ledger, State
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.runner import SandboxOptions, start
from finsync_dagster.settings import PairConfig, load_settings
from tests.writeback.homes import finsync_home

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("order_to_cash")
    sandbox_dir = home / "sandbox"
    running = start(SandboxOptions(dir=sandbox_dir, seed="demo"))
    running.state("freshbooks").limiter.per_minute = 0
    try:
        with finsync_home(home):
            # A FreshBooks draft goes to M3 as an order at once, rather than once it is sent.
            (home / "finsync.yaml").write_text(
                "version: 1\nreconciliation:\n  draft_without_order_is_exception: true\n", encoding="utf-8"
            )
            runner = CliRunner()
            outputs = []
            for _ in range(2):
                result = runner.invoke(
                    cli, ["sync", "--sandbox", str(sandbox_dir), "--write-back"], catch_exceptions=False
                )
                assert result.exit_code == 0, result.output
                outputs.append(result.output)
            settings = load_settings(env={"FINSYNC_HOME": str(home)}, require_file=False)
            settings = settings.with_pair(PairConfig(name="sandbox", sandbox_dir=str(sandbox_dir)))
            yield {"settings": settings, "ledger": Ledger(settings.ledger_url), "outputs": outputs}
    finally:
        running.stop()


def _invoiceable(settings: Any) -> list[dict[str, Any]]:
    with PairClients.of(settings).shop("sandbox") as shop:
        return [
            o for page in shop.iter_pages("orders") for o in page if not o["test"] and not o["cancelled_at"]
        ]


def test_the_first_sync_invoices_every_live_shop_order_once_exactly(synced) -> None:
    orders = _invoiceable(synced["settings"])
    assert len(orders) > 20
    with PairClients.of(synced["settings"]).freshbooks("sandbox") as fb:
        invoices = [i for i in fb.iter_records("invoices") if i.get("po_number")]
    by_name = {invoice["po_number"]: invoice for invoice in invoices}
    assert sorted(i["po_number"] for i in invoices) == sorted(o["name"] for o in orders)
    for order in orders:
        invoice = by_name[order["name"]]
        assert invoice["currency_code"] == order["presentment_currency"]
        assert invoice["amount"]["amount"] == order["total_price_set"]["presentment_money"]["amount"]
    shop_actions = [a for a in synced["ledger"].actions(pair="sandbox") if a.source_system == "shop"]
    assert {a.state for a in shop_actions} == {State.DONE}


def test_the_next_sync_plans_each_new_buyer_as_an_m3_customer_and_each_invoice_as_an_m3_order(synced) -> None:
    ledger = synced["ledger"]
    invoices = {link["freshbooks_id"] for link in ledger.links("sandbox", "shop_orders")}
    planned = {a.source_id for a in ledger.actions(pair="sandbox") if a.action == "m3.order.add"}
    assert invoices and not invoices - planned, sorted(invoices - planned)
    added = {a.source_id: a.state for a in ledger.actions(pair="sandbox") if a.action == "m3.customer.add"}
    created = {
        a.target_id for a in ledger.actions(pair="sandbox") if a.action == "freshbooks.client.from_shop"
    } & set(added)
    assert created and {added[c] for c in created} == {State.DONE}


@pytest.mark.xfail(
    strict=True,
    reason="not yet: the FreshBooks -> M3 line spec sends text lines (the shop's discount, shipping and tax "
    "lines) as item SERVICE, which the M3 sandbox's item master lacks (WIT0203), and M3 would tax the order "
    "itself; these lines want M3 order charges, a step of their own",
)
def test_the_next_sync_carries_the_invoices_on_to_m3_orders(synced) -> None:
    ledger = synced["ledger"]
    invoices = {link["freshbooks_id"] for link in ledger.links("sandbox", "shop_orders")}
    orders = {a.source_id: a for a in ledger.actions(pair="sandbox") if a.action == "m3.order.add"}
    missing = sorted(invoices - set(orders))
    assert not missing, missing
    states = {invoice: orders[invoice].state for invoice in invoices}
    assert set(states.values()) == {State.DONE}, {k: (v, orders[k].last_error) for k, v in states.items()}
    clients = PairClients.of(synced["settings"])
    with clients.freshbooks("sandbox") as fb, clients.infor("sandbox") as m3:
        for invoice_id in sorted(invoices)[:5]:
            invoice = fb.get("invoices", invoice_id)
            [head] = m3.execute(
                program="OIS100MI", transaction="GetHead", params={"ORNO": orders[invoice_id].target_id}
            )
            assert head["CUOR"] == invoice["invoice_number"]
            assert Decimal(str(head["BRAM"])) == Decimal(invoice["amount"]["amount"])
