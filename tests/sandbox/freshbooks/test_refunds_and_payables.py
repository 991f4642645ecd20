"""Credit notes (refunds, order-to-cash) and bill vendors and bills (procure-to-pay) through the client.

The contract names the credit-note path only (``credit_notes/credit_notes``, single ``credit_note``,
deleted by PUT); the fields are the sandbox's most plausible shape (see the sandbox's docstring,
UNCONFIRMED). Bills and bill vendors are as the contract's §4.5 describes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from finsync_dagster.errors import ValidationError
from finsync_dagster.resources.freshbooks import FreshBooksClient
from tests.fixtures.freshbooks import FreshBooksSandboxHandle
from tests.sandbox.freshbooks.fb import fb_client

LINE = {"name": "Returned widget", "qty": 2, "unit_cost": {"amount": "12.50", "code": "USD"}}


@pytest.fixture(scope="module")
def fb(
    freshbooks_empty_sandbox: FreshBooksSandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FreshBooksClient]:
    with fb_client(freshbooks_empty_sandbox, tmp_path_factory.mktemp("fb-refunds")) as client:
        yield client


@pytest.fixture(scope="module")
def client(fb: FreshBooksClient) -> dict[str, Any]:
    return fb.create("clients", {"organization": "Refund Me Ltd", "currency_code": "USD"})


@pytest.fixture(scope="module")
def category(fb: FreshBooksClient) -> dict[str, Any]:
    return next(fb.iter_records("expense_categories"))


# -- credit notes ------------------------------------------------------------------------------------


def test_a_credit_note_is_created_with_its_lines_and_totals(
    fb: FreshBooksClient, client: dict[str, Any]
) -> None:
    created = fb.create(
        "credit_notes",
        {
            "clientid": client["id"],
            "create_date": "2026-04-01",
            "credit_number": "CN-FS-0001",
            "notes": "refund of FS-0001",
            "lines": [{**LINE, "taxName1": "GST", "taxAmount1": "5"}],
        },
    )

    read = fb.get("credit_notes", created["id"], include=("lines",))
    assert (read["creditid"], read["clientid"], read["credit_number"]) == (
        created["id"],
        client["id"],
        "CN-FS-0001",
    )
    assert (read["amount"]["amount"], read["tax_amount"]["amount"]) == ("26.25", "1.25")
    assert (read["status"], read["organization"], read["currency_code"]) == (
        "created",
        "Refund Me Ltd",
        "USD",
    )
    assert [line["amount"]["amount"] for line in read["lines"]] == ["25.00"]


def test_a_credit_note_is_found_by_its_number_and_its_client(
    fb: FreshBooksClient, client: dict[str, Any]
) -> None:
    created = fb.create(
        "credit_notes",
        {
            "clientid": client["id"],
            "create_date": "2026-04-02",
            "credit_number": "CN-FS-0002",
            "lines": [LINE],
        },
    )

    by_number = [r["id"] for r in fb.iter_records("credit_notes", search={"credit_number": "CN-FS-0002"})]
    by_client = [r["id"] for r in fb.iter_records("credit_notes", search={"clientid": str(client["id"])})]
    assert by_number == [created["id"]]
    assert created["id"] in by_client


def test_a_credit_note_without_a_number_gets_the_next_one(
    fb: FreshBooksClient, client: dict[str, Any]
) -> None:
    first = fb.create(
        "credit_notes", {"clientid": client["id"], "create_date": "2026-04-03", "lines": [LINE]}
    )
    second = fb.create(
        "credit_notes", {"clientid": client["id"], "create_date": "2026-04-03", "lines": [LINE]}
    )

    assert first["credit_number"] != second["credit_number"]


def test_a_credit_note_is_marked_sent_and_deleted_by_put(
    fb: FreshBooksClient, client: dict[str, Any]
) -> None:
    created = fb.create(
        "credit_notes", {"clientid": client["id"], "create_date": "2026-04-04", "lines": [LINE]}
    )

    sent = fb.update("credit_notes", created["id"], {"action_mark_as_sent": True})
    fb.delete("credit_notes", created["id"])

    assert sent["status"] == "sent"
    assert fb.get("credit_notes", created["id"])["vis_state"] == 1
    assert created["id"] not in [r["id"] for r in fb.iter_records("credit_notes")]


@pytest.mark.parametrize(
    ("body", "code", "field", "message"),
    [
        ({"create_date": "2026-04-05", "lines": [LINE]}, "1001", "clientid", "Field clientid is required."),
        ({"clientid": 999, "create_date": "2026-04-05", "lines": [LINE]}, "1004", "clientid",
         "clientid does not refer to a client."),
        ({"clientid": "CLIENT", "create_date": "2026-04-05", "lines": []}, "1004", "lines",
         "A credit note's amount must be positive."),
        ({"clientid": "CLIENT", "lines": [LINE]}, "1001", "create_date", "Field create_date is required."),
    ],
)  # fmt: skip
def test_a_bad_credit_note_is_refused(
    fb: FreshBooksClient, client: dict[str, Any], body: dict[str, Any], code: str, field: str, message: str
) -> None:
    body = {k: client["id"] if v == "CLIENT" else v for k, v in body.items()}

    with pytest.raises(ValidationError) as caught:
        fb.create("credit_notes", body)

    assert (caught.value.status, caught.value.code, caught.value.field, caught.value.message) == (
        422, code, field, message,
    )  # fmt: skip


# -- bill vendors and bills --------------------------------------------------------------------------


def test_a_bill_vendor_and_its_bill_are_created_and_read_back(
    fb: FreshBooksClient, category: dict[str, Any]
) -> None:
    vendor = fb.create(
        "bill_vendors", {"vendor_name": "Paper Mill GmbH", "currency_code": "EUR", "account_number": "ACC-77"}
    )
    bill = fb.create(
        "bills",
        {
            "vendorid": vendor["vendorid"],
            "issue_date": "2026-04-10",
            "due_offset_days": 30,
            "bill_number": "PM-2026-0042",
            "lines": [
                {
                    "categoryid": category["categoryid"],
                    "description": "A4 paper",
                    "quantity": 3,
                    "unit_cost": {"amount": "19.99", "code": "EUR"},
                    "tax_name1": "VAT",
                    "tax_percent1": 19,
                }
            ],
        },
    )

    read = fb.get("bills", bill["id"])
    assert (read["vendorid"], read["bill_number"], read["currency_code"]) == (
        vendor["id"],
        "PM-2026-0042",
        "EUR",
    )
    assert (read["amount"]["amount"], read["tax_amount"]["amount"], read["total_amount"]["amount"]) == (
        "59.97", "11.39", "71.36",
    )  # fmt: skip
    assert (read["due_date"], read["outstanding"]["amount"]) == ("2026-05-10", "71.36")


def test_vendors_and_bills_are_found_by_name_number_and_vendor(
    fb: FreshBooksClient, category: dict[str, Any]
) -> None:
    vendor = fb.create("bill_vendors", {"vendor_name": "Ink Supplies Oy"})
    line = {
        "categoryid": category["categoryid"],
        "quantity": 1,
        "unit_cost": {"amount": "5.00", "code": "USD"},
    }
    bill = fb.create(
        "bills",
        {"vendorid": vendor["id"], "issue_date": "2026-04-11", "bill_number": "INK-9", "lines": [line]},
    )

    assert [v["id"] for v in fb.iter_records("bill_vendors", search={"vendor_name": "ink supplies"})] == [
        vendor["id"]
    ]
    assert [b["id"] for b in fb.iter_records("bills", search={"bill_number": "INK-9"})] == [bill["id"]]
    assert [b["id"] for b in fb.iter_records("bills", search={"vendorid": str(vendor["id"])})] == [bill["id"]]


@pytest.mark.parametrize(
    ("resource", "body", "code", "field", "message"),
    [
        ("bill_vendors", {"currency_code": "USD"}, "1001", "vendor_name", "Field vendor_name is required."),
        ("bills", {"issue_date": "2026-04-12", "lines": []}, "1001", "vendorid", "Field vendorid is required."),
        ("bills", {"vendorid": 1, "issue_date": "2026-04-12", "lines": [{"quantity": 1}]}, "1004", "vendorid",
         "vendorid does not refer to a bill vendor."),
    ],
)  # fmt: skip
def test_a_bad_bill_or_vendor_is_refused(
    fb: FreshBooksClient, resource: str, body: dict[str, Any], code: str, field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        fb.create(resource, body)

    assert (caught.value.status, caught.value.code, caught.value.field, caught.value.message) == (
        422, code, field, message,
    )  # fmt: skip
