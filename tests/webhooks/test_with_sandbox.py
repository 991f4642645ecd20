"""`finsync webhooks serve` as a real process, `finsync webhooks register` against the FreshBooks sandbox:
the handshakes complete, then every signed delivery of the sandbox lands in the inbox once; a second
register changes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.ledger import Ledger
from finsync_dagster.settings import load_settings
from finsync_dagster.webhooks import EVENTS
from tests.fixtures.freshbooks import FreshBooksSandboxHandle

PAIR = "demo"


@dataclass
class Setup:
    env: dict[str, str]
    home: Path
    config: Path

    def ledger(self) -> Ledger:
        return Ledger(load_settings(self.config, env=self.env).ledger_url)

    def finsync(self, *args: str) -> Any:
        return CliRunner().invoke(cli, ["--config", str(self.config), *args], env=self.env)


@pytest.fixture
def setup(freshbooks_empty_sandbox: FreshBooksSandboxHandle, tmp_path: Path) -> Iterator[Setup]:
    config = tmp_path / "finsync.yaml"
    config.write_text(
        f"version: 1\npairs:\n  - name: {PAIR}\n    sandbox_dir: {freshbooks_empty_sandbox.dir}\n",
        encoding="utf-8",
    )
    home = tmp_path / "home"
    env = {"FINSYNC_HOME": str(home), "FINSYNC_CONFIG": str(config), "FINSYNC_LEDGER_URL": ""}
    connected = CliRunner().invoke(
        cli,
        ["connect", "freshbooks", "--sandbox", str(freshbooks_empty_sandbox.dir), "--pair", PAIR],
        env=env,
    )
    assert connected.exit_code == 0, connected.output
    yield Setup(env, home, config)
    freshbooks_empty_sandbox.restore()
    freshbooks_empty_sandbox.state.webhooks.clear()


@pytest.fixture
def receiver(setup: Setup) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    env = {**os.environ, **setup.env, "PYTHONWARNINGS": "ignore"}
    env.pop("DAGSTER_HOME", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "finsync_dagster.cli",
            "--config",
            str(setup.config),
            "webhooks",
            "serve",
            "--port",
            "0",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    state = setup.home / "webhooks.json"
    deadline = time.monotonic() + 60
    while not state.exists():
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.05)
    url = json.loads(state.read_text())["url"]
    try:
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)


def test_handshake_then_each_signed_delivery_lands_once(
    setup: Setup,
    receiver: tuple[str, subprocess.Popen[str]],
    freshbooks_empty_sandbox: FreshBooksSandboxHandle,
) -> None:
    url, process = receiver
    sandbox = freshbooks_empty_sandbox.state

    registered = setup.finsync("webhooks", "register", "--pair", PAIR, "--wait", "60")
    assert registered.exit_code == 0, registered.output
    assert "not verified" not in registered.output
    callbacks = sandbox.webhooks.list(freshbooks_empty_sandbox.account_id)
    assert sorted(c.event for c in callbacks) == sorted(EVENTS)
    assert all(c.verified and c.uri == f"{url}/webhooks/freshbooks/{PAIR}" for c in callbacks)
    recorded = setup.ledger().webhook_callbacks(pair=PAIR)
    assert {(c.callback_id, c.verified) for c in recorded} == {(str(c.id), True) for c in callbacks}

    again = setup.finsync("webhooks", "register", "--pair", PAIR, "--wait", "5")
    assert again.exit_code == 0, again.output
    assert "created" not in again.output  # every row says "kept"
    assert sorted(c.id for c in sandbox.webhooks.list(freshbooks_empty_sandbox.account_id)) == sorted(
        c.id for c in callbacks
    )

    with freshbooks_empty_sandbox.client() as api:
        customer = api.post(
            freshbooks_empty_sandbox.accounting_url("users/clients"),
            json={"client": {"organization": "Hooked Ltd", "email": "ap@hooked.example"}},
        ).json()["response"]["result"]["client"]
        invoice = api.post(
            freshbooks_empty_sandbox.accounting_url("invoices/invoices"),
            json={"invoice": {"customerid": customer["id"], "create_date": "2026-11-02"}},
        ).json()["response"]["result"]["invoice"]
        api.put(
            freshbooks_empty_sandbox.accounting_url(f"invoices/invoices/{invoice['id']}"),
            json={"invoice": {"notes": "changed"}},
        )
    assert sandbox.webhooks.wait_idle(30)

    deliveries = [d for d in sandbox.webhooks.deliveries if d["name"] != "callback.verify"]
    assert {(d["name"], d["object_id"]) for d in deliveries} >= {
        ("client.create", str(customer["id"])),
        ("invoice.create", str(invoice["id"])),
        ("invoice.update", str(invoice["id"])),
    }
    assert all(d["status"] == 200 for d in deliveries)
    rows = setup.ledger().inbox_after(0, pair=PAIR)
    assert sorted((r.event, r.object_id) for r in rows) == sorted(
        {(d["name"], d["object_id"]) for d in deliveries}
    )

    # FreshBooks delivering the same callback again (a retry): answered 200, stored once.
    first = deliveries[0]
    replay = httpx.post(
        first["uri"],
        data=first["fields"],
        headers={"X-FreshBooks-Hmac-SHA256": first["signature"]},
    )
    assert replay.json() == {"status": "duplicate"}
    assert len(setup.ledger().inbox_after(0, pair=PAIR)) == len(rows)

    listed = setup.finsync("webhooks", "list", "--pair", PAIR)
    assert listed.exit_code == 0, listed.output
    assert all(event in listed.output for event in EVENTS)

    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    assert not (setup.home / "webhooks.json").exists()
    for callback in sandbox.webhooks.callbacks.values():
        assert callback.verifier not in output + registered.output + again.output
