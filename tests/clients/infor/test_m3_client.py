"""The M3 MI layer over MockTransport: typed values, the error quartet, bulk batching, EXPORTMI queries."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest

from finsync_dagster.errors import (
    DataQualityError,
    NotFoundError,
    TransientApiError,
    UnavailableError,
    ValidationError,
)
from finsync_dagster.resources.infor import M3TransactionNotFoundError, M3ValidationError, MiCall
from finsync_dagster.resources.infor.fields import format_value
from tests.clients.infor.fakes import MI, FakeGateway, make_client, mi_400, mi_ok


def test_output_strings_become_decimal_date_int_and_codes_stay_text() -> None:
    record = {
        "ORNO": "0000012345",
        "ORDT": "20250131",
        "NTAM": "1234.50",
        "PONR": "10",
        "LMDT": "",
        "STAT": "20",
        "CUNM": "Acme GmbH",
    }
    gateway = FakeGateway(api=lambda r: mi_ok([record]))
    with make_client(gateway) as m3:
        [head] = m3.execute(program="OIS100MI", transaction="GetHead", params={"ORNO": "0000012345"})
    assert head == {
        "ORNO": "0000012345",
        "ORDT": date(2025, 1, 31),
        "NTAM": Decimal("1234.50"),
        "PONR": 10,
        "LMDT": None,
        "STAT": "20",
        "CUNM": "Acme GmbH",
    }


def test_a_malformed_date_is_a_data_quality_error_naming_the_field() -> None:
    gateway = FakeGateway(api=lambda r: mi_ok([{"IVDT": "2025-01-31"}]))
    with make_client(gateway) as m3, pytest.raises(DataQualityError, match="IVDT"):
        m3.execute(program="ARS200MI", transaction="GetInvoice")


def test_inputs_are_sent_as_m3_strings() -> None:
    gateway = FakeGateway()
    with make_client(gateway) as m3:
        m3.execute(
            program="OIS100MI",
            transaction="AddBatchLine",
            params={"ORNO": "T1", "ORQT": Decimal("2.5"), "DWDT": date(2025, 2, 1), "PONR": 10, "X": None},
        )
    params = dict(gateway.api_requests()[0].url.params)
    assert (params["ORQT"], params["DWDT"], params["PONR"]) == ("2.5", "20250201", "10")
    assert "X" not in params


def test_float_inputs_are_refused() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        format_value(19.99)


@pytest.mark.parametrize(
    ("response", "error", "code", "field"),
    [
        (mi_400("MandatoryInputFieldNotFound", "Customer name must be entered", "", "CUNM"),
         M3ValidationError, "MandatoryInputFieldNotFound", "CUNM"),
        (mi_400("InputFieldTooLong", "Input too long", "", "CUNM"), M3ValidationError, "InputFieldTooLong", "CUNM"),
        (mi_400("ServerReturnedNOK", "Customer number C999 does not exist", "WCU0203", "CUNO"),
         M3ValidationError, "WCU0203", "CUNO"),
        (mi_400("TransactionNotFound", "Transaction Nope does not exist"), M3TransactionNotFoundError,
         "TransactionNotFound", None),
    ],
    ids=["mandatory", "too-long", "business", "unknown-transaction"],
)  # fmt: skip
def test_mi_errors_become_typed_permanent_errors(
    response: httpx.Response, error: type[Exception], code: str, field: str | None
) -> None:
    gateway = FakeGateway(api=lambda r: response)
    with make_client(gateway) as m3, pytest.raises(error) as caught:
        m3.execute(program="CRS610MI", transaction="Add", params={"CUTM": "T"})
    assert caught.value.code == code and caught.value.field == field  # type: ignore[attr-defined]
    assert caught.value.status == 400  # type: ignore[attr-defined]
    assert len(gateway.api_requests()) == 1  # permanent: never retried


def test_business_error_message_reaches_the_caller() -> None:
    gateway = FakeGateway(api=lambda r: mi_400("ServerReturnedNOK", "Order 1000001 is closed", "OI1", "ORNO"))
    with make_client(gateway) as m3, pytest.raises(ValidationError) as caught:
        m3.execute(program="OIS100MI", transaction="Confirm", params={"ORNO": "1000001"})
    assert (
        str(caught.value) == "infor: HTTP 400 [OI1] field 'ORNO': Order 1000001 is closed (OIS100MI/Confirm)"
    )
    assert caught.value.error_type == "ServerReturnedNOK"  # type: ignore[attr-defined]


def test_a_bare_400_means_no_such_program() -> None:
    gateway = FakeGateway(api=lambda r: httpx.Response(400, text=""))
    with make_client(gateway) as m3, pytest.raises(M3TransactionNotFoundError, match="does not exist"):
        m3.execute(program="CRS610MI", transaction="Nope")


def test_an_error_inside_a_200_result_still_raises() -> None:
    body = {"results": [{"transaction": "GetBasicData", "errorMessage": "Record does not exist",
                         "errorType": "ServerReturnedNOK", "errorCode": "XRE0103", "records": []}]}  # fmt: skip
    gateway = FakeGateway(api=lambda r: httpx.Response(200, json=body))
    with make_client(gateway) as m3, pytest.raises(M3ValidationError, match="does not exist"):
        m3.execute(program="CRS610MI", transaction="GetBasicData", params={"CUNO": "C9"})


def _bulk_echo(request: httpx.Request) -> httpx.Response:
    """A bulk M3 that refuses every record whose CUNM is 'BAD' and numbers the rest."""
    body = json.loads(request.content)
    results = []
    for tx in body["transactions"]:
        if tx["record"].get("CUNM") == "BAD":
            results.append({"transaction": tx["transaction"], "errorMessage": "Name is invalid",
                            "errorType": "ServerReturnedNOK", "errorCode": "WCU01", "errorField": "CUNM",
                            "records": []})  # fmt: skip
        else:
            results.append({"transaction": tx["transaction"], "records": [{"CUNO": tx["record"]["CUNO"]}]})
    return httpx.Response(200, json={"results": results, "nrOfFailedTransactions": 0})


def test_bulk_sends_at_most_100_per_post_and_maps_each_result_to_its_input() -> None:
    gateway = FakeGateway(api=_bulk_echo)
    calls = [
        MiCall("Add", {"CUNO": f"C{i:04d}", "CUNM": "BAD" if i % 7 == 0 else f"Customer {i}"})
        for i in range(250)
    ]
    with make_client(gateway) as m3:
        outcomes = m3.execute_bulk(program="CRS610MI", calls=calls)
    posts = gateway.api_requests()
    assert sorted(len(json.loads(p.content)["transactions"]) for p in posts) == [50, 100, 100]
    assert all(p.url.path == MI and json.loads(p.content)["cono"] == 100 for p in posts)
    assert [o.index for o in outcomes] == list(range(250))
    for i, outcome in enumerate(outcomes):
        if i % 7 == 0:
            assert isinstance(outcome.error, M3ValidationError) and outcome.error.field == "CUNM"
        else:
            assert outcome.ok and outcome.record == {"CUNO": f"C{i:04d}"}


def test_a_failed_bulk_post_marks_only_its_own_calls() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["transactions"][0]["record"]["CUNO"] == "C0100":
            return httpx.Response(503, text="down")
        return _bulk_echo(request)

    gateway = FakeGateway(api=api)
    calls = [MiCall("Add", {"CUNO": f"C{i:04d}", "CUNM": "n"}) for i in range(300)]
    with make_client(gateway) as m3:
        outcomes = m3.execute_bulk(program="CRS610MI", calls=calls)
    failed = [o.index for o in outcomes if not o.ok]
    assert failed == list(range(100, 200))
    assert all(isinstance(outcomes[i].error, TransientApiError) for i in failed)
    # a write batch is not resent after a 503: M3 may have processed it
    assert len(gateway.api_requests()) == 3


def test_transactions_m3_did_not_process_are_reported_as_transient() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={
            "results": [{"transaction": "Add", "records": [{"CUNO": "A"}]},
                        {"transaction": "Add", "notProcessed": True, "records": []}],
            "wasTerminated": True, "terminationReason": "time limit"})  # fmt: skip

    gateway = FakeGateway(api=api)
    with make_client(gateway) as m3:
        outcomes = m3.execute_bulk(program="CRS610MI", calls=[MiCall("Add", {}) for _ in range(3)])
    assert outcomes[0].ok
    assert [type(o.error) for o in outcomes[1:]] == [TransientApiError, TransientApiError]


def test_export_builds_a_safe_query_and_types_prefixed_columns() -> None:
    rows = [{"REPL": "C001|20250131|1200.50"}, {"REPL": "C0'2|20250201|7"}, {"REPL": "C003|0|"}]
    gateway = FakeGateway(api=lambda r: mi_ok(rows))
    with make_client(gateway) as m3:
        batches = list(
            m3.iter_export(
                table="OCUSMA",
                columns=["OKCUNO", "OKLMDT", "OKCRLM"],
                where=[("OKLMDT", ">=", date(2025, 1, 31)), ("OKCUNO", ">", "C0'1")],
                batch_size=2,
            )
        )
    params = dict(gateway.api_requests()[0].url.params)
    assert params["QERY"] == "OKCUNO,OKLMDT,OKCRLM from OCUSMA where OKLMDT >= 20250131 and OKCUNO > 'C0''1'"
    assert params["maxrecs"] == "0"
    assert [len(b) for b in batches] == [2, 1]
    assert batches[0][0] == {"OKCUNO": "C001", "OKLMDT": date(2025, 1, 31), "OKCRLM": Decimal("1200.50")}
    assert batches[1][0] == {"OKCUNO": "C003", "OKLMDT": None, "OKCRLM": None}


@pytest.mark.parametrize(
    ("table", "columns", "where"),
    [("OCUSMA; drop", ["OKCUNO"], []), ("OCUSMA", ["OKCUNO"], [("OKCUNO", "like", "x")]),
     ("OCUSMA", ["okcuno"], [])],
    ids=["table", "operator", "column"],
)  # fmt: skip
def test_export_refuses_anything_but_names_and_comparisons(
    table: str, columns: list[str], where: list[tuple[str, str, object]]
) -> None:
    gateway = FakeGateway()
    with make_client(gateway) as m3, pytest.raises(ValueError):
        list(m3.iter_export(table=table, columns=columns, where=where))
    assert gateway.api_requests() == []


def test_program_names_cannot_escape_the_path() -> None:
    gateway = FakeGateway()
    with make_client(gateway) as m3, pytest.raises(ValueError):
        m3.execute(program="../CRS610MI", transaction="Add")


@pytest.mark.parametrize("body", ["<html>proxy</html>", "[]", "null"], ids=["html", "list", "null"])
def test_a_200_that_is_not_an_envelope_is_an_outage_not_an_empty_result(body: str) -> None:
    gateway = FakeGateway(api=lambda r: httpx.Response(200, text=body))
    with make_client(gateway) as m3, pytest.raises(UnavailableError):
        m3.execute(program="CRS610MI", transaction="LstByNumber")


def test_unknown_program_404_from_the_gateway_is_not_found() -> None:
    gateway = FakeGateway(api=lambda r: httpx.Response(404, text="no such API"))
    with make_client(gateway) as m3, pytest.raises(NotFoundError):
        m3.execute(program="XXX999MI", transaction="Get")
