"""The production M3 client on a running Infor sandbox, and the control-plane calls its tests need.

The write-side contract tests go through :class:`~finsync_dagster.resources.infor.M3Client` (what the outbox
will use), not the raw-HTTP helper of ``mi_http.py``: what they assert is what the pusher will see.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.http_policy import HttpPolicy
from finsync_dagster.resources.infor import InforResource, M3Client
from finsync_dagster.sandbox.runner import RunningSandboxes

FAST = HttpPolicy(backoff_initial=0.02, backoff_max=0.2, max_attempts=4, max_concurrency=4)


@contextmanager
def m3_client(running: RunningSandboxes, policy: HttpPolicy = FAST) -> Iterator[M3Client]:
    """An M3Client with a ledger of its own (no test reuses another's token)."""
    info = running.info["infor"]
    ledger = Ledger(f"sqlite:///{Path(tempfile.mkdtemp()) / 'ledger.sqlite'}")
    ledger.migrate()
    resource = InforResource(
        company=str(info["company"]),
        division=str(info["division"]),
        ionapi_file=str(info["ionapi_file"]),
        token_key="sandbox",
        max_concurrency=4,
    )
    with resource.get_client(ledger, policy=policy) as client:
        yield client


def control(running: RunningSandboxes, method: str, path: str, body: Any = None) -> Any:
    """A call to the Infor sandbox's ``/sandbox`` control plane; its JSON answer."""
    url = f"{running.info['infor']['control_url']}/{path}"
    response = httpx.request(method, url, json=body, timeout=10)
    response.raise_for_status()
    return response.json()
