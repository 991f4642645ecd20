"""Issue 13 item 1 with real processes: ``kill -9`` at random points of a FreshBooks token refresh.

Twenty runs against the sandbox on loopback (200 ms added to every answer, so the token endpoint's round
trip is wide enough to land in); every third run another process holds the ledger's write lock while the
refresher needs it, and every fourth is killed the moment the sandbox rotates the pair (aiming at the
few milliseconds between the endpoint's answer and the commit). After each kill the sandbox says whether the ledger's refresh token is still live,
and a new keeper (the next run) refreshes. The pair must never need a reconnect, except when the process
died with the token endpoint's answer in flight; then the message names the fix, and later callers get
the same message without asking the endpoint again.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from finsync_dagster.errors import AuthenticationError
from finsync_dagster.resources.freshbooks.tokens import PROVIDER
from finsync_dagster.sandbox.faults import FaultPlan
from tests.clients.freshbooks.helpers import SandboxAccount, connect
from tests.clients.freshbooks.test_freshbooks_loopback import make_expiring

RUNS = 20
ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("freshbooks_isolated")]


def _hold_write_lock(database: Path, seconds: float, holding: threading.Event) -> None:
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    holding.set()
    time.sleep(seconds)
    connection.execute("COMMIT")
    connection.close()


def _wait_for_rotation(sandbox: Any, refreshes: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while sandbox.tokens.refreshes == refreshes and time.monotonic() < deadline:
        time.sleep(0.0005)


def _start_refresher(account: SandboxAccount) -> subprocess.Popen[str]:
    app = account.oauth_app()
    config = {
        "ledger_url": account.ledger_url,
        "pair": account.token_key,
        "app": {
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": app.redirect_uri,
            "api_url": app.api_url,
            "auth_url": app.auth_url,
        },
    }
    env = {**os.environ, "REFRESHER_CONFIG": json.dumps(config), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.clients.freshbooks.refresher"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_kill_9_during_refresh_never_needs_a_reconnect_outside_the_in_flight_window(
    sandbox_resource: SandboxAccount, freshbooks_sandbox: Any
) -> None:
    rng = random.Random(13)
    sandbox = freshbooks_sandbox.state
    sandbox.faults.set_plan(FaultPlan(latency_ms=200))
    database = Path(sandbox_resource.ledger_url.removeprefix("sqlite:///"))
    outcomes: Counter[str] = Counter()
    takeovers: list[float] = []
    connect(sandbox_resource)
    for run in range(RUNS):
        make_expiring(sandbox_resource)
        child = _start_refresher(sandbox_resource)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        locker = None
        if run % 3 == 0:
            holding = threading.Event()
            locker = threading.Thread(target=_hold_write_lock, args=(database, 1.0, holding))
            locker.start()
            holding.wait()
            outcomes["write lock held by another process"] += 1
        if run % 4 == 1:  # aim at the in-flight window: the moment the endpoint rotates the pair
            outcomes["aimed at the rotation"] += 1
            _wait_for_rotation(sandbox, sandbox.tokens.refreshes)
        else:
            time.sleep(rng.uniform(0.0, 1.2 if locker else 0.9))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        finished = "done" in child.stdout.read()
        if locker is not None:
            locker.join()
        time.sleep(0.5)  # let the sandbox finish a request the dead process left in flight

        stored = sandbox_resource.ledger.get_token(PROVIDER, sandbox_resource.token_key)
        assert stored is not None
        live = stored.refresh_token in sandbox.tokens.refresh_tokens
        refreshes_before = sandbox.tokens.refreshes
        started = time.monotonic()
        try:
            sandbox_resource.resource.token_keeper(sandbox_resource.ledger).current()
            error = None
        except AuthenticationError as exc:
            error = str(exc)
        elapsed = time.monotonic() - started

        if live:
            assert error is None, f"run {run}: a live pair needed a reconnect: {error}"
            outcomes["killed after the commit" if finished else "killed before spending: recovered"] += 1
            takeovers.append(elapsed)
            assert elapsed < 5, f"run {run}: the next refresh waited {elapsed:.1f} s for a dead holder"
            continue
        # The in-flight window: the endpoint rotated the pair, the dead process never committed it.
        outcomes["killed with the answer in flight: reconnect"] += 1
        assert error is not None and "in flight" in error
        assert f"finsync connect freshbooks --pair {sandbox_resource.token_key}" in error
        with pytest.raises(AuthenticationError) as again:
            sandbox_resource.resource.token_keeper(sandbox_resource.ledger).current()
        assert str(again.value) == error
        assert sandbox.tokens.refreshes == refreshes_before  # failed fast: the endpoint was asked no more
        connect(sandbox_resource)

    print(
        f"\nrefresh kill test: {RUNS} runs, {RUNS} kills; "
        + "; ".join(f"{name}: {count}" for name, count in sorted(outcomes.items()))
        + f"; next refresh after a kill took at most {max(takeovers, default=0):.2f} s"
    )
    assert sum(n for name, n in outcomes.items() if name.startswith("killed")) == RUNS
