"""Procure-to-pay for 500 generated bills and expenses, pushed through chaos, end to end.

Across the real sandboxes and real ``finsync`` processes: 250 bills of 20 new bill vendors and 250
expenses are created in FreshBooks and synced; then ``finsync push`` runs while M3 loses the answer of
15 % of its writes after committing them (``commit_then_timeout``), and is killed with ``kill -9`` at
random points, four times; a last push runs without faults. Afterwards every supplier invoice batch and
every GL batch is posted and balanced, nothing is left half-posted (no batch entered but not approved,
no GL batch not updated), nothing is duplicated, every posting belongs to a FreshBooks record through the
crosswalk, and the fresh reconciliation matches everything.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from finsync_dagster.ledger import Ledger, State
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.runner import SandboxOptions, start
from finsync_dagster.settings import PairConfig, load_settings
from tests.cli_processes import finsync
from tests.sandbox.infor.m3 import control
from tests.writeback.homes import finsync_home

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

VENDORS, BILLS, EXPENSES, KILLS = 20, 250, 250, 4
SEED = 16


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("DAGSTER_HOME", None)
    return env


def _sync(home: Path, sandbox: Path) -> None:
    """A read-side sync in its own process, as the pushers run: the test process keeps no ledger
    connection open while other processes write it."""
    process = finsync("sync", "--sandbox", str(sandbox), cwd=home, env=_env())
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output


def _generate(fb: Any, rng: random.Random) -> dict[str, list[str]]:
    """20 vendors, 250 bills of 1-3 lines (some taxed) and 250 expenses, on the demo's own categories
    (whose GL accounts M3 has)."""
    categories = sorted({int(e["categoryid"]) for e in fb.iter_records("expenses")})
    vendors = [
        str(fb.create("bill_vendors", {"vendor_name": f"Chaos Supply {n:02d}", "currency_code": "USD",
                                       "primary_contact_email": f"ap{n}@chaos-supply.example"})["vendorid"])
        for n in range(VENDORS)
    ]  # fmt: skip
    bills = []
    for n in range(BILLS):
        lines = []
        for _ in range(rng.randint(1, 3)):
            line: dict[str, Any] = {"categoryid": rng.choice(categories), "description": f"Supplies {n}",
                                    "quantity": rng.randint(1, 4), "unit_cost": {"amount": f"{rng.randint(100, 99_999) / 100:.2f}", "code": "USD"}}  # fmt: skip
            if rng.random() < 0.4:
                line.update(tax_name1="Sales Tax", tax_percent1="8.25")
            lines.append(line)
        body = {"vendorid": rng.choice(vendors), "bill_number": f"CH-{n:04d}", "issue_date": "2026-11-02",
                "due_offset_days": 30, "currency_code": "USD", "lines": lines}  # fmt: skip
        bills.append(str(fb.create("bills", body)["id"]))
    expenses = [
        str(fb.create("expenses", {"categoryid": rng.choice(categories), "date": "2026-11-03",
                                   "vendor": f"Chaos Vendor {n % 7}", "notes": f"chaos expense {n}",
                                   "amount": {"amount": f"{rng.randint(100, 250_000) / 100:.2f}", "code": "USD"}})["id"])
        for n in range(EXPENSES)
    ]  # fmt: skip
    return {"vendors": vendors, "bills": bills, "expenses": expenses}


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("p2p_chaos")
    sandbox = home / "sandbox"
    running = start(SandboxOptions(dir=sandbox, seed="demo"))
    running.state("freshbooks").limiter.per_minute = 0  # not about the rate limit
    rng = random.Random(SEED)
    try:
        with finsync_home(home):
            _sync(home, sandbox)  # connects both accounts
            settings = load_settings(env={"FINSYNC_HOME": str(home)}, require_file=False)
            settings = settings.with_pair(PairConfig(name="sandbox", sandbox_dir=str(sandbox)))
            clients = PairClients.of(settings)
            with clients.freshbooks("sandbox") as fb:
                made = _generate(fb, rng)
            clients.get_ledger().engine.dispose()
            _sync(home, sandbox)
            control(running, "PUT", "faults", {"rate": 0.15, "kinds": ["commit_then_timeout"], "seed": SEED})
            killed = 0
            for _ in range(KILLS):
                pusher = finsync("push", "--sandbox", str(sandbox), cwd=home, env=_env())
                try:
                    time.sleep(rng.uniform(10, 30))
                    if pusher.poll() is None:
                        pusher.send_signal(signal.SIGKILL)
                        killed += 1
                finally:
                    if pusher.poll() is None:
                        pusher.kill()
                    pusher.wait()
            control(running, "DELETE", "faults")
            last = finsync("push", "--sandbox", str(sandbox), cwd=home, env=_env())
            try:
                output, _ = last.communicate(timeout=900)
            finally:
                if last.poll() is None:
                    last.kill()
            assert last.returncode == 0, output
            _sync(home, sandbox)
            yield {"home": home, "settings": settings, "ledger": Ledger(settings.ledger_url), "made": made,
                   "killed": killed, "m3": running.state("infor"), "clients": clients}  # fmt: skip
    finally:
        running.stop()


def test_chaos_happened(chaos) -> None:
    """The pushers were killed mid-run and M3 lost answers: otherwise this test proves nothing."""
    assert chaos["killed"] >= 1
    outcomes = Counter(row["outcome"] for row in chaos["ledger"].audit_rows(pair="sandbox"))
    assert outcomes["in_doubt"] > 0 and outcomes["found"] > 0, outcomes
    print(f"procure-to-pay chaos: {chaos['killed']} pushers killed -9; M3 calls by outcome {dict(outcomes)}")


def test_every_action_is_done_none_dead(chaos) -> None:
    states = Counter((a.action, a.state) for a in chaos["ledger"].actions(pair="sandbox"))
    assert {state for _, state in states} == {State.DONE}, states
    assert states["m3.supplier_invoice.add", State.DONE] >= BILLS
    assert states["m3.gl.add", State.DONE] >= EXPENSES


def _company(chaos: dict[str, Any]) -> Any:
    """The Infor sandbox's company, read directly: GL batches not yet updated are visible only there."""
    return chaos["m3"].company()


def test_supplier_invoices_posted_once_each_none_half_posted(chaos) -> None:
    company = _company(chaos)
    heads = [h for h in company.table("FAPIBH").scan() if h["SINO"].startswith("CH-")]
    assert Counter(h["SUPA"] for h in heads) == {"90": BILLS}  # none entered-but-unapproved, none rejected
    assert len({(h["SUNO"], h["SINO"]) for h in heads}) == BILLS  # 0 duplicates
    entries = [e for e in company.table("FPLEDG").scan() if e["SINO"].startswith("CH-")]
    assert len(entries) == BILLS and len({(e["SUNO"], e["SINO"]) for e in entries}) == BILLS
    with chaos["clients"].freshbooks("sandbox") as fb:
        totals = {b["bill_number"]: Decimal(b["total_amount"]["amount"]) for b in fb.iter_records("bills")}
    assert {e["SINO"]: -e["CUAM"] for e in entries} == {
        k: v for k, v in totals.items() if k.startswith("CH-")
    }


def test_every_gl_voucher_balances_and_no_gl_batch_is_left_unposted(chaos) -> None:
    company = _company(chaos)
    by_voucher: dict[Any, Decimal] = {}
    for row in company.table("FGLEDG").scan():
        key = (row["YEA4"], row["VONO"])
        by_voucher[key] = by_voucher.get(key, Decimal(0)) + row["CUAM"]
    assert {k: v for k, v in by_voucher.items() if v != 0} == {}
    unposted = [key for key, batch in company.gl_batches.items() if batch.voucher is None]
    assert unposted == []
    expense_vouchers = Counter(
        row["VDSC"] for row in company.table("FGLEDG").scan() if row["VDSC"].startswith("FreshBooks expense")
    )
    made = chaos["made"]["expenses"]
    assert all(expense_vouchers[f"FreshBooks expense {e}"] == 2 for e in made)  # one voucher, two lines, once


def test_no_orphan_postings_and_the_crosswalk_is_complete(chaos) -> None:
    links = Counter((link["entity"], link["freshbooks_id"]) for link in chaos["ledger"].links("sandbox"))
    made = chaos["made"]
    assert all(links["bills", b] == 1 for b in made["bills"])
    assert all(links["expenses", e] == 1 for e in made["expenses"])
    assert all(links["suppliers", v] == 1 for v in made["vendors"])
    linked_bills = {link["infor_id"] for link in chaos["ledger"].links("sandbox", "bills")}
    company = _company(chaos)
    ours = {
        f"{e['YEA4']}-{e['JRNO']}-{e['JSNO']}"
        for e in company.table("FPLEDG").scan()
        if e["SINO"].startswith("CH-")
    }
    assert ours <= linked_bills  # every AP posting of ours belongs to a FreshBooks bill


def test_the_fresh_reconciliation_matches_every_supplier_bill_and_expense(chaos) -> None:
    made = chaos["made"]
    with duckdb.connect(str(chaos["home"] / "warehouse" / "sandbox.duckdb"), read_only=True) as con:
        for table, ids in (("supplier_matches", made["vendors"]), ("bill_matches", made["bills"]),
                           ("expense_matches", made["expenses"])):  # fmt: skip
            statuses = Counter(
                status
                for (status,) in con.sql(
                    f"SELECT status FROM recon.{table} WHERE freshbooks_id IN (SELECT unnest($ids))",
                    params={"ids": ids},
                ).fetchall()
            )
            assert statuses == {"matched": len(ids)}, (table, statuses)
