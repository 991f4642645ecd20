"""Rate limit and fault injection of the FreshBooks sandbox (issue: 429 + Retry-After, faults by plan).

Faults and latency come from the shared ``finsync_dagster/sandbox/faults.py``; what this module checks
is that they look like FreshBooks (each path family's envelope, ``Retry-After`` on 429), that the
control plane under ``/sandbox`` is never faulted, and that a ``revoke`` fault really revokes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.freshbooks import FreshBooksSandboxHandle
from tests.sandbox.freshbooks.fb import fb_client, set_faults


def test_rate_limit_answers_429_with_retry_after(freshbooks_isolated: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_isolated
    settings = httpx.put(f"{sb.info['control_url']}/settings", json={"rate_limit_per_minute": 5})
    assert settings.json()["rate_limit_per_minute"] == 5
    with sb.client() as client:
        statuses = [client.get(sb.accounting_url("users/clients")).status_code for _ in range(7)]
        refused = client.get(sb.accounting_url("users/clients"))
        events = client.get(f"{sb.api_url}/events/account/{sb.account_id}/events/callbacks")
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["response"]["errors"][0]["errno"] == 429
    assert events.status_code == 429 and events.json()["errno"] == 429  # the events family's flat shape
    # The control plane is never limited.
    assert httpx.get(sb.info["control_url"]).status_code == 200


def test_rate_limit_default_is_on_and_generous(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    from finsync_dagster.sandbox.freshbooks.backend import DEFAULT_RATE_LIMIT, FreshBooksSandbox

    assert FreshBooksSandbox(base_url="http://x", seed="empty").limiter.per_minute == DEFAULT_RATE_LIMIT > 0


def test_injected_503_uses_the_accounting_envelope(freshbooks_isolated: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_isolated
    with sb.client() as client:
        plan = httpx.put(
            f"{sb.info['control_url']}/faults", json={"spec": "rate=1;kinds=503;paths=/accounting/*"}
        )
        assert plan.json()["rate"] == 1.0
        response = client.get(sb.accounting_url("users/clients"))
        me = client.get(f"{sb.api_url}/auth/api/v1/users/me")
    assert response.status_code == 503
    assert response.json()["response"]["errors"][0]["errno"] == 503
    assert me.status_code == 200  # outside the plan's paths


def test_injected_429_has_retry_after(freshbooks_isolated: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_isolated
    with sb.client() as client:
        httpx.put(f"{sb.info['control_url']}/faults", json={"rate": 1, "kinds": ["429"], "retry_after": 2})
        response = client.get(sb.accounting_url("invoices/invoices"))
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"


def test_revoke_fault_really_revokes_the_token(freshbooks_isolated: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_isolated
    tokens = sb.tokens()
    httpx.put(f"{sb.info['control_url']}/faults", json={"rate": 1, "kinds": ["revoke"]})
    with sb.client(tokens["access_token"]) as client:
        revoked = client.get(sb.accounting_url("users/clients"))
        httpx.delete(f"{sb.info['control_url']}/faults")
        still = client.get(sb.accounting_url("users/clients"))
    assert revoked.status_code == still.status_code == 401
    assert still.json()["response"]["errors"][0]["errno"] == 1003
    refreshed = httpx.post(
        f"{sb.api_url}/auth/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": sb.info["client_id"],
            "client_secret": sb.info["client_secret"],
        },
    )
    with sb.client(refreshed.json()["access_token"]) as client:
        assert client.get(sb.accounting_url("users/clients")).status_code == 200


def test_dropped_connection_is_a_transport_error(freshbooks_isolated: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_isolated
    with sb.client() as client:
        httpx.put(f"{sb.info['control_url']}/faults", json={"rate": 1, "kinds": ["drop"]})
        try:
            response = client.get(sb.accounting_url("users/clients"))
        except httpx.TransportError:
            return
    raise AssertionError(f"expected a dropped connection, got {response.status_code}")


def test_latency_is_added_to_every_api_response_but_not_the_control_plane(
    freshbooks_isolated: FreshBooksSandboxHandle,
) -> None:
    sb = freshbooks_isolated
    with sb.client() as client:
        httpx.put(f"{sb.info['control_url']}/faults", json={"latency_ms": 150})
        started = time.perf_counter()
        assert client.get(sb.accounting_url("users/clients")).status_code == 200
        api_elapsed = time.perf_counter() - started
        started = time.perf_counter()
        httpx.get(f"{sb.info['control_url']}/clock")
        control_elapsed = time.perf_counter() - started
    assert api_elapsed >= 0.15
    assert control_elapsed < 0.15


def test_concurrent_requests_overlap_their_latency(freshbooks_isolated: FreshBooksSandboxHandle) -> None:
    """Handlers do not block: 8 concurrent requests with 200 ms latency take ~200 ms, not 1.6 s."""
    import asyncio

    sb = freshbooks_isolated
    token = sb.tokens()["access_token"]
    httpx.put(f"{sb.info['control_url']}/faults", json={"latency_ms": 200})

    async def fetch_all() -> list[int]:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
            responses = await asyncio.gather(
                *(
                    client.get(
                        sb.accounting_url("invoices/invoices"),
                        params={"page": p, "per_page": 20, "include[]": "lines"},
                    )
                    for p in range(1, 9)
                )
            )
        return [r.status_code for r in responses]

    started = time.perf_counter()
    statuses = asyncio.run(fetch_all())
    elapsed = time.perf_counter() - started
    assert statuses == [200] * 8
    assert elapsed < 1.0


def test_latency_is_added_to_writes_too(
    freshbooks_empty_sandbox: FreshBooksSandboxHandle, tmp_path: Path
) -> None:
    sb = freshbooks_empty_sandbox

    def timed(write: Callable[[], Any]) -> tuple[float, Any]:
        started = time.perf_counter()
        result = write()
        return time.perf_counter() - started, result

    try:
        with fb_client(sb, tmp_path) as fb:
            set_faults(sb, {"latency_ms": 200})
            create, client = timed(lambda: fb.create("clients", {"organization": "Latency Ltd"}))
            update, _ = timed(lambda: fb.update("clients", client["id"], {"organization": "Latency Inc"}))
            delete, _ = timed(lambda: fb.delete("clients", client["id"]))
        assert min(create, update, delete) >= 0.2  # POST, PUT and the delete's PUT each pay the round trip
    finally:
        sb.restore()
