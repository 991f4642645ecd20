"""The receiver killed with SIGKILL 20 times during a flood of 10,000 signed deliveries at concurrency 50,
on SQLite and on PostgreSQL: every delivery it answered 200 for is in the inbox, and each is stored once.

The flood retries a delivery whose connection failed, as a provider would: a delivery committed just
before a kill, whose 200 never left, arrives again and must not be stored twice. Ten per cent of the
deliveries are exact repeats of earlier ones from the start.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from finsync_dagster.ledger import Ledger, freshbooks_key
from finsync_dagster.ledger.schema import inbox
from finsync_dagster.sandbox.webhook_flood import FloodResult, flood, freshbooks_request
from tests.webhooks.helpers import PAIR, VERIFIER, delivery_fields, seed_verified_callback, write_config

DELIVERIES = 10_000
DISTINCT = 9_000
KILLS = 20
CONCURRENCY = 50

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'ledger.sqlite'}"
    return str(request.getfixturevalue("postgres_database")["url"])


class Receiver:
    """`finsync webhooks serve` on a fixed port, killed and restarted on demand."""

    def __init__(self, config: Path, env: dict[str, str], port: int) -> None:
        self.command = [
            sys.executable, "-m", "finsync_dagster.cli", "--config", str(config),
            "webhooks", "serve", "--port", str(port),
        ]  # fmt: skip
        self.env = env
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self._stderr()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError("the receiver did not come up")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)

    def _stderr(self) -> str:
        assert self.process is not None
        return self.process.stderr.read().decode() if self.process.stderr else ""


@pytest.fixture
def receiver(tmp_path: Path, ledger_url: str) -> Iterator[Receiver]:
    key = Fernet.generate_key().decode()
    env = {
        **os.environ,
        "FINSYNC_HOME": str(tmp_path / "home"),
        "FINSYNC_LEDGER_URL": ledger_url,
        "FINSYNC_TOKEN_KEY": key,
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("DAGSTER_HOME", None)
    ledger = Ledger(ledger_url, token_key=key)
    ledger.migrate()
    seed_verified_callback(ledger)
    ledger.engine.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = Receiver(write_config(tmp_path), env, port)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_nothing_answered_200_is_lost_across_20_kills(receiver: Receiver, ledger_url: str) -> None:
    rng = random.Random(15)
    distinct = [
        delivery_fields(str(n), name=rng.choice(["invoice.create", "invoice.update", "invoice.delete"]))
        for n in range(DISTINCT)
    ]
    fields = distinct + [rng.choice(distinct) for _ in range(DELIVERIES - DISTINCT)]
    rng.shuffle(fields)
    port = int(receiver.url.rsplit(":", 1)[1])
    requests = [
        freshbooks_request("127.0.0.1", port, f"/webhooks/freshbooks/{PAIR}", f, VERIFIER) for f in fields
    ]
    receiver.wait_healthy()

    kills: list[float] = []

    def killer() -> None:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.1, 0.3))
            receiver.kill()
            kills.append(time.monotonic())
            receiver.start()
            receiver.wait_healthy()

    def send(batch: list[bytes]) -> FloodResult:
        return asyncio.run(flood("127.0.0.1", port, batch, concurrency=CONCURRENCY, retry=True, timeout=60))

    thread = threading.Thread(target=killer)
    thread.start()
    results = [send(requests)]
    # A fast machine may finish the flood before the last kill: keep redelivering (as a provider
    # does) until every kill has landed, so each one meets traffic and every repeat must dedupe.
    while thread.is_alive():
        results.append(send(random.Random(len(results)).sample(requests, 500)))
    thread.join()

    assert len(kills) == KILLS
    assert sum(result.connection_failures for result in results) > 0
    # the flood retried until each was answered
    assert {status for result in results for status in result.statuses} == {200}
    receiver.stop()

    engine = sa.create_engine(ledger_url)
    with engine.connect() as connection:
        stored = list(connection.execute(sa.select(inbox.c.dedupe_key)).scalars())
    engine.dispose()
    assert len(stored) == len(set(stored)) == DISTINCT
    assert {freshbooks_key(dict(f)) for f in fields} == set(stored)
