"""M3 MI REST v2 as the sandbox speaks it: errors, bulk, and the common parameters.

These are the awkward parts a client must survive against a real tenant: the 400 error quartet on single
calls, per-result errors inside a 200 bulk answer, a bare 400 for an unknown program, string-only values,
``maxrecs`` defaulting to 100, and parameters sent as matrix parameters.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from finsync_dagster.sandbox.runner import RunningSandboxes
from tests.sandbox.infor.mi_http import MI, mi_client


@pytest.fixture(scope="module")
def mi(infor_sandbox_empty: RunningSandboxes) -> Iterator[MI]:
    with mi_client(infor_sandbox_empty) as client:
        cutm = client.info["defaults"]["CUTM"]
        client.bulk(
            "CRS610MI",
            [
                (
                    "Add",
                    {
                        "CUTM": cutm,
                        "CUNO": f"P{n:04d}",
                        "CUNM": f"Protocol {n}",
                        "CUA1": "Street 1",
                        "MAIL": "" if n % 2 else f"p{n}@x.example",
                    },
                )
                for n in range(1, 131)
            ],
        )
        yield client


@pytest.mark.parametrize(
    ("path", "params", "error_type", "field"),
    [
        ("CRS610MI/Add", {"CUNM": "No template", "CUA1": "x"}, "MandatoryInputFieldNotFound", "CUTM"),
        ("CRS610MI/Add", {"CUTM": "TMPL01", "CUNM": "N" * 37, "CUA1": "x"}, "InputFieldTooLong", "CUNM"),
        ("CRS610MI/GetBasicData", {"CUNO": "NOSUCH"}, "ServerReturnedNOK", "CUNO"),
        ("CRS610MI/Add", {"CUTM": "NOSUCH", "CUNM": "x", "CUA1": "x"}, "ServerReturnedNOK", "CUTM"),
        ("CRS610MI/Add", {"CUTM": "TMPL01", "CUNM": "", "CUA1": "x"}, "ServerReturnedNOK", "CUNM"),
        (
            "CRS610MI/Add",
            {"CUTM": "TMPL01", "CUNM": "x", "CUA1": "x", "CUTP": "A"},
            "ServerReturnedNOK",
            "CUTP",
        ),
        ("CRS610MI/NoSuchTransaction", {}, "TransactionNotFound", ""),
    ],
    ids=[
        "mandatory",
        "too-long",
        "unknown-customer",
        "unknown-template",
        "blank-required",
        "not-numeric",
        "unknown-transaction",
    ],
)
def test_single_call_errors_are_400_with_the_quartet(
    mi: MI, path: str, params: dict[str, str], error_type: str, field: str
) -> None:
    response = mi.get(path, **params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"errorMessage", "errorCode", "errorField", "errorType"}
    assert (body["errorType"], body["errorField"]) == (error_type, field)
    assert body["errorMessage"]


def test_unknown_program_is_a_bare_400(mi: MI) -> None:
    response = mi.get("NOSUCHMI/Get")
    assert response.status_code == 400
    assert response.content == b""


def test_unknown_company_is_not_authorized(mi: MI) -> None:
    response = mi.get("CRS610MI/LstByNumber", cono="999")
    assert response.status_code == 400
    assert response.json()["errorCode"] == "XAU0008"


def test_bulk_reports_failures_per_transaction_and_processes_the_rest(mi: MI) -> None:
    result = mi.bulk(
        "CRS610MI",
        [
            ("Add", {"CUTM": "TMPL01", "CUNO": "BULK1", "CUNM": "Bulk one", "CUA1": "x"}),
            ("Add", {"CUTM": "TMPL01", "CUNO": "BULK1", "CUNM": "Bulk dup", "CUA1": "x"}),
            ("Add", {"CUNO": "BULK2", "CUNM": "No template", "CUA1": "x"}),
            ("Add", {"CUTM": "TMPL01", "CUNO": "BULK3", "CUNM": "Bulk three", "CUA1": "x"}),
            ("Nope", {}),
        ],
    )
    assert (result["nrOfSuccessfullTransactions"], result["nrOfFailedTransactions"]) == (2, 3)
    outcomes = [(r["transaction"], r.get("errorType")) for r in result["results"]]
    assert outcomes == [
        ("Add", None),
        ("Add", "ServerReturnedNOK"),
        ("Add", "MandatoryInputFieldNotFound"),
        ("Add", None),
        ("Nope", "TransactionNotFound"),
    ]
    assert all("records" in r for r in result["results"])
    assert mi.one("CRS610MI/GetBasicData", CUNO="BULK3")["CUNM"] == "Bulk three"
    assert mi.one("CRS610MI/GetBasicData", CUNO="BULK1")["CUNM"] == "Bulk one"


def test_bulk_malformed_transactions_fail_alone(mi: MI) -> None:
    transactions = ["Add", {"transaction": "Add", "record": ["CUNO"]}, {"transaction": "GetBasicData",
                    "record": {"CUNO": "P0001"}}]  # fmt: skip
    body = {"program": "CRS610MI", "cono": 100, "transactions": transactions}
    result = mi.http.post(mi.base, json=body, headers=mi.headers).json()
    assert (result["nrOfSuccessfullTransactions"], result["nrOfFailedTransactions"]) == (1, 2)
    assert [r.get("errorType") for r in result["results"]] == ["ServerReturnedNOK", "ServerReturnedNOK", None]


def test_bulk_with_an_unknown_program_is_a_bare_400(mi: MI) -> None:
    body = {"program": "NOSUCHMI", "cono": 100, "transactions": [{"transaction": "Get", "record": {}}]}
    response = mi.http.post(mi.base, json=body, headers=mi.headers)
    assert (response.status_code, response.content) == (400, b"")


def test_bulk_honours_the_body_company(mi: MI) -> None:
    body = {
        "program": "CRS610MI",
        "cono": 409,
        "transactions": [{"transaction": "GetBasicData", "record": {"CUNO": "P0001"}}],
    }
    result = mi.http.post(mi.base, json=body, headers=mi.headers).json()
    assert result["nrOfFailedTransactions"] == 1
    assert result["results"][0]["errorCode"] == "XAU0008"


def test_every_value_is_a_string_and_unknown_outputs_are_empty(mi: MI) -> None:
    record = mi.one("CRS610MI/GetBasicData", CUNO="P0002")
    assert all(isinstance(v, str) for v in record.values())
    assert record["CONO"] == "100" and record["CHNO"] == "0" and record["TXID"] == ""


def test_maxrecs_defaults_to_100_and_zero_means_all(mi: MI) -> None:
    assert len(mi.records("CRS610MI/LstByNumber", CUNO="P")) == 100
    assert len(mi.records("CRS610MI/LstByNumber", CUNO="P", maxrecs=0)) >= 130
    assert len(mi.records("CRS610MI/LstByNumber", CUNO="P", maxrecs=7)) == 7


def test_matrix_parameters_work_like_query_parameters(mi: MI) -> None:
    records = mi.records("CRS610MI/LstByNumber;maxrecs=3;returncols=CUNO,CUNM", CUNO="P0001")
    assert records == [{"CUNO": f"P000{n}", "CUNM": f"Protocol {n}"} for n in (1, 2, 3)]


def test_excludeempty_drops_empty_fields_in_both_spellings(mi: MI) -> None:
    for name in ("excludeempty", "excludempty"):
        record = mi.one("CRS610MI/GetBasicData", CUNO="P0001", **{name: "true"})
        assert "MAIL" not in record and "TXID" not in record and record["CUNO"] == "P0001"
    assert mi.one("CRS610MI/GetBasicData", CUNO="P0001")["MAIL"] == ""


@pytest.mark.parametrize(
    ("dateformat", "expected"),
    [
        ("YMD8", "20260315"),
        ("YMD6", "260315"),
        ("MDY6", "031526"),
        ("DMY6", "150326"),
        ("YMD8-", "2026-03-15"),
        ("YWD5", "26117"),
    ],
)
def test_dateformat_applies_to_date_outputs(
    mi: MI, infor_sandbox_empty: RunningSandboxes, dateformat: str, expected: str
) -> None:
    company = infor_sandbox_empty.state("infor").company()
    row = company.table("OCUSMA").get(company.cono, "P0003")
    from datetime import date

    row["RGDT"] = date(2026, 3, 15)
    assert mi.one("CRS610MI/GetBasicData;returncols=RGDT", CUNO="P0003", dateformat=dateformat) == {
        "RGDT": expected
    }


def test_change_stamps_move_on_every_change(mi: MI) -> None:
    before = mi.one("CRS610MI/GetBasicData", CUNO="P0004")
    mi.records("CRS610MI/ChgBasicData", CUNO="P0004", CUNM="Renamed")
    after = mi.one("CRS610MI/GetBasicData", CUNO="P0004")
    assert after["CUNM"] == "Renamed" and int(after["CHNO"]) == int(before["CHNO"]) + 1
    rows = mi.records("EXPORTMI/Select", QERY="OKCUNO, OKLMTS from OCUSMA where OKCUNO = 'P0004'", SEPC=";")
    _cuno, lmts = rows[0]["REPL"].split(";")
    changed_since = mi.records("CRS610MI/LstByNumber;returncols=CUNO", LMTS=lmts, maxrecs=0)
    assert {"CUNO": "P0004"} in changed_since and {"CUNO": "P0005"} not in changed_since


def test_delete_removes_the_customer(mi: MI) -> None:
    mi.records("CRS610MI/Delete", CUNO="P0130")
    assert mi.get("CRS610MI/GetBasicData", CUNO="P0130").status_code == 400


def test_exportmi_headers_flat_reply_and_conditions(mi: MI) -> None:
    rows = mi.records(
        "EXPORTMI/Select",
        QERY="select OKCUNO, OKCUNM from OCUSMA where OKCUNO >= 'P0010' and OKCUNO < 'P0012'",
        SEPC=",",
        HDRS="1",
    )
    assert [r["REPL"] for r in rows] == ["OKCUNO,OKCUNM", "P0010,Protocol 10", "P0011,Protocol 11"]
    (flat,) = mi.records("EXPORTMI/Select", QERY="OKCUNO, OKCUNM from OCUSMA where OKCUNO = 'P0010'")
    assert flat["REPL"] == "P0010".ljust(10) + "Protocol 10"
    assert len(mi.records("EXPORTMI/Select", QERY="OKCUNO from OCUSMA")) == 100  # maxrecs applies


@pytest.mark.parametrize(
    "query", ["OKCUNO from NOSUCH", "OKNOPE from OCUSMA", "OKCUNO from OCUSMA where OKCUNO ~ 1", "nonsense"]
)
def test_exportmi_rejects_what_it_cannot_run(mi: MI, query: str) -> None:
    response = mi.get("EXPORTMI/Select", QERY=query)
    assert response.status_code == 400 and response.json()["errorField"] == "QERY"


def test_exportmi_query_longer_than_982_is_too_long(mi: MI) -> None:
    response = mi.get("EXPORTMI/Select", QERY="OKCUNO from OCUSMA where OKCUNM = '" + "x" * 1000 + "'")
    assert response.json()["errorType"] == "InputFieldTooLong"
