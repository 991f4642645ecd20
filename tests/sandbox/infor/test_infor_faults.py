"""Gateway misbehaviour on demand: injected faults, quota 429s, the gateway timeout, and latency.

The client's retry policy is only as good as the failures it has met; each failure here has the gateway's
shape (status, headers, body) so the retry decisions are tested against what a tenant really sends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from finsync_dagster.resources.infor import MiCall
from finsync_dagster.sandbox.faults import FaultPlan
from finsync_dagster.sandbox.runner import RunningSandboxes, SandboxOptions, running_sandboxes
from tests.sandbox.infor.m3 import m3_client
from tests.sandbox.infor.mi_http import MI, mi_client


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandboxes]:
    options = SandboxOptions(dir=tmp_path_factory.mktemp("infor-faults"), seed="empty")
    with running_sandboxes(options, ["infor"]) as running:
        yield running


@pytest.fixture
def mi(sandbox: RunningSandboxes) -> Iterator[MI]:
    with mi_client(sandbox) as client:
        yield client
        client.http.delete(f"{client.control}/faults")
        client.http.put(f"{client.control}/settings", json={"quota_per_second": 0, "timeout_ms": 60000})
        client.http.put(f"{client.control}/faults", json={"latency_ms": 0})


@pytest.mark.parametrize("status", [429, 500, 503])
def test_injected_status_has_the_gateway_shape(mi: MI, status: int) -> None:
    mi.http.put(f"{mi.control}/faults", json={"rate": 1.0, "kinds": [str(status)], "retry_after": 3})
    response = mi.get("CRS610MI/LstByNumber")
    assert response.status_code == status
    assert response.json()["code"] == status
    assert response.headers.get("Retry-After") == ("3" if status == 429 else None)
    assert mi.http.get(f"{mi.control}/faults").json()["injected"] >= 1


def test_control_plane_never_gets_faults(mi: MI) -> None:
    mi.http.put(f"{mi.control}/faults", json={"rate": 1.0, "kinds": ["500"]})
    assert mi.post_control("tokens/expire").status_code == 200


def test_revoke_fault_kills_the_callers_token(mi: MI) -> None:
    mi.http.put(f"{mi.control}/faults", json={"rate": 1.0, "kinds": ["revoke"]})
    assert mi.get("CRS610MI/LstByNumber").status_code == 401
    mi.http.delete(f"{mi.control}/faults")
    assert mi.get("CRS610MI/LstByNumber").status_code == 401
    mi.token = mi.login()["access_token"]
    assert mi.get("CRS610MI/LstByNumber").status_code == 200


def test_dropped_connection_is_a_transport_error(mi: MI) -> None:
    mi.http.put(f"{mi.control}/faults", json={"rate": 1.0, "kinds": ["drop"]})
    with pytest.raises(httpx.TransportError):
        mi.get("CRS610MI/LstByNumber")


def test_quota_rejects_with_429_and_retry_after(mi: MI) -> None:
    mi.http.put(f"{mi.control}/settings", json={"quota_per_second": 3})
    statuses = [mi.get("CRS610MI/LstByNumber").status_code for _ in range(6)]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]
    rejected = mi.get("CRS610MI/LstByNumber")
    if rejected.status_code == 429:
        assert int(rejected.headers["Retry-After"]) >= 1


def test_call_slower_than_the_gateway_timeout_gets_504_but_still_happens(mi: MI) -> None:
    mi.http.put(f"{mi.control}/settings", json={"timeout_ms": 200})
    mi.http.put(f"{mi.control}/faults", json={"rate": 1.0, "kinds": ["slow"], "slow_ms": 500})
    response = mi.get("CRS610MI/Add", CUTM=mi.info["defaults"]["CUTM"], CUNO="SLOW1", CUNM="Slow", CUA1="x")
    assert response.status_code == 504 and response.json()["code"] == 504
    mi.http.delete(f"{mi.control}/faults")
    time.sleep(0.5)
    assert mi.one("CRS610MI/GetBasicData", CUNO="SLOW1")["CUNM"] == "Slow"


def test_latency_is_added_to_every_api_response_and_calls_overlap(mi: MI) -> None:
    mi.http.put(f"{mi.control}/faults", json={"latency_ms": 200})
    started = time.monotonic()
    assert mi.get("CRS610MI/LstByNumber").status_code == 200
    assert time.monotonic() - started >= 0.2

    async def twenty_calls() -> list[int]:
        async with httpx.AsyncClient(headers=mi.headers, timeout=10) as client:
            calls = [client.get(f"{mi.base}/CRS610MI/LstByNumber") for _ in range(20)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    started = time.monotonic()
    assert asyncio.run(twenty_calls()) == [200] * 20
    assert time.monotonic() - started < 2.0  # concurrent, not 20 x 200 ms


def test_start_plan_comes_from_the_options(tmp_path: Path) -> None:
    options = SandboxOptions(
        dir=tmp_path, seed="empty", faults=FaultPlan(rate=1.0, kinds=("503",), paths=("/*/M3/*",))
    )
    with running_sandboxes(options, ["infor"]) as running, mi_client(running) as client:
        assert client.get("CRS610MI/LstByNumber").status_code == 503


def test_latency_is_added_to_bulk_writes_too(sandbox: RunningSandboxes, mi: MI) -> None:
    mi.http.put(f"{mi.control}/faults", json={"latency_ms": 300})
    calls = [
        MiCall("Add", {"CUTM": mi.info["defaults"]["CUTM"], "CUNO": f"LAT{n}", "CUNM": "Slow", "CUA1": "x"})
        for n in range(3)
    ]
    with m3_client(sandbox) as m3:
        m3.execute(program="CRS610MI", transaction="LstByNumber", params={}, maxrecs=1)  # token fetched
        started = time.monotonic()
        outcomes = m3.execute_bulk(program="CRS610MI", calls=calls)
        elapsed = time.monotonic() - started
    assert all(o.ok for o in outcomes)
    assert elapsed >= 0.3  # one bulk POST, one round trip
