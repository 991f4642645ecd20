"""What the write side needs of FreshBooks to find what it wrote, and how a PUT is applied.

A record whose create may have been applied is found again by a value the caller stamped on it: a
client by ``email``, ``note_like`` or ``organization_like``; an invoice by ``invoice_number``, ``po_number``
(exact) or ``customerid``. An update applies only its first phase (contract 3.5): ``ext_vis_state``, then
``vis_state``, then an action (``action_mark_as_sent``), then the regular fields; the rest of the body is
silently dropped. All through the production client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from finsync_dagster.errors import ValidationError
from finsync_dagster.resources.freshbooks import FreshBooksClient
from tests.fixtures.freshbooks import FreshBooksSandboxHandle, _quiet
from tests.sandbox.freshbooks.fb import fb_client, set_faults


@pytest.fixture(scope="module")
def fb(
    freshbooks_empty_sandbox: FreshBooksSandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FreshBooksClient]:
    with fb_client(freshbooks_empty_sandbox, tmp_path_factory.mktemp("fb-lookups")) as client:
        yield client


@pytest.fixture(scope="module")
def client(fb: FreshBooksClient) -> dict[str, Any]:
    return fb.create(
        "clients",
        {"organization": "Lookup Traders Ltd", "email": "ap@lookup.example", "note": "finsync:K7Q2ZB5MXW"},
    )


def _invoice(fb: FreshBooksClient, client: dict[str, Any], **fields: Any) -> dict[str, Any]:
    lines = [{"name": "Widget", "qty": 2, "unit_cost": {"amount": "12.50", "code": "USD"}}]
    body = {"customerid": client["id"], "create_date": "2026-03-02", "lines": lines, **fields}
    return fb.create("invoices", body)


def _ids(fb: FreshBooksClient, resource: str, **search: str) -> list[int]:
    return [r["id"] for r in fb.iter_records(resource, search=search)]


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ({"email": "ap@lookup.example"}, True),
        ({"email": "AP@Lookup.Example"}, True),
        ({"email": "lookup.example"}, False),  # equality, not a substring
        ({"note_like": "K7Q2ZB5MXW"}, True),
        ({"organization_like": "lookup traders"}, True),
        ({"organization_like": "Nobody"}, False),
    ],
)
def test_a_client_is_found_by_what_the_caller_stamped(
    fb: FreshBooksClient, client: dict[str, Any], search: dict[str, str], found: bool
) -> None:
    assert _ids(fb, "clients", **search) == ([client["id"]] if found else [])


def test_an_invoice_is_found_by_its_number_its_po_number_and_its_client(
    fb: FreshBooksClient, client: dict[str, Any]
) -> None:
    stamped = _invoice(fb, client, invoice_number="LK-0001", po_number="fs:7Y3KQ2")
    other = _invoice(fb, client, invoice_number="LK-0002", po_number="fs:7Y3KQ2X")

    assert _ids(fb, "invoices", invoice_number="LK-0001") == [stamped["id"]]
    assert _ids(fb, "invoices", po_number="fs:7Y3KQ2") == [stamped["id"]]  # exact: not the longer one
    assert _ids(fb, "invoices", po_number="fs:none") == []
    assert set(_ids(fb, "invoices", customerid=str(client["id"]))) >= {stamped["id"], other["id"]}


def test_a_create_in_doubt_is_resolved_by_its_po_number(
    freshbooks_empty_sandbox: FreshBooksSandboxHandle, fb: FreshBooksClient, client: dict[str, Any]
) -> None:
    set_faults(freshbooks_empty_sandbox, {"rate": 1.0, "kinds": ["commit_then_timeout"]})
    try:
        created = fb.create(
            "invoices",
            {
                "customerid": client["id"],
                "create_date": "2026-03-03",
                "po_number": "fs:DOUBT01",
                "lines": [{"name": "Widget", "qty": 1, "unit_cost": {"amount": "5.00", "code": "USD"}}],
            },
            lookup={"po_number": "fs:DOUBT01"},
        )
    finally:
        _quiet(freshbooks_empty_sandbox.state)
    assert _ids(fb, "invoices", po_number="fs:DOUBT01") == [created["id"]]


def test_ext_vis_state_is_the_first_phase_and_drops_the_rest(
    fb: FreshBooksClient, client: dict[str, Any]
) -> None:
    invoice = _invoice(fb, client, notes="before")

    fb.update("invoices", invoice["id"], {"ext_vis_state": 0, "vis_state": 1, "notes": "after"})

    again = fb.get("invoices", invoice["id"])
    assert (again["vis_state"], again["notes"]) == (0, "before")


def test_vis_state_comes_before_actions_and_data(fb: FreshBooksClient, client: dict[str, Any]) -> None:
    invoice = _invoice(fb, client, notes="before")

    fb.update("invoices", invoice["id"], {"vis_state": 2, "action_mark_as_sent": True, "notes": "after"})

    again = fb.get("invoices", invoice["id"])
    assert (again["vis_state"], again["v3_status"], again["notes"]) == (2, "draft", "before")


def test_an_action_comes_before_data(fb: FreshBooksClient, client: dict[str, Any]) -> None:
    invoice = _invoice(fb, client, notes="before")

    sent = fb.update("invoices", invoice["id"], {"action_mark_as_sent": True, "notes": "after"})

    assert (sent["status"], sent["display_status"], sent["notes"]) == (2, "sent", "before")  # 2: sent


def test_regular_data_applies_when_no_phase_comes_first(fb: FreshBooksClient, client: dict[str, Any]) -> None:
    invoice = _invoice(fb, client, notes="before")

    changed = fb.update(
        "invoices", invoice["id"], {"notes": "M3 order 1000000042, delivery 7", "po_number": "x"}
    )

    assert (changed["notes"], changed["po_number"]) == ("M3 order 1000000042, delivery 7", "x")


@pytest.mark.parametrize(
    ("body", "code", "field", "message"),
    [
        ({"ext_vis_state": "soon"}, "1004", "ext_vis_state", "Invalid integer for field ext_vis_state."),
        ({"vis_state": 7}, "1004", "vis_state", "vis_state must be 0, 1 or 2."),
    ],
)
def test_a_bad_phase_value_is_refused(
    fb: FreshBooksClient, client: dict[str, Any], body: dict[str, Any], code: str, field: str, message: str
) -> None:
    invoice = _invoice(fb, client)

    with pytest.raises(ValidationError) as caught:
        fb.update("invoices", invoice["id"], body)

    assert (caught.value.status, caught.value.code, caught.value.field) == (422, code, field)
    assert caught.value.message == message
