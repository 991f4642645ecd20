"""The production FreshBooks client, connected to a running sandbox: what the write-side tests drive.

The write-side contract tests go through :class:`~finsync_dagster.resources.freshbooks.FreshBooksClient`
(what the outbox will use), so they assert what the pusher will see.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from finsync_dagster.resources.freshbooks import FreshBooksClient, FreshBooksResource
from finsync_dagster.resources.http_policy import HttpPolicy
from tests.clients.freshbooks.helpers import SandboxAccount, connect, loopback_client
from tests.fixtures.freshbooks import FreshBooksSandboxHandle

FAST = HttpPolicy(backoff_initial=0.02, backoff_max=0.2, max_attempts=3, max_concurrency=4)


@contextmanager
def fb_client(
    sandbox: FreshBooksSandboxHandle, directory: Path, policy: HttpPolicy = FAST
) -> Iterator[FreshBooksClient]:
    """A client connected through the authorization-code flow, with a ledger of its own in ``directory``."""
    info = sandbox.info
    resource = FreshBooksResource(
        api_url=info["api_url"],
        auth_url=info["auth_url"],
        account_id=info["account_id"],
        business_id=info["business_id"],
        redirect_uri=info["redirect_uri"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        token_key="write-side",
        requests_per_minute=None,
    )
    account = SandboxAccount(resource, f"sqlite:///{directory / 'ledger.sqlite'}")
    connect(account)
    with loopback_client(account, policy) as client:
        yield client


def set_faults(sandbox: FreshBooksSandboxHandle, plan: dict[str, Any]) -> None:
    response = httpx.put(f"{sandbox.info['control_url']}/faults", json=plan, timeout=10)
    response.raise_for_status()
