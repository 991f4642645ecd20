"""Fixtures for the FreshBooks client tests: a SQLite ledger with a stored token, and client builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from finsync_dagster.ledger import Ledger, StoredToken
from finsync_dagster.resources.freshbooks import (
    FreshBooksClient,
    FreshBooksResource,
    OAuthApp,
    TokenKeeper,
    oauth,
)
from finsync_dagster.resources.http_policy import HttpPolicy

ACCOUNT = "ACC123"
PAIR = "acme"
API_URL = "https://api.example.test"
CLIENT_SECRET = "app-secret-s3cr3t"
ACCESS_TOKEN = "access-token-a1"
REFRESH_TOKEN = "refresh-token-r1"
# Fast backoff so retry tests take milliseconds; no client-side rate limit unless a test sets one.
FAST = HttpPolicy(backoff_initial=0.01, backoff_max=0.05, max_attempts=4, max_concurrency=4)

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    return ledger


@pytest.fixture
def app() -> OAuthApp:
    return OAuthApp(
        client_id="app-id",
        client_secret=CLIENT_SECRET,
        redirect_uri="https://localhost/finsync/callback",
        api_url=API_URL,
        auth_url="https://auth.example.test",
    )


def store_token(ledger: Ledger, *, expires_in: float = 3600, access: str = ACCESS_TOKEN) -> None:
    ledger.save_token(
        "freshbooks",
        PAIR,
        access_token=access,
        refresh_token=REFRESH_TOKEN,
        expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
    )


@pytest.fixture
def make_client(ledger: Ledger, app: OAuthApp) -> Iterator[Callable[..., FreshBooksClient]]:
    clients: list[FreshBooksClient] = []

    def make(handler: Handler, *, policy: HttpPolicy = FAST, stored: bool = True) -> FreshBooksClient:
        if stored and ledger.get_token("freshbooks", PAIR) is None:
            store_token(ledger)
        transport = httpx.MockTransport(handler)
        keeper = TokenKeeper(ledger, PAIR, app, policy=policy, transport=transport)
        client = FreshBooksClient(
            api_url=API_URL, account_id=ACCOUNT, tokens=keeper, policy=policy, transport=transport
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# -- against the real sandbox on loopback ------------------------------------------------------------

# Short backoff and more attempts: injected faults are frequent in these tests, and each should cost
# little time; 429s still wait for the sandbox's Retry-After.
LOOPBACK = HttpPolicy(backoff_initial=0.05, backoff_max=0.5, max_attempts=10, max_concurrency=4)


@pytest.fixture
def sandbox_resource(freshbooks_sandbox: Any, tmp_path: Path) -> FreshBooksResource:
    """A resource for the demo sandbox with its own ledger, not yet connected."""
    info = freshbooks_sandbox.info
    return FreshBooksResource(
        api_url=info["api_url"],
        auth_url=info["auth_url"],
        account_id=info["account_id"],
        business_id=info["business_id"],
        redirect_uri=info["redirect_uri"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        token_key="demo",
        requests_per_minute=None,
    )


def connect(resource: FreshBooksResource) -> StoredToken:
    """The authorization-code flow as `finsync connect freshbooks --sandbox` runs it."""
    app = resource.oauth_app()
    state = oauth.new_state()
    code = oauth.code_from_redirect(
        oauth.follow_authorize(oauth.authorization_url(app, state=state)), state=state
    )
    return resource.token_keeper().store(oauth.exchange_code(app, code))


def loopback_client(resource: FreshBooksResource, policy: HttpPolicy = LOOPBACK) -> FreshBooksClient:
    return FreshBooksClient(
        api_url=resource.api_url,
        account_id=resource.account_id,
        tokens=resource.token_keeper(),
        policy=policy,
    )


@pytest.fixture(scope="module")
def freshbooks_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A demo-seeded sandbox of this module's own: these tests create, change and delete records, which
    must not leak into the session-wide sandbox that the sandbox's own tests compare with the demo seed."""
    from tests.fixtures.freshbooks import _start

    yield from _start(tmp_path_factory.mktemp("freshbooks-client-demo"), "demo")
