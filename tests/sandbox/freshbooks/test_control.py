"""The FreshBooks sandbox's control plane under ``/sandbox``: clock, reset and connection details.

Tests and the demo drive the sandbox through these endpoints; they must work over HTTP as documented in
the README, without a token, and leave the emulated API's paths alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.fixtures.freshbooks import FreshBooksSandboxHandle


def test_info_lists_connection_details_and_counts(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    info = httpx.get(freshbooks_sandbox.info["control_url"]).json()
    assert info["account_id"] == freshbooks_sandbox.account_id
    assert info["counts"]["invoices"] == len(freshbooks_sandbox.state.account.tables["invoices"])


def test_clock_can_be_set_frozen_and_advanced(freshbooks_isolated: FreshBooksSandboxHandle) -> None:
    url = f"{freshbooks_isolated.info['control_url']}/clock"
    frozen = httpx.put(url, json={"now": "2026-07-01T12:00:00Z", "frozen": True}).json()
    assert frozen["frozen"] is True and frozen["now"] == "2026-07-01T12:00:00Z"
    moved = httpx.put(url, json={"advance": 86400}).json()
    assert moved["now"] == "2026-07-02T12:00:00Z"
    with freshbooks_isolated.client() as api:
        created = api.post(
            freshbooks_isolated.accounting_url("users/clients"), json={"client": {"fname": "Clocked"}}
        )
    assert created.json()["response"]["result"]["client"]["updated"] == "2026-07-02 08:00:00"  # EDT
    thawed = httpx.put(url, json={"now": datetime.now(UTC).isoformat()}).json()
    assert thawed["frozen"] is False


def test_reset_rebuilds_the_data(freshbooks_empty_sandbox: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_empty_sandbox
    with sb.client() as api:
        api.post(sb.accounting_url("users/clients"), json={"client": {"organization": "Wiped"}})
    assert len(sb.state.account.tables["clients"]) >= 1
    after = httpx.post(f"{sb.info['control_url']}/reset", json={"seed": "empty"}).json()
    assert after["counts"]["clients"] == 0
    assert httpx.post(f"{sb.info['control_url']}/reset", json={"seed": "nonsense"}).status_code == 400


def test_callback_paging_errors_use_the_events_envelope(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_sandbox
    with sb.client() as api:
        response = api.get(
            f"{sb.api_url}/events/account/{sb.account_id}/events/callbacks", params={"page": "x"}
        )
    assert response.status_code == 400
    assert response.json()["errno"] == 422 and response.json()["details"][0].startswith("page:")
