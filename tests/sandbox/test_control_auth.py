"""Who may steer a sandbox: anyone on loopback, only the holder of sandbox.json's token anywhere else.

The control plane resets data, moves clocks and injects faults; bound to another interface it must not
answer strangers, and it never hands out the local app's client secret (that stays in sandbox.json, 0600).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from finsync_dagster.sandbox.control_auth import TOKEN_HEADER
from finsync_dagster.sandbox.runner import RunningSandboxes, SandboxOptions, running_sandboxes
from tests.fixtures.freshbooks import FreshBooksSandboxHandle

# (method, path under the control URL, body): every control route of both systems, shared and own.
Call = tuple[str, str, dict[str, object] | None]
SHARED: list[Call] = [
    ("GET", "", None),
    ("POST", "/reset", {"seed": "demo"}),
    ("PUT", "/clock", {"advance": 86400}),
    ("PUT", "/faults", {"rate": 1, "kinds": ["500"]}),
    ("POST", "/tokens/expire", None),
    ("PUT", "/settings", {}),
    ("GET", "/truth", None),
]
OWN: dict[str, list[Call]] = {
    "freshbooks": [("GET", "/webhooks/deliveries", None)],
    "infor": [
        ("GET", "/gateway", None),
        ("POST", "/gateway/expire-tokens", None),
        ("POST", "/orders/1/deliver", {}),
    ],
    "shop": [
        ("GET", "/webhooks/deliveries", None),
        ("POST", "/orders", {"email": "a@example.com", "lines": [{"sku": "WIDGET-A"}]}),
        ("POST", "/orders/WEB-1001/pay", {}),
        ("DELETE", "/orders/WEB-1001", None),
    ],
}
CALLS = [(system, *call) for system in ("freshbooks", "infor", "shop") for call in [*SHARED, *OWN[system]]]


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandboxes]:
    """Both sandboxes bound to every interface, as `finsync sandbox --host 0.0.0.0` serves them."""
    options = SandboxOptions(dir=tmp_path_factory.mktemp("exposed"), seed="empty", host="0.0.0.0")
    with running_sandboxes(options) as running:
        yield running
        running.state("freshbooks").webhooks.close()


def sandbox_json(running: RunningSandboxes) -> dict[str, dict[str, Any]]:
    return json.loads(running.file.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("system", "method", "path", "body"), CALLS)
def test_off_loopback_every_control_route_refuses_a_caller_without_the_token(
    exposed: RunningSandboxes, system: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    section = sandbox_json(exposed)[system]
    url = section["control_url"] + path
    clock = exposed.state(system).clock
    before = clock.time()
    for headers in ({}, {TOKEN_HEADER: "guessed"}, {TOKEN_HEADER: ""}):
        refused = httpx.request(method, url, json=body, headers=headers, timeout=10)
        assert refused.status_code == 401, (method, url, headers)
        assert TOKEN_HEADER in refused.json()["error"] and section["control_token"] not in refused.text
    assert abs(clock.time() - before) < 60  # the refused clock move did not happen
    assert exposed.state(system).faults.plan.rate == 0  # nor the refused fault plan


def test_off_loopback_the_token_from_sandbox_json_opens_the_control_plane(exposed: RunningSandboxes) -> None:
    for system, section in sandbox_json(exposed).items():
        headers = {TOKEN_HEADER: section["control_token"]}
        url = section["control_url"]
        assert httpx.get(url, headers=headers, timeout=10).status_code == 200
        moved = httpx.put(f"{url}/clock", json={"advance": 3600}, headers=headers, timeout=10)
        assert moved.status_code == 200, system
        httpx.put(f"{url}/clock", json={"now": time.time()}, headers=headers, timeout=10)


def test_off_loopback_the_emulated_apis_keep_their_own_authentication(exposed: RunningSandboxes) -> None:
    info = sandbox_json(exposed)
    fb = info["freshbooks"]
    authorize = httpx.get(
        fb["authorize_url"],
        params={"client_id": fb["client_id"], "response_type": "code", "redirect_uri": fb["redirect_uri"]},
    )
    assert authorize.status_code == 302
    ionapi = json.loads(Path(info["infor"]["ionapi_file"]).read_text(encoding="utf-8"))
    form = {
        "grant_type": "password",
        "username": ionapi["saak"],
        "password": ionapi["sask"],
        "client_id": ionapi["ci"],
        "client_secret": ionapi["cs"],
    }
    assert httpx.post(ionapi["pu"] + ionapi["ot"], data=form).status_code == 200
    shop = info["shop"]
    orders = f"{shop['admin_url']}/orders/count.json"
    assert httpx.get(orders).status_code == 401
    assert httpx.get(orders, headers={"X-Shopify-Access-Token": shop["access_token"]}).status_code == 200


def test_sandbox_json_is_private_and_the_control_plane_never_returns_the_client_secret(
    exposed: RunningSandboxes,
) -> None:
    assert stat.S_IMODE(exposed.file.stat().st_mode) == 0o600
    section = sandbox_json(exposed)["freshbooks"]
    secret, headers = section["client_secret"], {TOKEN_HEADER: section["control_token"]}
    url = section["control_url"]
    answers = [
        httpx.get(url, headers=headers),
        httpx.post(f"{url}/reset", json={"seed": "empty"}, headers=headers),
        httpx.get(f"{url}/settings", headers=headers),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert secret not in answer.text and section["control_token"] not in answer.text
        assert "client_secret" not in answer.text
    shop = sandbox_json(exposed)["shop"]
    shown = httpx.get(shop["control_url"], headers={TOKEN_HEADER: shop["control_token"]})
    assert shown.status_code == 200 and shop["access_token"] not in shown.text
    assert shop["webhook_secret"] not in shown.text


def test_on_loopback_the_control_plane_is_open_and_still_keeps_the_secret(
    freshbooks_sandbox: FreshBooksSandboxHandle,
) -> None:
    info = httpx.get(freshbooks_sandbox.info["control_url"])
    assert info.status_code == 200 and info.json()["account_id"] == freshbooks_sandbox.account_id
    assert freshbooks_sandbox.info["client_secret"] not in info.text


def serve(directory: Path, *host: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """`finsync sandbox` in its own process, once its sandbox.json is written."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "finsync_dagster.cli",
            "sandbox",
            "--dir",
            str(directory),
            "--only",
            "freshbooks",
            *host,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    deadline = time.monotonic() + 60
    while not (directory / "sandbox.json").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "finsync sandbox did not start within 60 s"
        time.sleep(0.1)
    return process, json.loads((directory / "sandbox.json").read_text(encoding="utf-8"))["freshbooks"]


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    return stderr


def test_finsync_sandbox_binds_loopback_by_default_and_warns_loudly_otherwise(tmp_path: Path) -> None:
    quiet, section = serve(tmp_path / "default")
    try:
        assert section["api_url"].startswith("http://127.0.0.1:")
        assert httpx.get(section["control_url"], timeout=10).status_code == 200
    finally:
        assert "WARNING" not in stop(quiet)

    loud, section = serve(tmp_path / "exposed", "--host", "0.0.0.0")
    try:
        assert httpx.get(section["control_url"], timeout=10).status_code == 401
        opened = httpx.get(
            section["control_url"], headers={TOKEN_HEADER: section["control_token"]}, timeout=10
        )
        assert opened.status_code == 200
    finally:
        stderr = stop(loud)
    assert "WARNING: --host 0.0.0.0 is not a loopback address" in stderr
    assert TOKEN_HEADER in stderr and section["control_token"] not in stderr
