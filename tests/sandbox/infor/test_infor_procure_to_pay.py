"""Procure to pay in M3: suppliers (CRS620MI) and supplier invoices (APS450MI), by the catalog, through
the production client.

A supplier is added under the caller's number and refused the second time; a supplier invoice is found
by supplier and the supplier's invoice number (``LstInvBySupInv``) and refused as a duplicate; it posts
to the AP ledger and the GL only when its amount equals its lines plus VAT, all or nothing, and once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from finsync_dagster.errors import UnavailableError
from finsync_dagster.resources.infor import M3Client, M3ValidationError, MiCall
from finsync_dagster.sandbox.runner import RunningSandboxes
from tests.sandbox.infor.m3 import control, m3_client

REQUIRED = {
    "SUTY": 0,
    "CSCD": "DE",
    "DTFM": "YMD",
    "ORTY": "100",
    "DT4T": 1,
    "DTCD": 0,
    "CUCD": "USD",
    "CRTP": 1,
    "ATPR": "0",
}


@pytest.fixture(scope="module")
def m3(infor_sandbox_empty: RunningSandboxes) -> Iterator[M3Client]:
    with m3_client(infor_sandbox_empty) as client:
        for code in ("6200", "6300"):
            client.execute(
                program="CRS630MI",
                transaction="AddAccountID",
                params={"AITP": 1, "AITM": code, "TX40": f"Cost {code}"},
            )
        yield client


@pytest.fixture(scope="module")
def suno(m3: M3Client) -> str:
    m3.execute(
        program="CRS620MI",
        transaction="AddSupplier",
        params={"SUNO": "S1001", "SUNM": "Paper Mill GmbH", **REQUIRED},
    )
    return "S1001"


@pytest.fixture
def faults_cleared(infor_sandbox_empty: RunningSandboxes) -> Iterator[None]:
    yield
    control(infor_sandbox_empty, "DELETE", "faults")


def _call(m3: M3Client, program: str, transaction: str, **params: Any) -> list[dict[str, Any]]:
    return m3.execute(program=program, transaction=transaction, params=params)


def _error(m3: M3Client, program: str, transaction: str, **params: Any) -> M3ValidationError:
    with pytest.raises(M3ValidationError) as caught:
        _call(m3, program, transaction, **params)
    return caught.value


def _invoice(m3: M3Client, suno: str, sino: str, gross: str, vat: str, lines: list[tuple[str, str]]) -> int:
    (head,) = _call(
        m3,
        "APS450MI",
        "AddHead",
        SUNO=suno,
        SINO=sino,
        IVDT=date(2026, 5, 8),
        CUAM=Decimal(gross),
        VTAM=Decimal(vat),
    )
    inbn = int(head["INBN"])
    for account, net in lines:
        _call(
            m3,
            "APS450MI",
            "AddLine",
            INBN=inbn,
            RDTP=8,
            NLAM=Decimal(net),
            AO01=account,
            CHGT=f"{sino} {account}",
        )
    return inbn


def _ap_entries(m3: M3Client, sino: str) -> list[dict[str, Any]]:
    columns = ["EPSUNO", "EPSINO", "EPTRCD", "EPCUAM", "EPVTAM", "EPVONO"]
    return [
        row
        for batch in m3.iter_export(table="FPLEDG", columns=columns, where=[("EPSINO", "=", sino)])
        for row in batch
    ]


# -- suppliers ---------------------------------------------------------------------------------------


def test_a_supplier_is_added_under_the_callers_number_and_read_back(m3: M3Client, suno: str) -> None:
    (basic,) = _call(m3, "CRS620MI", "GetBasicData", SUNO=suno)
    listed = _call(m3, "CRS620MI", "LstByNumber", SUNO=suno)

    assert (basic["SUNM"], basic["CUCD"], basic["STAT"], basic["CSCD"]) == (
        "Paper Mill GmbH",
        "USD",
        "20",
        "DE",
    )
    assert listed[0]["SUNO"] == suno


def test_a_supplier_added_twice_is_refused_as_already_existing(m3: M3Client, suno: str) -> None:
    error = _error(m3, "CRS620MI", "AddSupplier", SUNO=suno, SUNM="Again", **REQUIRED)

    assert (error.status, error.code, error.field, error.message) == (
        400,
        "WSU0201",
        "SUNO",
        f"Supplier {suno} already exists",
    )


def test_suppliers_changed_since_a_timestamp_are_listed(m3: M3Client) -> None:
    _call(m3, "CRS620MI", "AddSupplier", SUNO="S1002", SUNM="Ink Supplies Oy", **REQUIRED)
    ((stamp,),) = m3.iter_export(table="CIDMAS", columns=["IDLMTS"], where=[("IDSUNO", "=", "S1002")])

    _call(m3, "CRS620MI", "UpdSupplier", SUNO="S1002", SUNM="Ink Supplies Ab", TEPY="60")

    changed = _call(m3, "CRS620MI", "LstSuppliers", LMTS=stamp["IDLMTS"] + 1)
    assert [(r["SUNO"], r["SUNM"], r["TEPY"]) for r in changed] == [("S1002", "Ink Supplies Ab", "60")]


def test_a_supplier_address_is_added_and_listed(m3: M3Client, suno: str) -> None:
    _call(
        m3,
        "CRS620MI",
        "AddAddress",
        SUNO=suno,
        ADTE=1,
        CSCD="DE",
        ADR1="Papierweg 1",
        TOWN="Mainz",
        PONO="55116",
    )

    (address,) = _call(m3, "CRS620MI", "LstAddresses", SUNO=suno)
    (same,) = _call(m3, "CRS620MI", "GetAddress", SUNO=suno, ADTE=1)
    assert (address["ADR1"], address["TOWN"], address["PONO"], address["ADTE"]) == (
        "Papierweg 1",
        "Mainz",
        "55116",
        "1",
    )
    assert {k: same[k] for k in ("SUNO", "ADTE", "ADR1", "TOWN")} == {
        k: address[k] for k in ("SUNO", "ADTE", "ADR1", "TOWN")
    }


@pytest.mark.parametrize(
    ("transaction", "params", "code", "field", "message"),
    [
        ("AddSupplier", {"SUNO": "S9", "SUNM": "No terms", **{k: v for k, v in REQUIRED.items() if k != "ATPR"}},
         "MandatoryInputFieldNotFound", "ATPR", "Mandatory input field ATPR not found"),
        ("AddSupplier", {"SUNO": "S9", "SUNM": "N" * 37, **REQUIRED}, "InputFieldTooLong", "SUNM",
         "Input field SUNM is longer than 36"),
        ("GetBasicData", {"SUNO": "NOSUCH"}, "WSU0203", "SUNO", "Supplier NOSUCH does not exist"),
        ("UpdSupplier", {"SUNO": "S1001", "SUNM": ""}, "WSU0102", "SUNM", "Supplier name must be entered"),
    ],
)  # fmt: skip
def test_a_bad_supplier_call_is_refused_with_the_quartet(
    m3: M3Client, suno: str, transaction: str, params: dict[str, Any], code: str, field: str, message: str
) -> None:
    error = _error(m3, "CRS620MI", transaction, **params)

    assert (error.code, error.field, error.message) == (code, field, message)


# -- supplier invoices -------------------------------------------------------------------------------


def test_an_approved_supplier_invoice_posts_the_ap_ledger_and_one_balanced_voucher(
    m3: M3Client, suno: str
) -> None:
    inbn = _invoice(m3, suno, "PM-2026-0042", "71.36", "11.39", [("6200", "59.97")])

    _call(m3, "APS450MI", "ApproveInvoice", INBN=inbn)

    (head,) = _call(m3, "APS450MI", "GetHead", INBN=inbn)
    assert (head["SUPA"], head["SINO"], head["SUNO"], head["CUAM"]) == (
        "90",
        "PM-2026-0042",
        suno,
        Decimal("71.36"),
    )
    (entry,) = _ap_entries(m3, "PM-2026-0042")
    assert (entry["EPTRCD"], entry["EPCUAM"], entry["EPVTAM"]) == ("40", Decimal("-71.36"), Decimal("-11.39"))
    voucher = _call(m3, "GLS200MI", "LstVoucherLines", DIVI=m3.division, YEA4=2026, VONO=head["VONO"])
    assert [(v["AIT1"], v["CUAM"]) for v in voucher] == [
        ("6200", Decimal("59.97")), ("2100", Decimal("11.39")), ("2200", Decimal("-71.36")),
    ]  # fmt: skip


def test_a_supplier_invoice_is_found_by_supplier_and_invoice_number_and_refused_twice(
    m3: M3Client, suno: str
) -> None:
    inbn = _invoice(m3, suno, "PM-2026-0043", "10.00", "0", [("6200", "10.00")])

    found = _call(m3, "APS450MI", "LstInvBySupInv", SPYN=suno, SUNO=suno, SINO="PM-2026-0043")
    again = _error(m3, "APS450MI", "AddHead", SUNO=suno, SINO="PM-2026-0043", IVDT=date(2026, 5, 8))

    assert [int(r["INBN"]) for r in found] == [inbn]
    assert (again.code, again.field, again.message) == (
        "AP45003", "SINO", f"Supplier invoice PM-2026-0043 of supplier {suno} already exists in batch {inbn}",
    )  # fmt: skip


def test_an_unbalanced_supplier_invoice_posts_nothing_until_it_balances(m3: M3Client, suno: str) -> None:
    inbn = _invoice(m3, suno, "PM-2026-0044", "100.00", "0", [("6200", "60.00")])

    refused = _error(m3, "APS450MI", "ApproveInvoice", INBN=inbn)
    nothing = _ap_entries(m3, "PM-2026-0044")
    _call(m3, "APS450MI", "AddLine", INBN=inbn, RDTP=8, NLAM=Decimal("40.00"), AO01="6300")
    _call(m3, "APS450MI", "ApproveInvoice", INBN=inbn)

    assert (refused.code, refused.field, refused.message) == (
        "AP45022", "CUAM", "Invoice amount 100.00 does not equal the lines 60.00 plus VAT 0",
    )  # fmt: skip
    assert nothing == []
    assert [e["EPCUAM"] for e in _ap_entries(m3, "PM-2026-0044")] == [Decimal("-100.00")]


def test_an_approved_supplier_invoice_refuses_every_later_step(m3: M3Client, suno: str) -> None:
    inbn = _invoice(m3, suno, "PM-2026-0045", "5.00", "0", [("6200", "5.00")])
    _call(m3, "APS450MI", "ApproveInvoice", INBN=inbn)

    refused = [
        _error(m3, "APS450MI", "ApproveInvoice", INBN=inbn),
        _error(m3, "APS450MI", "AddLine", INBN=inbn, RDTP=8, NLAM=Decimal("1.00"), AO01="6200"),
        _error(m3, "APS450MI", "RejectInvoice", INBN=inbn),
    ]

    assert {(e.code, e.message) for e in refused} == {
        ("AP45002", f"Supplier invoice batch {inbn} is already approved")
    }
    assert len(_ap_entries(m3, "PM-2026-0045")) == 1


def test_a_supplier_invoice_whose_answers_were_lost_is_found_and_posted_once(
    infor_sandbox_empty: RunningSandboxes, m3: M3Client, suno: str, faults_cleared: None
) -> None:
    control(infor_sandbox_empty, "PUT", "faults", {"rate": 1.0, "kinds": ["commit_then_timeout"]})
    with pytest.raises(UnavailableError, match="connection failed"):
        _call(
            m3,
            "APS450MI",
            "AddHead",
            SUNO=suno,
            SINO="PM-LOST-1",
            IVDT=date(2026, 5, 9),
            CUAM=Decimal("8.00"),
        )
    control(infor_sandbox_empty, "DELETE", "faults")
    (found,) = _call(m3, "APS450MI", "LstInvBySupInv", SPYN=suno, SUNO=suno, SINO="PM-LOST-1")
    calls = [
        MiCall(
            "AddLine", {"INBN": found["INBN"], "RDTP": 8, "TRNO": 1, "NLAM": Decimal("8.00"), "AO01": "6200"}
        ),
        MiCall("ApproveInvoice", {"INBN": found["INBN"]}),
    ]
    control(infor_sandbox_empty, "PUT", "faults", {"rate": 1.0, "kinds": ["commit_then_timeout"]})
    lost = m3.execute_bulk(program="APS450MI", calls=calls)
    control(infor_sandbox_empty, "DELETE", "faults")

    again = m3.execute_bulk(program="APS450MI", calls=calls)

    assert not any(o.ok for o in lost)
    assert [o.error.code for o in again if o.error is not None] == ["AP45002", "AP45002"]
    assert len(_ap_entries(m3, "PM-LOST-1")) == 1


@pytest.mark.parametrize(
    ("transaction", "params", "code", "field", "message"),
    [
        ("AddHead", {"SUNO": "NOSUCH", "IVDT": "20260508"}, "WSU0203", "SUNO", "Supplier NOSUCH does not exist"),
        ("AddHead", {"SUNO": "S1001", "SINO": "x" * 25, "IVDT": "20260508"}, "InputFieldTooLong", "SINO",
         "Input field SINO is longer than 24"),
        ("AddLine", {"RDTP": 1, "NLAM": "1.00", "AO01": "6200"}, "AP45011", "RDTP",
         "Line type 1 is not supported; use 8 (a cost line on AO01)"),
        ("AddLine", {"RDTP": 8, "NLAM": "1.00", "AO01": "9999"}, "WAI0203", "AO01", "Account 9999 does not exist"),
        ("AddLine", {"RDTP": 8, "NLAM": "1.00"}, "AP45012", "AO01", "Accounting object 1 must be entered"),
        ("ApproveInvoice", {}, "AP45021", "INBN", "Supplier invoice batch {inbn} has no lines"),
        ("GetHead", {"INBN": "1"}, "AP45001", "INBN", "Invoice batch number 1 does not exist"),
    ],
)  # fmt: skip
def test_a_bad_supplier_invoice_call_is_refused_with_the_quartet(
    m3: M3Client, suno: str, transaction: str, params: dict[str, Any], code: str, field: str, message: str
) -> None:
    (head,) = _call(m3, "APS450MI", "AddHead", SUNO=suno, IVDT=date(2026, 5, 10))
    if transaction in ("AddLine", "ApproveInvoice"):
        params = {"INBN": head["INBN"], **params}

    error = _error(m3, "APS450MI", transaction, **params)

    assert (error.code, error.field, error.message) == (code, field, message.format(inbn=head["INBN"]))
