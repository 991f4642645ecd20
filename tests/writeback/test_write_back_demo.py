"""``finsync sync --write-back`` on the demo business, end to end against both sandboxes.

The four records the demo plants as missing in Infor (a client, an invoice, a payment, an expense), and
procure-to-pay's bill vendors M3 has no supplier for and every bill (the demo seeds no supplier invoice),
are created in M3 and read back through the API with their amounts exact to the cent; nothing else is
written (money differences and duplicates stay with people); a second push creates nothing; the fresh
reconciliation shows the four as matched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.ledger import Ledger, State
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.runner import SandboxOptions, start
from finsync_dagster.settings import PairConfig, load_settings
from tests.writeback.homes import finsync_home

pytestmark = pytest.mark.slow

_KIND = {
    "customer": ("m3.customer.add", "customers"),
    "invoice": ("m3.order.add", "invoices"),
    "payment": ("m3.payment.add", "payments"),
    "expense": ("m3.gl.add", "expenses"),
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    home = tmp_path_factory.mktemp("write_back")
    sandbox_dir = home / "sandbox"
    # No shop: its orders would become FreshBooks invoices (tests/writeback/test_shop_orders_to_freshbooks.py),
    # and this test is about what reconciliation alone writes.
    running = start(SandboxOptions(dir=sandbox_dir, seed="demo"), ["freshbooks", "infor"])
    try:
        with finsync_home(home):
            runner = CliRunner()
            result = runner.invoke(
                cli, ["sync", "--sandbox", str(sandbox_dir), "--write-back"], catch_exceptions=False
            )
            assert result.exit_code == 0, result.output
            settings = load_settings(env={"FINSYNC_HOME": str(home)}, require_file=False)
            settings = settings.with_pair(PairConfig(name="sandbox", sandbox_dir=str(sandbox_dir)))
            ledger = Ledger(settings.ledger_url)
            applied_before = _applied(ledger)
            again = runner.invoke(
                cli, ["push", "--sandbox", str(sandbox_dir), "--json"], catch_exceptions=False
            )
            assert again.exit_code == 0, again.output
            yield {
                "home": home,
                "sandbox": sandbox_dir,
                "settings": settings,
                "ledger": ledger,
                "output": result.output,
                "second_push": json.loads(again.output[again.output.index("{") :]),
                "applied_before": applied_before,
            }
    finally:
        running.stop()


def _applied(ledger: Ledger) -> int:
    return sum(1 for row in ledger.audit_rows(pair="sandbox") if row["outcome"] == "applied")


def _planted_missing(sandbox: Path) -> dict[str, str]:
    """entity -> the FreshBooks id the demo plants as missing in Infor."""
    truth = json.loads((sandbox / "demo-truth.json").read_text())
    ids = json.loads((sandbox / "freshbooks-truth.json").read_text())["freshbooks_ids"]
    return {
        planted["entity"]: str(ids[_KIND[planted["entity"]][1]][planted["freshbooks_ref"]])
        for planted in truth["planted"]
        if planted["expected_status"] == "missing_in_infor"
    }


def _procure_to_pay(sandbox: Path) -> list[tuple[str, str]]:
    """The vendors M3 has no supplier for, and every bill: what procure-to-pay creates in M3."""
    ids = json.loads((sandbox / "freshbooks-truth.json").read_text())["freshbooks_ids"]
    seeded = json.loads((sandbox / "demo-truth.json").read_text())["infor_refs"]["suppliers"]
    vendors = [("m3.supplier.add", str(i)) for key, i in ids["vendors"].items() if key not in seeded]
    return vendors + [("m3.supplier_invoice.add", str(i)) for i in ids["bills"].values()]


def test_exactly_the_planted_absences_are_written_once_each(written) -> None:
    missing = _planted_missing(written["sandbox"])
    actions = written["ledger"].actions(pair="sandbox")
    expected = [(_KIND[entity][0], source_id) for entity, source_id in missing.items()]
    expected += _procure_to_pay(written["sandbox"])
    assert sorted((a.action, a.source_id, a.state) for a in actions) == sorted(
        (action, source_id, State.DONE) for action, source_id in expected
    )
    assert f"created {len(expected)}, updated 0, waiting 0, in doubt 0, dead-lettered 0" in written["output"]


def test_what_was_written_reads_back_from_m3_exact_to_the_cent(written) -> None:
    missing = _planted_missing(written["sandbox"])
    clients = PairClients.of(written["settings"])
    ledger = written["ledger"]
    done = {a.action: a for a in ledger.actions(pair="sandbox")}
    with clients.freshbooks("sandbox") as fb, clients.infor("sandbox") as m3:
        client = fb.get("clients", missing["customer"])
        [customer] = m3.execute(
            program="CRS610MI", transaction="GetBasicData", params={"CUNO": done["m3.customer.add"].target_id}
        )
        assert customer["CUNM"] == client["organization"]

        invoice = fb.get("invoices", missing["invoice"])
        [order] = m3.execute(
            program="OIS100MI", transaction="GetHead", params={"ORNO": done["m3.order.add"].target_id}
        )
        assert Decimal(str(order["BRAM"])) == Decimal(invoice["amount"]["amount"])
        assert order["CUOR"] == invoice["invoice_number"]

        payment = fb.get("payments", missing["payment"])
        receipts = [
            row for batch in m3.iter_export(table="FSLEDG", columns=["ESCKNO", "ESCUAM", "ESCUCD"],
                                            where=[("ESCKNO", "=", done["m3.payment.add"].stamp)])
            for row in batch
        ]  # fmt: skip
        assert [abs(Decimal(str(r["ESCUAM"]))) for r in receipts] == [Decimal(payment["amount"]["amount"])]

        expense = fb.get("expenses", missing["expense"])
        postings = [
            Decimal(str(row["EGCUAM"]))
            for batch in m3.iter_export(table="FGLEDG", columns=["EGAIT1", "EGCUAM", "EGVTXT", "EGVDSC"],
                                        where=[("EGVDSC", "=", f"FreshBooks expense {missing['expense']}")])
            for row in batch
        ]  # fmt: skip
        assert sorted(postings) == sorted(
            [Decimal(expense["amount"]["amount"]), -Decimal(expense["amount"]["amount"])]
        )
        assert sum(postings) == 0  # the GL batch balances


def test_a_second_push_creates_nothing(written) -> None:
    assert written["second_push"]["summary"]["created"] == 0 and written["second_push"]["actions"] == []
    assert _applied(written["ledger"]) == written["applied_before"]


def test_the_fresh_reconciliation_shows_them_matched(written) -> None:
    missing = _planted_missing(written["sandbox"])
    tables = {"customer": "recon.customer_matches", "invoice": "recon.invoice_matches",
              "payment": "recon.payment_matches", "expense": "recon.expense_matches"}  # fmt: skip
    with duckdb.connect(str(written["home"] / "warehouse" / "sandbox.duckdb"), read_only=True) as con:
        for entity, source_id in missing.items():
            [(status,)] = con.sql(
                f"SELECT status FROM {tables[entity]} WHERE freshbooks_id = $id", params={"id": source_id}
            ).fetchall()
            assert status == "matched", (entity, source_id, status)
        statuses = con.sql(
            "SELECT status, count(*) FROM (SELECT status FROM recon.supplier_matches UNION ALL "
            "SELECT status FROM recon.bill_matches) GROUP BY status"
        ).fetchall()
        assert statuses == [("matched", 18)]  # 8 vendors (2 were suppliers already) and 10 bills
    crosswalk = {(link["entity"], link["freshbooks_id"]) for link in written["ledger"].links("sandbox")}
    entities = {"m3.supplier.add": "suppliers", "m3.supplier_invoice.add": "bills"}
    assert crosswalk == {(_KIND[entity][1], source_id) for entity, source_id in missing.items()} | {
        (entities[action], source_id) for action, source_id in _procure_to_pay(written["sandbox"])
    }


def test_every_bill_is_an_approved_m3_supplier_invoice_exact_to_the_cent(written) -> None:
    clients = PairClients.of(written["settings"])
    done = {a.source_id: a for a in written["ledger"].actions(pair="sandbox") if a.entity == "bills"}
    links = {link["freshbooks_id"] for link in written["ledger"].links("sandbox", "bills")}
    assert links == set(done)  # the crosswalk holds every bill
    with clients.freshbooks("sandbox") as fb, clients.infor("sandbox") as m3:
        for bill_id, action in done.items():
            bill = fb.get("bills", bill_id)
            [head] = m3.execute(program="APS450MI", transaction="GetHead", params={"INBN": action.target_id})
            assert (str(head["SUPA"]), head["SINO"]) == ("90", action.stamp)
            assert Decimal(str(head["CUAM"])) == Decimal(bill["total_amount"]["amount"])
