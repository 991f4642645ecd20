"""A FreshBooks token refresh never loses a granted pair (issue 13 item 1), over ``httpx.MockTransport``.

The mock token endpoint rotates like FreshBooks: each refresh token works once. What a user would notice:
a busy ledger delays the refresh instead of losing the new pair; a failed save is retried; a dead lease
holder is taken over at once; and a pair lost in flight fails once, clearly, naming the fix, and every
later caller fails at once with the same message.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import sqlalchemy as sa

from finsync_dagster.errors import AuthenticationError
from finsync_dagster.ledger import Ledger
from finsync_dagster.ledger.engine import make_engine
from finsync_dagster.ledger.holders import new_owner
from finsync_dagster.ledger.schema import oauth_tokens
from finsync_dagster.ledger.tokens import TokenWrite
from finsync_dagster.resources.freshbooks import OAuthApp, TokenKeeper
from finsync_dagster.resources.freshbooks.tokens import PROVIDER
from finsync_dagster.resources.http_policy import HttpPolicy
from finsync_dagster.resources.token_store import TokenStore
from tests.clients.freshbooks.helpers import PAIR, REFRESH_TOKEN, store_token

POLICY = HttpPolicy(backoff_initial=0.2, backoff_max=0.5, max_attempts=8)


class RotatingEndpoint:
    """A token endpoint whose refresh tokens are single-use, remembering when it was called."""

    def __init__(self, live: str = REFRESH_TOKEN) -> None:
        self.live = {live}
        self.calls: list[float] = []
        self.issued = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(time.monotonic())
        token = parse_qs(request.content.decode()).get("refresh_token", [""])[0]
        if token not in self.live:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "token used"})
        self.live.discard(token)
        self.issued += 1
        refresh = f"refresh-{self.issued + 1}"
        self.live.add(refresh)
        body: dict[str, Any] = {"access_token": f"access-{self.issued + 1}", "refresh_token": refresh}
        return httpx.Response(200, json={**body, "token_type": "Bearer", "expires_in": 43200})


def keeper(ledger: Ledger, app: OAuthApp, endpoint: RotatingEndpoint) -> TokenKeeper:
    store = TokenStore(ledger, provider=PROVIDER, key=PAIR)
    return TokenKeeper(store, app, policy=POLICY, transport=httpx.MockTransport(endpoint))


def test_a_busy_ledger_delays_the_refresh_and_never_loses_the_new_pair(tmp_path: Path, app: OAuthApp) -> None:
    url = f"sqlite:///{tmp_path / 'busy.sqlite'}"
    ledger = Ledger(url, engine=make_engine(url, busy_timeout=0.5))
    ledger.migrate()
    store_token(ledger, expires_in=-1)
    endpoint = RotatingEndpoint()
    locked, released = threading.Event(), []

    def hold_the_write_lock() -> None:  # e.g. a long cursor transaction of another process
        connection = sqlite3.connect(tmp_path / "busy.sqlite", isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(1.5)
        released.append(time.monotonic())
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    locked.wait()
    token = keeper(ledger, app, endpoint).current()
    holder.join()

    assert len(endpoint.calls) == 1 and endpoint.calls[0] >= released[0]  # spent only once it could save
    stored = ledger.get_token(PROVIDER, PAIR)
    assert stored is not None and stored.refresh_token in endpoint.live
    assert token.access_token == stored.access_token


def test_a_failed_commit_after_the_grant_is_saved_again(
    ledger: Ledger, app: OAuthApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_token(ledger, expires_in=-1)
    endpoint = RotatingEndpoint()
    real_save = TokenWrite.save
    failures = iter([True])

    def failing_once(self: TokenWrite, **values: Any) -> None:
        if next(failures, False):
            raise sa.exc.OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))
        real_save(self, **values)

    monkeypatch.setattr(TokenWrite, "save", failing_once)
    token = keeper(ledger, app, endpoint).current()
    stored = ledger.get_token(PROVIDER, PAIR)
    assert stored is not None and stored.refresh_token in endpoint.live  # the granted pair was kept
    assert token.access_token == stored.access_token and endpoint.issued == 1


def _lease_of_a_dead_process(ledger: Ledger) -> None:
    """The lease as a refresher killed mid-refresh leaves it: its holder gone, ``lease_until`` ahead."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    owner = f"{dead.pid}@{new_owner().partition('@')[2]}"
    with ledger.engine.begin() as connection:
        connection.execute(
            oauth_tokens.update().values(
                lease_owner=owner, lease_until=datetime.now(UTC) + timedelta(seconds=120)
            )
        )


def test_a_dead_lease_holder_is_taken_over_at_once(ledger: Ledger, app: OAuthApp) -> None:
    store_token(ledger, expires_in=-1)
    _lease_of_a_dead_process(ledger)
    endpoint = RotatingEndpoint()
    started = time.monotonic()
    keeper(ledger, app, endpoint).current()
    assert time.monotonic() - started < 2  # not the 120 s the lease had left
    assert endpoint.issued == 1


def test_a_pair_lost_in_flight_fails_once_naming_the_fix_and_then_fast(
    ledger: Ledger, app: OAuthApp, caplog: pytest.LogCaptureFixture
) -> None:
    store_token(ledger, expires_in=-1)
    _lease_of_a_dead_process(ledger)
    endpoint = RotatingEndpoint(live="spent-by-the-dead-process")  # our stored refresh token is spent

    with pytest.raises(AuthenticationError) as first:
        keeper(ledger, app, endpoint).current()
    message = str(first.value)
    assert "in flight" in message and f"finsync connect freshbooks --pair {PAIR}" in message
    assert [r.levelname for r in caplog.records if "in flight" in r.getMessage()] == ["ERROR"]  # the alert

    for _ in range(3):  # the run's later steps: same message, and the endpoint is not asked again
        with pytest.raises(AuthenticationError) as later:
            keeper(ledger, app, endpoint).current()
        assert str(later.value) == message
    assert len(endpoint.calls) == 1

    store_token(ledger, expires_in=3600)  # `finsync connect freshbooks` stores a new pair
    assert keeper(ledger, app, endpoint).current().access_token


def test_a_refused_refresh_without_a_crash_names_the_fix_too(ledger: Ledger, app: OAuthApp) -> None:
    store_token(ledger, expires_in=-1)
    endpoint = RotatingEndpoint(live="someone-else's")
    with pytest.raises(AuthenticationError, match=f"refused the refresh token.*--pair {PAIR}"):
        keeper(ledger, app, endpoint).current()
