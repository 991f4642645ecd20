"""Accounting resources of the FreshBooks sandbox over loopback HTTP (contract sections 2 to 4).

Each test drives the public API as a client would and checks what a client relies on: the envelopes,
pagination keys and caps, soft delete and its update phase, the filters integrations use (with
day-granular ``updated`` windows), money as strings, US/Eastern timestamps, and the errors' errno,
field and message.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.fixtures.freshbooks import FreshBooksSandboxHandle

# resource path, single key, list key, id field, a minimal valid create body (callables get the api)
CREATE_BODIES: dict[str, dict[str, Any]] = {
    "users/clients": {"organization": "Contract Test Ltd", "email": "ap@contract-test.example"},
    "items/items": {"name": "Gadget", "unit_cost": {"amount": "12.50", "code": "USD"}, "qty": 3},
    "taxes/taxes": {"name": "HST", "amount": "13", "number": "RT0001"},
    "bill_vendors/bill_vendors": {"vendor_name": "Paper Supply Co", "currency_code": "USD"},
}
RESOURCES = [
    ("users/clients", "client", "clients", "userid"),
    ("invoices/invoices", "invoice", "invoices", "invoiceid"),
    ("payments/payments", "payment", "payments", "logid"),
    ("expenses/expenses", "expense", "expenses", "expenseid"),
    ("expenses/categories", "category", "categories", "categoryid"),
    ("items/items", "item", "items", "itemid"),
    ("taxes/taxes", "tax", "taxes", "taxid"),
    ("bill_vendors/bill_vendors", "bill_vendor", "bill_vendors", "vendorid"),
    ("bills/bills", "bill", "bills", "id"),
]


@pytest.fixture(scope="module")
def demo(freshbooks_sandbox: FreshBooksSandboxHandle) -> Iterator[httpx.Client]:
    with freshbooks_sandbox.client() as client:
        client.base_url = httpx.URL(freshbooks_sandbox.accounting_url(""))
        yield client


@pytest.fixture(scope="module")
def empty(freshbooks_empty_sandbox: FreshBooksSandboxHandle) -> Iterator[httpx.Client]:
    with freshbooks_empty_sandbox.client() as client:
        client.base_url = httpx.URL(freshbooks_empty_sandbox.accounting_url(""))
        yield client


def _result(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()["response"]["result"]


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    errors = response.json()["response"]["errors"]
    assert len(errors) == 1
    assert set(errors[0]) == {"errno", "field", "message", "object", "value"}
    return errors[0]


def _create(
    client: httpx.Client, path: str, single: str, body: dict[str, Any], **params: Any
) -> dict[str, Any]:
    return _result(client.post(path, json={single: body}, params=params))[single]


def _client(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return _create(client, "users/clients", "client", {"organization": "Buyer Inc", **fields})


def _invoice(client: httpx.Client, customerid: int, *lines: tuple[str, str], **fields: Any) -> dict[str, Any]:
    body = {
        "customerid": customerid,
        "create_date": "2026-03-02",
        "lines": [{"name": "Work", "qty": qty, "unit_cost": {"amount": cost}} for qty, cost in lines],
        **fields,
    }
    return _create(client, "invoices/invoices", "invoice", body, **{"include[]": "lines"})


# -- envelopes and pagination --------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "single", "plural", "id_field"), RESOURCES, ids=[r[2] for r in RESOURCES])
def test_list_and_get_use_the_real_envelopes(
    demo: httpx.Client, path: str, single: str, plural: str, id_field: str
) -> None:
    listed = _result(demo.get(path, params={"per_page": 5}))
    assert set(listed) == {plural, "page", "pages", "per_page", "total"}
    assert listed["page"] == 1 and listed["per_page"] == 5
    assert listed["total"] > 0 and listed["pages"] == -(-listed["total"] // 5)
    first = listed[plural][0]
    assert first[id_field] == first["id"]
    got = _result(demo.get(f"{path}/{first['id']}"))[single]
    assert got == first


@pytest.mark.parametrize(("path", "single", "plural", "id_field"), RESOURCES, ids=[r[2] for r in RESOURCES])
def test_unknown_id_is_404_errno_1012(
    demo: httpx.Client, path: str, single: str, plural: str, id_field: str
) -> None:
    error = _error(demo.get(f"{path}/999"), 404)
    assert error["errno"] == 1012
    assert error["field"] == id_field
    assert error["object"] == single
    assert error["value"] == "999"
    assert error["message"].endswith("not found.")


def test_client_not_found_matches_the_sdk_fixture(demo: httpx.Client) -> None:
    error = _error(demo.get("users/clients/12345"), 404)
    assert error == {
        "errno": 1012,
        "field": "userid",
        "message": "Client not found.",
        "object": "client",
        "value": "12345",
    }


def test_per_page_is_silently_capped_at_100(demo: httpx.Client) -> None:
    result = _result(demo.get("invoices/invoices", params={"per_page": 500}))
    assert result["per_page"] == 100
    assert len(result["invoices"]) == 100


def test_pages_cover_every_record_once_newest_first(demo: httpx.Client) -> None:
    first = _result(demo.get("invoices/invoices", params={"per_page": 40}))
    seen: list[int] = []
    for page in range(1, first["pages"] + 1):
        seen += [
            inv["id"]
            for inv in _result(demo.get("invoices/invoices", params={"page": page, "per_page": 40}))[
                "invoices"
            ]
        ]
    assert len(seen) == len(set(seen)) == first["total"]
    assert seen == sorted(seen, reverse=True)


def test_page_past_the_end_is_empty_with_page_keys(demo: httpx.Client) -> None:
    result = _result(demo.get("users/clients", params={"page": 99, "per_page": 10}))
    assert result["clients"] == [] and result["page"] == 99 and result["total"] > 0


def test_page_zero_counts_as_page_one(demo: httpx.Client) -> None:
    assert _result(demo.get("users/clients", params={"page": 0}))["page"] == 1


@pytest.mark.parametrize(
    ("param", "value", "errno"),
    [("page", "-1", 1014), ("page", "two", 1014), ("per_page", "0", 1013), ("per_page", "x", 1013)],
)
def test_bad_paging_parameters(demo: httpx.Client, param: str, value: str, errno: int) -> None:
    error = _error(demo.get("users/clients", params={param: value}), 400)
    assert error["errno"] == errno and error["field"] == param


def test_default_per_page_is_30(demo: httpx.Client) -> None:
    assert _result(demo.get("invoices/invoices"))["per_page"] == 30


# -- invoices -------------------------------------------------------------------------------------------


def test_invoice_lines_only_with_bracketed_include(demo: httpx.Client) -> None:
    plain = _result(demo.get("invoices/invoices", params={"per_page": 3}))["invoices"]
    ignored = _result(demo.get("invoices/invoices", params={"per_page": 3, "include": "lines"}))["invoices"]
    included = _result(demo.get("invoices/invoices", params={"per_page": 3, "include[]": "lines"}))[
        "invoices"
    ]
    assert all("lines" not in inv for inv in plain + ignored)
    for invoice in included:
        lines = invoice["lines"]
        assert [line["lineid"] for line in lines] == list(range(1, len(lines) + 1))
        code = invoice["currency_code"]
        assert all(
            line["unit_cost"]["code"] == code and isinstance(line["amount"]["amount"], str) for line in lines
        )


def test_invoice_money_and_status_fields(demo: httpx.Client) -> None:
    invoice = _result(demo.get("invoices/invoices", params={"per_page": 1}))["invoices"][0]
    for name in ("amount", "outstanding", "paid"):
        assert set(invoice[name]) == {"amount", "code"}
        assert isinstance(invoice[name]["amount"], str)
    assert invoice["v3_status"] in {"draft", "sent", "viewed", "overdue", "partial", "paid"}
    assert invoice["payment_status"] in {"unpaid", "partial", "paid"}
    assert isinstance(invoice["status"], int)


def test_invoice_totals_from_lines_with_tax(empty: httpx.Client) -> None:
    client = _client(empty, currency_code="CAD")
    body = {
        "customerid": client["id"],
        "create_date": "2026-03-02",
        "lines": [
            {
                "name": "A",
                "qty": "2",
                "unit_cost": {"amount": "10.00", "code": "CAD"},
                "taxName1": "HST",
                "taxAmount1": "13",
            },
            {"name": "B", "qty": 1, "unit_cost": {"amount": "24.00"}},
        ],
    }
    invoice = _create(empty, "invoices/invoices", "invoice", body, **{"include[]": "lines"})
    assert invoice["amount"] == {"amount": "46.60", "code": "CAD"}  # 20 + 24 + 13% of 20
    assert invoice["outstanding"] == {"amount": "46.60", "code": "CAD"}
    assert invoice["lines"][0]["amount"] == {"amount": "20.00", "code": "CAD"}
    assert invoice["lines"][0]["taxAmount1"] == "13" and invoice["lines"][0]["qty"] == "2"
    assert (invoice["status"], invoice["v3_status"], invoice["payment_status"]) == (1, "draft", "unpaid")


def test_invoice_number_increments_the_previous_one(empty: httpx.Client) -> None:
    client = _client(empty)
    first = _invoice(empty, client["id"], ("1", "5"), invoice_number="INV-0099")
    second = _invoice(empty, client["id"], ("1", "5"))
    third = _invoice(empty, client["id"], ("1", "5"))
    assert [first["invoice_number"], second["invoice_number"], third["invoice_number"]] == [
        "INV-0099",
        "INV-0100",
        "INV-0101",
    ]


def test_mark_as_sent_action(empty: httpx.Client) -> None:
    invoice = _invoice(empty, _client(empty)["id"], ("1", "100"), create_date="2099-01-01")
    sent = _result(
        empty.put(f"invoices/invoices/{invoice['id']}", json={"invoice": {"action_mark_as_sent": True}})
    )
    assert (sent["invoice"]["status"], sent["invoice"]["v3_status"]) == (2, "sent")


def test_invoice_validation_names_the_field(empty: httpx.Client) -> None:
    missing = _error(empty.post("invoices/invoices", json={"invoice": {"create_date": "2026-01-01"}}), 422)
    assert (missing["errno"], missing["field"], missing["object"]) == (1001, "customerid", "invoice")
    bad_client = _error(
        empty.post("invoices/invoices", json={"invoice": {"customerid": 1, "create_date": "2026-01-01"}}), 422
    )
    assert (bad_client["errno"], bad_client["field"], bad_client["value"]) == (1004, "customerid", "1")
    client = _client(empty)
    bad_date = _error(
        empty.post(
            "invoices/invoices", json={"invoice": {"customerid": client["id"], "create_date": "03/02/2026"}}
        ),
        422,
    )
    assert (bad_date["errno"], bad_date["field"]) == (1004, "create_date")
    bad_qty = _error(
        empty.post(
            "invoices/invoices",
            json={
                "invoice": {
                    "customerid": client["id"],
                    "create_date": "2026-01-01",
                    "lines": [{"qty": "lots", "unit_cost": {"amount": "1"}}],
                }
            },
        ),
        422,
    )
    assert (bad_qty["field"], bad_qty["value"]) == ("qty", "lots")


# -- payments keep the invoice consistent ------------------------------------------------------------


def test_payments_move_outstanding_paid_and_status(empty: httpx.Client) -> None:
    invoice = _invoice(empty, _client(empty)["id"], ("2", "50.00"), create_date="2099-01-01")
    iid = invoice["id"]
    first = _create(
        empty,
        "payments/payments",
        "payment",
        {"invoiceid": iid, "amount": {"amount": "30.00"}, "date": "2099-01-05", "type": "Check"},
    )
    assert first["amount"] == {"amount": "30.00", "code": "USD"} and first["logid"] == first["id"]
    partial = _result(empty.get(f"invoices/invoices/{iid}"))["invoice"]
    assert (partial["paid"]["amount"], partial["outstanding"]["amount"]) == ("30.00", "70.00")
    assert (partial["payment_status"], partial["v3_status"], partial["status"]) == ("partial", "partial", 8)
    assert partial["date_paid"] is None
    second = _create(
        empty,
        "payments/payments",
        "payment",
        {"invoiceid": iid, "amount": {"amount": "70.00"}, "date": "2099-01-09"},
    )
    paid = _result(empty.get(f"invoices/invoices/{iid}"))["invoice"]
    assert (paid["paid"]["amount"], paid["outstanding"]["amount"]) == ("100.00", "0.00")
    assert (paid["payment_status"], paid["v3_status"], paid["status"], paid["date_paid"]) == (
        "paid",
        "paid",
        4,
        "2099-01-09",
    )
    # Deleting a payment (PUT vis_state=1, as the SDK does) takes it back off the invoice.
    _result(empty.put(f"payments/payments/{second['id']}", json={"payment": {"vis_state": 1}}))
    reopened = _result(empty.get(f"invoices/invoices/{iid}"))["invoice"]
    assert (reopened["outstanding"]["amount"], reopened["payment_status"]) == ("70.00", "partial")
    # Changing an amount re-applies it.
    _result(empty.put(f"payments/payments/{first['id']}", json={"payment": {"amount": {"amount": "10.00"}}}))
    assert _result(empty.get(f"invoices/invoices/{iid}"))["invoice"]["outstanding"]["amount"] == "90.00"


def test_overpayment_applies_the_balance_and_records_a_credit(empty: httpx.Client) -> None:
    invoice = _invoice(empty, _client(empty)["id"], ("1", "40.00"))
    payment = _create(
        empty,
        "payments/payments",
        "payment",
        {"invoiceid": invoice["id"], "amount": {"amount": "55.00"}, "date": "2026-03-05"},
    )
    assert payment["amount"]["amount"] == "40.00" and payment["overpaymentid"] is not None
    assert (
        _result(empty.get(f"invoices/invoices/{invoice['id']}"))["invoice"]["outstanding"]["amount"] == "0.00"
    )


def test_payment_validation(empty: httpx.Client) -> None:
    invoice = _invoice(empty, _client(empty)["id"], ("1", "40.00"))
    negative = _error(
        empty.post(
            "payments/payments",
            json={"payment": {"invoiceid": invoice["id"], "amount": {"amount": "-5"}, "date": "2026-03-05"}},
        ),
        422,
    )
    assert (negative["errno"], negative["field"], negative["object"]) == (1004, "amount", "payment")
    currency = _error(
        empty.post(
            "payments/payments",
            json={
                "payment": {
                    "invoiceid": invoice["id"],
                    "amount": {"amount": "5", "code": "EUR"},
                    "date": "2026-03-05",
                }
            },
        ),
        422,
    )
    assert currency["field"] == "amount" and "currency" in currency["message"]
    kind = _error(
        empty.post(
            "payments/payments",
            json={
                "payment": {"invoiceid": invoice["id"], "amount": "5", "date": "2026-03-05", "type": "Barter"}
            },
        ),
        422,
    )
    assert (kind["field"], kind["value"]) == ("type", "Barter")
    no_date = _error(
        empty.post("payments/payments", json={"payment": {"invoiceid": invoice["id"], "amount": "5"}}), 422
    )
    assert (no_date["errno"], no_date["field"]) == (1001, "date")


# -- create, update, delete -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(CREATE_BODIES))
def test_create_update_delete_roundtrip(empty: httpx.Client, path: str) -> None:
    single, plural = {r[0]: (r[1], r[2]) for r in RESOURCES}[path]
    created = _create(empty, path, single, CREATE_BODIES[path])
    rid = created["id"]
    field, value = {
        "users/clients": ("organization", "Renamed Ltd"),
        "items/items": ("name", "Gizmo"),
        "taxes/taxes": ("name", "PST"),
        "bill_vendors/bill_vendors": ("vendor_name", "Ink Co"),
    }[path]
    updated = _result(empty.put(f"{path}/{rid}", json={single: {field: value}}))[single]
    assert updated[field] == value and updated["id"] == rid
    assert _result(empty.get(f"{path}/{rid}"))[single][field] == value
    deleted = empty.delete(f"{path}/{rid}")
    assert deleted.status_code == 200 and deleted.json() == {"response": {}}
    listed_ids = [r["id"] for r in _result(empty.get(path, params={"per_page": 100}))[plural]]
    assert rid not in listed_ids


def test_expense_and_bill_creation(empty: httpx.Client) -> None:
    category = _result(empty.get("expenses/categories", params={"per_page": 1}))["categories"][0]
    expense = _create(
        empty,
        "expenses/expenses",
        "expense",
        {
            "categoryid": category["id"],
            "amount": {"amount": "19.99", "code": "USD"},
            "date": "2026-02-01",
            "vendor": "Cafe",
            "staffid": 1,
        },
    )
    assert (expense["amount"], expense["categoryid"], expense["vendor"]) == (
        {"amount": "19.99", "code": "USD"},
        category["id"],
        "Cafe",
    )
    vendor = _create(
        empty, "bill_vendors/bill_vendors", "bill_vendor", {"vendor_name": "Rent Co", "currency_code": "USD"}
    )
    bill = _create(
        empty,
        "bills/bills",
        "bill",
        {
            "vendorid": vendor["id"],
            "issue_date": "2026-02-01",
            "due_offset_days": 15,
            "currency_code": "USD",
            "lines": [
                {
                    "categoryid": category["id"],
                    "description": "Feb rent",
                    "quantity": 1,
                    "unit_cost": {"amount": "1500.00"},
                    "tax_name1": "GST",
                    "tax_percent1": 5,
                }
            ],
        },
    )
    assert bill["due_date"] == "2026-02-16"
    assert (bill["amount"]["amount"], bill["tax_amount"]["amount"], bill["total_amount"]["amount"]) == (
        "1500.00",
        "75.00",
        "1575.00",
    )
    no_category = _error(
        empty.post("expenses/expenses", json={"expense": {"amount": "1", "date": "2026-02-01"}}), 422
    )
    assert (no_category["errno"], no_category["field"]) == (1001, "categoryid")


def test_categories_are_read_only(empty: httpx.Client) -> None:
    assert empty.post("expenses/categories", json={"category": {"category": "X"}}).status_code == 405


@pytest.mark.parametrize(
    ("body", "errno", "field"),
    [
        ({}, 7012, None),
        ({"email": "not-an-email"}, 1004, "email"),
    ],
)
def test_client_validation(empty: httpx.Client, body: dict[str, Any], errno: int, field: str | None) -> None:
    error = _error(empty.post("users/clients", json={"client": body}), 422)
    assert (error["errno"], error["field"], error["object"]) == (errno, field, "client")
    if errno == 7012:
        assert (
            error["message"] == "At least one field among fname, lname, email and organization is required."
        )


def test_tax_percent_out_of_range(empty: httpx.Client) -> None:
    error = _error(empty.post("taxes/taxes", json={"tax": {"name": "Huge", "amount": "150"}}), 422)
    assert (error["errno"], error["field"]) == (1018, "amount")


def test_body_without_the_single_key_is_refused(empty: httpx.Client) -> None:
    error = _error(empty.post("users/clients", json={"organization": "Flat"}), 422)
    assert (error["errno"], error["field"]) == (1001, "client")
    assert (
        _error(
            empty.post("users/clients", content=b"{not json", headers={"content-type": "application/json"}),
            400,
        )["errno"]
        == 1005
    )


# -- soft delete ------------------------------------------------------------------------------------------


def test_soft_delete_hides_from_lists_unless_asked(empty: httpx.Client) -> None:
    client = _client(empty, organization="Soon Gone")
    cid = client["id"]
    deleted = _result(empty.put(f"users/clients/{cid}", json={"client": {"vis_state": 1}}))["client"]
    assert deleted["vis_state"] == 1
    default_ids = [c["id"] for c in _result(empty.get("users/clients", params={"per_page": 100}))["clients"]]
    deleted_ids = [
        c["id"]
        for c in _result(empty.get("users/clients", params={"search[vis_state]": 1, "per_page": 100}))[
            "clients"
        ]
    ]
    assert cid not in default_ids and cid in deleted_ids
    assert _result(empty.get(f"users/clients/{cid}"))["client"]["vis_state"] == 1
    restored = _result(empty.put(f"users/clients/{cid}", json={"client": {"vis_state": 0}}))["client"]
    assert restored["vis_state"] == 0


def test_archived_records_stay_in_the_default_list(empty: httpx.Client) -> None:
    client = _client(empty, organization="Archived Co")
    _result(empty.put(f"users/clients/{client['id']}", json={"client": {"vis_state": 2}}))
    default_ids = [c["id"] for c in _result(empty.get("users/clients", params={"per_page": 100}))["clients"]]
    active_ids = [
        c["id"]
        for c in _result(empty.get("users/clients", params={"per_page": 100, "search[vis_state]": 0}))[
            "clients"
        ]
    ]
    assert client["id"] in default_ids and client["id"] not in active_ids


def test_update_with_vis_state_discards_the_other_fields(empty: httpx.Client) -> None:
    client = _client(empty, organization="Keep Me")
    after = _result(
        empty.put(
            f"users/clients/{client['id']}", json={"client": {"vis_state": 1, "organization": "Changed"}}
        )
    )["client"]
    assert after["vis_state"] == 1 and after["organization"] == "Keep Me"


def test_http_delete_of_an_invoice_is_a_soft_delete(empty: httpx.Client) -> None:
    invoice = _invoice(empty, _client(empty)["id"], ("1", "1"))
    assert empty.delete(f"invoices/invoices/{invoice['id']}").json() == {"response": {}}
    assert _result(empty.get(f"invoices/invoices/{invoice['id']}"))["invoice"]["vis_state"] == 1
    deleted = _result(
        empty.get(
            "invoices/invoices", params={"search[vis_state]": "1", "search[invoiceids][]": invoice["id"]}
        )
    )
    assert [inv["id"] for inv in deleted["invoices"]] == [invoice["id"]]


def test_taxes_are_removed_by_http_delete(empty: httpx.Client) -> None:
    tax = _create(empty, "taxes/taxes", "tax", {"name": "Temp", "amount": "1"})
    empty.delete(f"taxes/taxes/{tax['id']}")
    assert _error(empty.get(f"taxes/taxes/{tax['id']}"), 404)["errno"] == 1012


# -- filters ------------------------------------------------------------------------------------------------


def test_ids_filters_generic_and_per_resource(demo: httpx.Client) -> None:
    some = [c["id"] for c in _result(demo.get("users/clients", params={"per_page": 3}))["clients"]]
    for name in ("search[ids][]", "search[userids][]"):
        found = _result(demo.get("users/clients", params=[(name, str(i)) for i in some[:2]]))
        assert sorted(c["id"] for c in found["clients"]) == sorted(some[:2]) and found["total"] == 2


def test_raw_and_percent_encoded_brackets_are_the_same(
    demo: httpx.Client, freshbooks_sandbox: FreshBooksSandboxHandle
) -> None:
    cid = _result(demo.get("users/clients", params={"per_page": 1}))["clients"][0]["id"]
    base = freshbooks_sandbox.accounting_url("users/clients")
    raw = demo.get(httpx.URL(f"{base}?search[userids][]={cid}"))
    encoded = demo.get(httpx.URL(f"{base}?search%5Buserids%5D%5B%5D={cid}"))
    assert _result(raw)["total"] == _result(encoded)["total"] == 1


def test_customerid_and_invoice_number_filters(demo: httpx.Client) -> None:
    invoice = _result(demo.get("invoices/invoices", params={"per_page": 1}))["invoices"][0]
    by_customer = _result(
        demo.get("invoices/invoices", params={"search[customerid]": invoice["customerid"], "per_page": 100})
    )
    assert by_customer["total"] >= 1 and {i["customerid"] for i in by_customer["invoices"]} == {
        invoice["customerid"]
    }
    by_number = _result(
        demo.get("invoices/invoices", params={"search[invoice_number]": invoice["invoice_number"]})
    )
    assert [i["id"] for i in by_number["invoices"]] == [invoice["id"]]


def test_equality_filters_ignore_case_indexed_or_not(empty: httpx.Client) -> None:
    client = _result(
        empty.post("users/clients", json={"client": {"organization": "Case Co", "email": "Ap@Case.example"}})
    )["client"]
    invoice = _result(
        empty.post(
            "invoices/invoices",
            json={
                "invoice": {
                    "customerid": client["id"],
                    "create_date": "2026-03-01",
                    "invoice_number": "CASE-A1",
                }
            },
        )
    )["invoice"]

    def ids(path: str, **params: str) -> list[int]:
        return [r["id"] for r in _result(empty.get(path, params=params))[path.split("/")[1]]]

    # invoice_number is indexed, email is not: both compare the same way.
    assert ids("invoices/invoices", **{"search[invoice_number]": "case-a1"}) == [invoice["id"]]
    assert ids("users/clients", **{"search[email]": "ap@case.example"}) == [client["id"]]


def test_date_filters_min_inclusive_max_exclusive(demo: httpx.Client) -> None:
    invoices = _result(demo.get("invoices/invoices", params={"per_page": 100}))["invoices"]
    day = invoices[10]["create_date"]
    on_or_after = _result(demo.get("invoices/invoices", params={"search[date_min]": day, "per_page": 100}))
    before = _result(demo.get("invoices/invoices", params={"search[date_max]": day, "per_page": 100}))
    everything = _result(demo.get("invoices/invoices", params={"per_page": 1}))["total"]
    assert on_or_after["total"] + before["total"] == everything
    assert all(i["create_date"] >= day for i in on_or_after["invoices"])
    assert all(i["create_date"] < day for i in before["invoices"])
    assert (
        _error(demo.get("invoices/invoices", params={"search[date_min]": "yesterday"}), 400)["errno"] == 1033
    )


def test_updated_filters_are_day_granular_in_eastern_time(
    freshbooks_empty_sandbox: FreshBooksSandboxHandle, empty: httpx.Client
) -> None:
    clock = freshbooks_empty_sandbox.state.clock
    try:
        # 2026-07-01 03:30 UTC is still 2026-06-30 (23:30) in New York.
        clock.set(datetime(2026, 7, 1, 3, 30, tzinfo=UTC).timestamp(), frozen=True)
        client = _client(empty, organization="Late Night Ltd")
        assert client["updated"] == "2026-06-30 23:30:00"
        assert client["signup_date"] == "2026-07-01 03:30:00"  # UTC, as the SDKs say
        window = {"search[userids][]": client["id"]}

        def total(**params: str) -> int:
            return _result(empty.get("users/clients", params={**window, **params}))["total"]

        assert total(**{"search[updated_min]": "2026-06-30"}) == 1
        assert total(**{"search[updated_min]": "2026-07-01"}) == 0
        assert (
            total(**{"search[updated_max]": "2026-07-01"}) == 1
        )  # exclusive: before 2026-07-01 00:00 Eastern
        assert total(**{"search[updated_max]": "2026-06-30"}) == 0
        # Only the date part counts: a time of day is ignored.
        assert total(**{"search[updated_min]": "2026-06-30 23:59:59"}) == 1
    finally:
        clock.set(datetime.now(UTC).timestamp())


def test_updated_moves_on_update(
    freshbooks_empty_sandbox: FreshBooksSandboxHandle, empty: httpx.Client
) -> None:
    clock = freshbooks_empty_sandbox.state.clock
    try:
        clock.set(datetime(2026, 1, 15, 17, 0, tzinfo=UTC).timestamp(), frozen=True)
        client = _client(empty)
        assert client["updated"] == "2026-01-15 12:00:00"  # EST, UTC-5
        clock.advance(86400 * 3)
        later = _result(empty.put(f"users/clients/{client['id']}", json={"client": {"note": "x"}}))["client"]
        assert later["updated"] == "2026-01-18 12:00:00"
        found = _result(
            empty.get(
                "users/clients",
                params={"search[updated_min]": "2026-01-17", "search[userids][]": client["id"]},
            )
        )
        assert found["total"] == 1
    finally:
        clock.set(datetime.now(UTC).timestamp())


def test_unknown_filters_are_ignored(demo: httpx.Client) -> None:
    everything = _result(demo.get("users/clients"))["total"]
    assert _result(demo.get("users/clients", params={"search[no_such_thing]": "1"}))["total"] == everything


# -- auth and accounts ---------------------------------------------------------------------------------


def test_bad_token_is_401_errno_1003(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    response = httpx.get(
        freshbooks_sandbox.accounting_url("users/clients"), headers={"Authorization": "Bearer nope"}
    )
    error = _error(response, 401)
    assert error["errno"] == 1003
    assert httpx.get(freshbooks_sandbox.accounting_url("users/clients")).status_code == 401


def test_unknown_account_is_404(freshbooks_sandbox: FreshBooksSandboxHandle, demo: httpx.Client) -> None:
    response = demo.get(f"{freshbooks_sandbox.api_url}/accounting/account/NOPE1/users/clients")
    assert _error(response, 404)["errno"] == 1012
