"""One control plane for both sandboxes: the same ``/sandbox`` paths and bodies steer FreshBooks and Infor.

Tests, the demo and benchmarks move the clock, expire tokens and reset data the same way on either system
(``finsync_dagster/sandbox/control.py``); a body that works on one must do the same on the other, and the
Infor sandbox's first paths and clock body keep working for the callers that still use them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from finsync_dagster.sandbox.runner import RunningSandboxes, SandboxOptions, running_sandboxes

SYSTEMS = ["freshbooks", "infor", "shop"]
CUSTOMERS = {"freshbooks": "clients", "infor": "OCUSMA", "shop": "customers"}
# Past every token's lifetime: FreshBooks' 12 h, ION's 2 h, a shop client-credentials token's 86399 s.
LIFETIME = {"freshbooks": 43201, "infor": 43201, "shop": 86400}


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandboxes]:
    options = SandboxOptions(dir=tmp_path_factory.mktemp("control-plane"), seed="empty")
    with running_sandboxes(options) as running:
        running.state("freshbooks").limiter.per_minute = 0
        yield running
        running.state("freshbooks").webhooks.close()
        running.state("shop").webhooks.close()


@pytest.fixture
def control(sandboxes: RunningSandboxes, request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(system, control URL); the clock runs free again afterwards."""
    system = request.param
    url = sandboxes.info[system]["control_url"]
    yield system, url
    httpx.put(f"{url}/clock", json={"now": time.time()})


def _api_call(sandboxes: RunningSandboxes, system: str) -> httpx.Request:
    """A request to the emulated API with a fresh token, obtained as a real client would."""
    info = sandboxes.info[system]
    if system == "freshbooks":
        redirect = httpx.get(
            info["authorize_url"],
            params={
                "client_id": info["client_id"],
                "response_type": "code",
                "redirect_uri": info["redirect_uri"],
            },
        )
        code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "redirect_uri": info["redirect_uri"],
        }
        token = httpx.post(info["token_url"], data=form).json()["access_token"]
        url = f"{info['api_url']}/auth/api/v1/users/me"
    elif system == "shop":
        form = {
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": info["webhook_secret"],
        }
        token = httpx.post(info["token_url"], data=form).json()["access_token"]
        return httpx.Request(
            "GET", f"{info['admin_url']}/orders/count.json", headers={"X-Shopify-Access-Token": token}
        )
    else:
        ionapi = json.loads(Path(info["ionapi_file"]).read_text(encoding="utf-8"))
        form = {
            "grant_type": "password",
            "username": ionapi["saak"],
            "password": ionapi["sask"],
            "client_id": ionapi["ci"],
            "client_secret": ionapi["cs"],
        }
        token = httpx.post(ionapi["pu"] + ionapi["ot"], data=form).json()["access_token"]
        url = f"{ionapi['iu']}/{ionapi['ti']}/M3/m3api-rest/v2/execute/CRS610MI/LstByNumber"
    return httpx.Request("GET", url, headers={"Authorization": f"Bearer {token}"})


def _send(request: httpx.Request) -> int:
    with httpx.Client(timeout=10) as client:
        return client.send(request).status_code


@pytest.mark.parametrize("control", SYSTEMS, indirect=True)
def test_the_clock_is_set_frozen_advanced_and_thawed_with_one_body(control: tuple[str, str]) -> None:
    _, url = control
    frozen = httpx.put(f"{url}/clock", json={"now": "2026-07-01T12:00:00Z", "frozen": True}).json()
    assert frozen["frozen"] is True and frozen["now"] == "2026-07-01T12:00:00Z"
    moved = httpx.post(f"{url}/clock", json={"advance": 86400}).json()
    assert moved["now"] == "2026-07-02T12:00:00Z"
    assert httpx.put(f"{url}/clock", json={"frozen": False}).json()["frozen"] is False
    assert httpx.put(f"{url}/clock", json={"now": "not a time"}).status_code == 400


@pytest.mark.parametrize("control", SYSTEMS, indirect=True)
def test_advancing_the_clock_past_a_token_lifetime_expires_the_token(
    sandboxes: RunningSandboxes, control: tuple[str, str]
) -> None:
    system, url = control
    call = _api_call(sandboxes, system)
    assert _send(call) == 200
    httpx.put(f"{url}/clock", json={"advance": LIFETIME[system]})
    assert _send(call) == 401


@pytest.mark.parametrize("control", SYSTEMS, indirect=True)
def test_tokens_expire_on_request(sandboxes: RunningSandboxes, control: tuple[str, str]) -> None:
    system, url = control
    call = _api_call(sandboxes, system)
    assert _send(call) == 200
    assert httpx.post(f"{url}/tokens/expire").json()["expired"] >= 1
    assert _send(call) == 401


@pytest.mark.parametrize("control", SYSTEMS, indirect=True)
def test_reset_loads_another_seed_and_back(control: tuple[str, str]) -> None:
    system, url = control
    empty = httpx.get(url).json()
    assert httpx.get(f"{url}/truth").json() == {}
    demo = httpx.post(f"{url}/reset", json={"seed": "demo"}).json()
    assert demo["counts"][CUSTOMERS[system]] > empty["counts"][CUSTOMERS[system]]
    assert httpx.get(f"{url}/truth").json() != {}
    again = httpx.post(f"{url}/reset", json={"seed": "empty"}).json()
    assert again["counts"] == empty["counts"]
    assert httpx.post(f"{url}/reset", json={"seed": "nonsense"}).status_code == 400


@pytest.mark.parametrize("control", SYSTEMS, indirect=True)
def test_settings_are_read_and_changed_at_the_same_path(control: tuple[str, str]) -> None:
    system, url = control
    knob: dict[str, Any] = {
        "freshbooks": {"access_token_lifetime": 60},
        "infor": {"expires_in": 60},
        "shop": {"access_token_lifetime": 60},
    }[system]
    before = httpx.get(f"{url}/settings").json()
    changed = httpx.put(f"{url}/settings", json=knob).json()
    assert changed == {**before, **knob}
    httpx.put(f"{url}/settings", json={k: before[k] for k in knob})


def test_the_infor_sandboxs_first_control_paths_still_work(sandboxes: RunningSandboxes) -> None:
    url = sandboxes.info["infor"]["control_url"]
    assert httpx.get(f"{url}/gateway").json() == httpx.get(f"{url}/settings").json()
    call = _api_call(sandboxes, "infor")
    assert httpx.post(f"{url}/gateway/expire-tokens").json()["expired"] >= 1
    assert _send(call) == 401
    before = httpx.get(f"{url}/clock").json()["epoch"]
    after = httpx.post(f"{url}/clock", json={"advance_seconds": 3600}).json()["epoch"]
    assert 3600 <= after - before < 3660
    httpx.put(f"{url}/clock", json={"now": time.time()})


@pytest.mark.parametrize("control", SYSTEMS, indirect=True)
def test_the_commit_then_timeout_plan_is_set_and_refused_at_the_same_path(control: tuple[str, str]) -> None:
    _, url = control
    try:
        plan = httpx.put(
            f"{url}/faults", json={"spec": "rate=0.05;kinds=commit_then_timeout;ctt=delay;slow_ms=2000"}
        ).json()
        assert (plan["kinds"], plan["ctt"], plan["slow_ms"]) == (["commit_then_timeout"], "delay", 2000)
        refused = httpx.put(f"{url}/faults", json={"kinds": ["commit_then_timeout"], "ctt": "sometimes"})
        assert refused.status_code == 400
        assert refused.json() == {"error": "ctt must be drop or delay, not 'sometimes'"}
    finally:
        httpx.delete(f"{url}/faults")
