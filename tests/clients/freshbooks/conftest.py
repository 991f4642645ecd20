"""Fixtures for the FreshBooks client tests: a SQLite ledger, client builders, a sandbox account."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.freshbooks import FreshBooksClient, FreshBooksResource, OAuthApp, TokenKeeper
from finsync_dagster.resources.freshbooks.tokens import PROVIDER
from finsync_dagster.resources.http_policy import HttpPolicy, RateLimiter
from finsync_dagster.resources.token_store import TokenStore
from tests.clients.freshbooks.helpers import (
    ACCOUNT,
    API_URL,
    CLIENT_SECRET,
    FAST,
    PAIR,
    SandboxAccount,
    store_token,
)

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


@pytest.fixture
def make_client(ledger: Ledger, app: OAuthApp) -> Iterator[Callable[..., FreshBooksClient]]:
    clients: list[FreshBooksClient] = []

    def make(
        handler: Handler,
        *,
        policy: HttpPolicy = FAST,
        stored: bool = True,
        limiter: RateLimiter | None = None,
    ) -> FreshBooksClient:
        if stored and ledger.get_token("freshbooks", PAIR) is None:
            store_token(ledger)
        transport = httpx.MockTransport(handler)
        store = TokenStore(ledger, provider=PROVIDER, key=PAIR)
        keeper = TokenKeeper(store, app, policy=policy, transport=transport)
        client = FreshBooksClient(
            api_url=API_URL,
            account_id=ACCOUNT,
            tokens=keeper,
            policy=policy,
            limiter=limiter,
            transport=transport,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# -- against the real sandbox on loopback ------------------------------------------------------------


@pytest.fixture
def sandbox_resource(freshbooks_sandbox: Any, tmp_path: Path) -> SandboxAccount:
    """The demo sandbox's account with its own ledger, not yet connected."""
    info = freshbooks_sandbox.info
    resource = FreshBooksResource(
        api_url=info["api_url"],
        auth_url=info["auth_url"],
        account_id=info["account_id"],
        business_id=info["business_id"],
        redirect_uri=info["redirect_uri"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        token_key="demo",
        requests_per_minute=None,
    )
    return SandboxAccount(resource, f"sqlite:///{tmp_path / 'ledger.sqlite'}")


@pytest.fixture(scope="module")
def freshbooks_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A demo-seeded sandbox of this module's own: these tests create, change and delete records, which
    must not leak into the session-wide sandbox that the sandbox's own tests compare with the demo seed."""
    from tests.fixtures.freshbooks import _start

    yield from _start(tmp_path_factory.mktemp("freshbooks-client-demo"), "demo")
