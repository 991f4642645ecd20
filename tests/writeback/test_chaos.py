"""Write-back under chaos: 2,000 generated actions pushed through faulty sandboxes by pushers that are
killed (``kill -9``) and stalled (``SIGSTOP`` past their lease, then ``SIGCONT``), exactly once in effect.

The business is generated (``chaos_world``), entered through the APIs, read and reconciled by ``finsync
sync``; the planner plans what it plans from that. Both sandboxes then answer 10 % of writes with a 5xx,
a 429 or a dropped connection and apply another 5 % before losing the answer (``commit_then_timeout``;
reads get the transient faults only, at 15 %). Real pusher processes (``python -m finsync_dagster.push``,
two at a time) push the outbox while the test kills 20 of them at random moments and stalls 3, with the
lease and hang times set small through ``finsync.yaml``. A thread plays M3's delivery and invoicing runs
(the control plane), so the payments, which wait for M3's AR invoice, can be applied.

Afterwards, read back through the APIs: both systems hold exactly the expected records (no duplicate,
none lost, amounts exact), every action is done, the crosswalk pairs every record, and the audit log
shows at most one applied call per step of each action.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.ledger import Ledger, State
from finsync_dagster.push import settled
from finsync_dagster.push.planning import plan_pair, record
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.runner import RunningSandboxes, SandboxOptions, start
from finsync_dagster.settings import load_settings
from tests.writeback.chaos_world import Entered, World, enter, generate
from tests.writeback.homes import finsync_home

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

SEED = 20261207
ACTIONS = int(os.environ.get("FINSYNC_CHAOS_ACTIONS", "2000"))  # fewer only to debug the test itself
KILLS = 20
STALLS = 3
LEASE_SECONDS = 3.0
HANG_SECONDS = 10.0
WORKERS = 2
# 15 % of requests faulted; commit_then_timeout, twice in six kinds, applies to writes only: writes see
# 10 % transient faults and 5 % applied-then-lost, reads 15 % transient faults.
FAULTS = "rate=0.15;kinds=500,503,429,drop,commit_then_timeout,commit_then_timeout;retry_after=1;ctt=drop"
PAIR = "sandbox"
CHAOS_BUDGET = 1200.0  # seconds for the pushes (about 300 at load 5); a hang fails with what is left


class Pushers:
    """The pusher processes: started, killed, stalled, reaped."""

    def __init__(self, home: Path, config: Path) -> None:
        self.home = home
        self.config = config
        self.running: list[tuple[subprocess.Popen[bytes], float]] = []
        self.started = 0
        self.kills = 0
        self.stalls = 0
        self.logs = home / "pushers"
        self.logs.mkdir()

    def spawn(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.logs / f"{self.started:03d}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "finsync_dagster.push", "--config", str(self.config), "--pair", PAIR,
             "--settle", "90"],
            cwd=self.home, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )  # fmt: skip
        log.close()
        self.running.append((process, time.monotonic()))
        return process

    def reap(self) -> None:
        self.running = [(p, t) for p, t in self.running if p.poll() is None]

    def top_up(self) -> None:
        self.reap()
        while len(self.running) < WORKERS:
            self.spawn()

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.kills += 1
        self.reap()

    def stall(self, process: subprocess.Popen[bytes]) -> None:
        """Stop it past its lease, within the hang allowance, then let it go on: it must see its claims may
        have lapsed and send nothing on them. (Stopped past the hang allowance too, a worker frozen between
        its lease check and a FreshBooks create is taken over and the create made twice; the lookup then
        finds both and leaves them to a person. No fence reaches a target without idempotency keys, which is
        what the allowance, 600 s by default, is for.)"""
        process.send_signal(signal.SIGSTOP)
        try:
            time.sleep(LEASE_SECONDS + 2.0)
        finally:
            process.send_signal(signal.SIGCONT)
        self.stalls += 1

    def stop_all(self) -> None:
        for process, _ in self.running:
            process.send_signal(signal.SIGCONT)
            process.kill()
            process.wait()
        self.running = []


class InvoicingRun(threading.Thread):
    """M3's warehouse and invoicing runs: every order finsync confirmed is delivered and invoiced."""

    def __init__(self, ledger: Ledger, control_url: str) -> None:
        super().__init__(daemon=True, name="m3-invoicing")
        self.ledger = ledger
        self.control_url = control_url
        self.invoiced: set[str] = set()
        self.errors: list[str] = []
        self.busy: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=30) as control:
            while not self.stopping.wait(1.0):
                try:
                    done = self.ledger.actions(pair=PAIR, states=[State.DONE])
                except Exception as error:  # the ledger busy with the pushers' writes: next round
                    self.busy.append(repr(error))
                    continue
                for action in done:
                    order = action.target_id
                    if action.action != "m3.order.add" or not order or order in self.invoiced:
                        continue
                    for step in ("deliver", "invoice"):
                        response = control.post(f"{self.control_url}/orders/{order}/{step}", json={})
                        if response.status_code != 200:
                            self.errors.append(f"{step} {order}: {response.status_code} {response.text}")
                    self.invoiced.add(order)


def _set_faults(running: RunningSandboxes, spec: str | None) -> None:
    for system in ("freshbooks", "infor"):
        url = f"{running.info[system]['control_url']}/faults"
        response = httpx.put(url, json={"spec": spec}, timeout=10) if spec else httpx.delete(url, timeout=10)
        response.raise_for_status()


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("chaos")
    sandbox_dir = home / "sandbox"
    config = home / "finsync.yaml"
    config.write_text(
        f"version: 1\npairs:\n  - name: {PAIR}\n    sandbox_dir: {sandbox_dir}\n"
        f"write_back:\n  lease_seconds: {LEASE_SECONDS}\n  hang_seconds: {HANG_SECONDS}\n  recheck_minutes: 1\n",
        encoding="utf-8",
    )
    running = start(SandboxOptions(dir=sandbox_dir, seed="empty"))
    limiter = running.state("freshbooks").limiter
    quota = limiter.per_minute
    limiter.per_minute = 0  # entering the world is not what is tested
    try:
        with finsync_home(home):
            runner = CliRunner()

            def run(*args: str) -> str:
                result = runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
                assert result.exit_code == 0, result.output
                return result.output

            run("connect", "freshbooks", "--sandbox", str(sandbox_dir))
            run("connect", "infor", "--sandbox", str(sandbox_dir))
            settings = load_settings(config, env={"FINSYNC_HOME": str(home)})
            clients = PairClients.of(settings)
            world = generate(SEED, ACTIONS)
            with clients.freshbooks(PAIR, requests_per_minute=1_000_000) as fb, clients.infor(PAIR) as m3:
                entered = enter(world, fb, m3)
            run("sync")
            ledger = Ledger(settings.ledger_url)
            with duckdb.connect(str(settings.warehouse_path(PAIR)), read_only=True) as connection:
                planned = plan_pair(connection, settings, ledger, PAIR)
            record(ledger, planned, planned_by="chaos test")

            limiter.per_minute = quota
            _set_faults(running, FAULTS)
            invoicing = InvoicingRun(ledger, running.info["infor"]["control_url"])
            invoicing.start()
            pushers = Pushers(home, config)
            try:
                _push_under_chaos(pushers, ledger, invoicing)
            finally:
                pushers.stop_all()
                invoicing.stopping.set()
                invoicing.join(timeout=30)
                _set_faults(running, None)
            yield {"world": world, "entered": entered, "planned": planned, "ledger": ledger,
                   "clients": clients, "pushers": pushers, "invoicing": invoicing}  # fmt: skip
    finally:
        running.stop()


def _push_under_chaos(pushers: Pushers, ledger: Ledger, invoicing: InvoicingRun) -> None:
    """Two workers at a time; kill 20 at random moments and stall 3; then let the last ones finish."""
    rng = random.Random(SEED)
    stall_after = set(rng.sample(range(2, KILLS), STALLS))
    deadline = time.monotonic() + CHAOS_BUDGET
    while pushers.kills < KILLS:
        assert time.monotonic() < deadline, f"chaos phase over budget: {ledger.outbox_counts(PAIR)}"
        pushers.top_up()
        time.sleep(rng.uniform(0.5, 2.5))
        pushers.reap()
        # A victim that has been up long enough to import, claim and be sending.
        ready = [p for p, started in pushers.running if time.monotonic() - started > 3.0]
        if not ready:
            continue
        victim = rng.choice(ready)
        if pushers.kills in stall_after and pushers.stalls < STALLS:
            stall_after.discard(pushers.kills)
            pushers.top_up()
            pushers.stall(victim)
        else:
            pushers.kill(victim)
    while not _finished(ledger):
        assert time.monotonic() < deadline, f"pushes over budget: {ledger.outbox_counts(PAIR)}"
        assert invoicing.is_alive(), "M3's invoicing run stopped"
        pushers.top_up()
        time.sleep(1.0)
    for process, _ in pushers.running:
        process.wait(timeout=max(1.0, deadline - time.monotonic()))


def _finished(ledger: Ledger) -> bool:
    """Nothing left to push: settled, and no payment waiting for an order (unless something died)."""
    counts = ledger.outbox_counts(PAIR)
    return settled(ledger, PAIR) and (not counts.get(State.BLOCKED, 0) or bool(counts.get(State.DEAD, 0)))


# -- what the systems hold ---------------------------------------------------------------------------


def _export(m3: Any, table: str, columns: list[str]) -> list[dict[str, Any]]:
    return [row for batch in m3.iter_export(table=table, columns=columns) for row in batch]


def test_the_planner_planned_every_generated_record(chaos) -> None:
    assert chaos["world"].size == ACTIONS
    assert len(chaos["planned"].actions) == ACTIONS and not chaos["planned"].left
    assert Counter(a.action for a in chaos["planned"].actions) == {
        "m3.customer.add": len(chaos["world"].clients),
        "m3.order.add": len(chaos["world"].invoices),
        "m3.payment.add": len(chaos["world"].payments),
        "m3.gl.add": len(chaos["world"].expenses),
        "freshbooks.client.create": len(chaos["world"].m3_customers),
    }


def test_the_chaos_happened(chaos) -> None:
    assert chaos["pushers"].kills == KILLS and chaos["pushers"].stalls == STALLS
    assert not chaos["invoicing"].errors and chaos["invoicing"].is_alive() is False
    assert len(chaos["invoicing"].invoiced) == len(chaos["world"].invoices)
    audit = chaos["ledger"].audit_rows(pair=PAIR)
    outcomes = Counter(row["outcome"] for row in audit)
    assert outcomes["in_doubt"] > 0 and outcomes["found"] > 0, outcomes  # answers were lost and looked up


def test_every_action_is_done_none_lost(chaos) -> None:
    actions = chaos["ledger"].actions(pair=PAIR)
    assert len(actions) == ACTIONS
    assert Counter(a.state for a in actions) == {State.DONE: ACTIONS}
    assert not chaos["ledger"].dead_letters(pair=PAIR)


def test_m3_holds_each_customer_order_receipt_and_posting_once(chaos) -> None:
    world: World = chaos["world"]
    entered: Entered = chaos["entered"]
    with chaos["clients"].infor(PAIR) as m3:
        customers = Counter(str(r["CUNO"]).strip() for r in m3.list_transaction("CRS610MI", "LstByNumber"))
        expected = {c["CUNO"] for c in world.m3_customers} | {f"FB{client}" for client in entered.clients}
        assert set(customers) == expected and set(customers.values()) == {1}

        orders = _export(m3, "OOHEAD", ["OAORNO", "OACUNO", "OACUOR"])
        by_reference = defaultdict(list)
        for row in orders:
            by_reference[str(row["OACUOR"]).strip()].append(row)
        assert {ref: len(rows) for ref, rows in by_reference.items()} == {
            str(invoice["invoice_number"]): 1 for invoice in entered.invoices
        }
        open_batches = [
            r for r in _export(m3, "OXHEAD", ["OAORNO", "OASTAT"]) if str(r["OASTAT"]).strip() == "05"
        ]
        assert open_batches == []  # no half-entered duplicate of any order
        for invoice in entered.invoices:
            [row] = by_reference[str(invoice["invoice_number"])]
            assert str(row["OACUNO"]).strip() == f"FB{invoice['customerid']}"
            [head] = m3.execute(program="OIS100MI", transaction="GetHead", params={"ORNO": row["OAORNO"]})
            assert Decimal(str(head["BRAM"])) == Decimal(str(invoice["amount"]["amount"]))

        stamps = {
            a.stamp: a.source_id for a in chaos["ledger"].actions(pair=PAIR) if a.action == "m3.payment.add"
        }
        receipts: Counter[str] = Counter()
        amounts: dict[str, Decimal] = {}
        for row in _export(m3, "FSLEDG", ["ESCKNO", "ESCUAM"]):
            stamp = str(row["ESCKNO"]).strip()
            if stamp in stamps:
                receipts[stamp] += 1
                amounts[stamp] = abs(Decimal(str(row["ESCUAM"])))
        assert set(receipts) == set(stamps) and set(receipts.values()) == {1}
        paid = {
            payment_id: Decimal(p["amount"])
            for payment_id, p in zip(entered.payments, world.payments, strict=True)
        }
        assert {stamps[s]: amount for s, amount in amounts.items()} == paid

        postings = defaultdict(list)
        for row in _export(m3, "FGLEDG", ["EGVDSC", "EGCUAM"]):
            postings[str(row["EGVDSC"]).strip()].append(Decimal(str(row["EGCUAM"])))
        for expense_id, expense in zip(entered.expenses, world.expenses, strict=True):
            amount = Decimal(expense["amount"])
            assert sorted(postings.pop(f"FreshBooks expense {expense_id}")) == [-amount, amount]
        assert not [d for d in postings if d.startswith("FreshBooks expense")]


def test_freshbooks_holds_each_m3_customer_once(chaos) -> None:
    world: World = chaos["world"]
    with chaos["clients"].freshbooks(PAIR) as fb:
        clients = list(fb.iter_records("clients"))
    assert len(clients) == len(world.clients) + len(world.m3_customers)
    stamped = Counter(
        line.removeprefix("finsync M3 customer ")
        for client in clients
        for line in (client.get("note") or "").splitlines()
        if line.startswith("finsync M3 customer ")
    )
    assert stamped == Counter(c["CUNO"] for c in world.m3_customers)


def test_the_crosswalk_pairs_every_record(chaos) -> None:
    world: World = chaos["world"]
    links = Counter(link["entity"] for link in chaos["ledger"].links(PAIR))
    assert links == {
        "customers": len(world.clients) + len(world.m3_customers),
        "invoices": len(world.invoices),
        "payments": len(world.payments),
        "expenses": len(world.expenses),
    }
    done = {a.key: a for a in chaos["ledger"].actions(pair=PAIR)}
    by_key = {link["action_key"] for link in chaos["ledger"].links(PAIR)}
    assert by_key == set(done)


def test_the_audit_shows_one_effect_per_action(chaos) -> None:
    applied: Counter[tuple[str, str]] = Counter()
    effects: dict[str, set[str]] = defaultdict(set)
    for row in chaos["ledger"].audit_rows(pair=PAIR):
        if row["outcome"] == "applied":
            applied[(row["action_key"], row["step"])] += 1
        if row["outcome"] in ("applied", "found"):
            effects[row["action_key"]].add(row["step"])
    assert [step for step, n in applied.items() if n > 1] == []
    assert set(effects) == {a.key for a in chaos["ledger"].actions(pair=PAIR)}
