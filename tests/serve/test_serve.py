"""``finsync serve --sandbox`` as a real process against both sandboxes (empty seed).

Nobody runs a command after starting it: a client and an invoice created in FreshBooks through its API
become an M3 customer and an M3 order (webhook, inbox sensor, event sync); an M3 customer created through
MI becomes a FreshBooks client by the poll sensor. Then SIGTERM stops it and every process it started:
no orphans, serve.json gone. (Slow: a daemon, a webserver and their code servers start.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from finsync_dagster.ledger import Action, Ledger, State
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.runner import SandboxOptions, start
from finsync_dagster.settings import Settings, load_settings

pytestmark = pytest.mark.slow

POLL_SECONDS = 20
PAIR = "sandbox"
T = TypeVar("T")


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    home: Path
    state: dict[str, Any]
    settings: Settings
    log: Path

    def ledger(self) -> Ledger:
        return Ledger(self.settings.ledger_url)

    def clients(self) -> PairClients:
        return PairClients.of(self.settings)

    def output(self) -> str:
        logs = self.home / "serve" / "logs"
        tails = [f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(logs.glob("*.log"))]
        return "\n".join([self.log.read_text(errors="replace")[-3000:], *tails])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serve")
    sandboxes = start(SandboxOptions(dir=root / "sandbox", seed="empty"))
    home = root / "home"
    env = {**os.environ, "FINSYNC_HOME": str(home), "FINSYNC_LEDGER_URL": "", "PYTHONWARNINGS": "ignore"}
    env.pop("DAGSTER_HOME", None)
    env.pop("FINSYNC_CONFIG", None)
    log = root / "serve.log"
    argv = [sys.executable, "-m", "finsync_dagster.cli", "serve", "--sandbox", str(root / "sandbox"),
            "--port", "0", "--poll-interval", str(POLL_SECONDS)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        state_file = home / "serve.json"
        wait_for(lambda: state_file.exists() or process.poll() is not None, 300, "serve.json")
        assert process.poll() is None, log.read_text()
        settings = load_settings(home / "serve" / "finsync.yaml", env={"FINSYNC_HOME": str(home)})
        yield Served(process, home, json.loads(state_file.read_text()), settings, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        sandboxes.stop()


def wait_for(probe: Callable[[], T], seconds: float, what: str) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"no {what} after {seconds:.0f} s")


def done_action(ledger: Ledger, action: str, source_id: str) -> Action | None:
    for found in ledger.actions(pair=PAIR):
        if found.action == action and found.source_id == source_id and found.state == State.DONE:
            return found
    return None


def test_serve_json_names_servers_that_answer(served: Served) -> None:
    state = served.state
    assert state["pid"] == served.process.pid
    assert httpx.get(f"{state['webhook_url']}/healthz").status_code == 200
    assert httpx.get(f"{state['dagster_url']}/server_info").status_code == 200
    assert httpx.get(f"{state['console_url']}/").status_code < 500
    callbacks = served.ledger().webhook_callbacks(pair=PAIR)
    assert callbacks and all(c.verified for c in callbacks)


def test_a_freshbooks_invoice_becomes_an_m3_order_without_a_command(served: Served) -> None:
    clients = served.clients()
    with clients.freshbooks(PAIR) as fb:
        client = fb.create(
            "clients",
            {"organization": "Served Live Ltd", "currency_code": "USD", "email": "ap@live.example",
             "p_street": "5 Event Way", "p_city": "Toronto", "p_province": "ON", "p_code": "M5V 2T6",
             "p_country": "Canada"},
        )  # fmt: skip
        lines = [{"name": "SBX-ITEM-001", "qty": 2, "unit_cost": {"amount": "12.50", "code": "USD"}}]
        invoice = fb.create(
            "invoices", {"customerid": client["id"], "create_date": "2026-12-01", "lines": lines}
        )
        fb.update("invoices", invoice["id"], {"action_mark_as_sent": True})  # a draft is no order yet
    ledger = served.ledger()
    order = wait_for(
        lambda: done_action(ledger, "m3.order.add", str(invoice["id"])), 420, f"M3 order\n{served.output()}"
    )
    assert order is not None
    with clients.infor(PAIR) as m3:
        [head] = m3.execute(program="OIS100MI", transaction="GetHead", params={"ORNO": order.target_id})
    assert Decimal(str(head["BRAM"])) == Decimal("25.00")


def test_an_m3_customer_added_through_mi_becomes_a_freshbooks_client_by_the_poller(served: Served) -> None:
    clients = served.clients()
    with clients.infor(PAIR) as m3:
        m3.execute(
            program="CRS610MI",
            transaction="Add",
            params={"CUNO": "MI0001", "CUNM": "Made In Mi Ltd", "CUTM": "TSTD", "CUA1": "9 Poll Road",
                    "TOWN": "Toronto", "PONO": "M5V 2T6", "CSCD": "CA", "MAIL": "ap@mi.example"},
        )  # fmt: skip
    ledger = served.ledger()
    # within one poll interval of the sensor, plus the run it launches (queued behind any run of the pair)
    created = wait_for(
        lambda: done_action(ledger, "freshbooks.client.create", "MI0001"), 420, f"client\n{served.output()}"
    )
    assert created is not None and created.target_id
    with clients.freshbooks(PAIR) as fb:
        assert fb.get("clients", created.target_id)["organization"] == "Made In Mi Ltd"


def test_stopping_it_stops_every_process_it_started(served: Served) -> None:
    started = descendants(served.process.pid)
    assert len(started) >= 4
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=90) == 0
    left = wait_for_none(started, 10)
    assert left == [], left
    assert not (served.home / "serve.json").exists()


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def wait_for_none(pids: list[int], seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while True:
        alive = [pid for pid in pids if _alive(pid)]
        if not alive or time.monotonic() > deadline:
            return [
                Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:200]
                for pid in alive
                if _alive(pid)
            ]
        time.sleep(0.5)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
