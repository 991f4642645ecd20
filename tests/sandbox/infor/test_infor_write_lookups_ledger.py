"""Cash receipts (ARS040MI) and GL batches (GLS840MI): applied exactly once, found again by the caller's
reference, and safe to send again after a lost answer. All through the production client.

A payment batch carries the caller's batch number (``PBID``), line numbers (``TRNO``) and reference
(``CKNO``); the applied payment is found by EXPORTMI on FSLEDG (``ESCKNO``) and by invoice
(``ARS200MI/LstInvoiceTrans``). A GL batch carries the caller's ``KEY1``, ``LINE`` and voucher text
(``VTXT``); it posts all its lines as one voucher only when they balance, found by EXPORTMI on FGLEDG
(``EGVTXT``) and read back with ``GLS200MI/LstVoucherLines``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from finsync_dagster.resources.infor import M3Client, M3ValidationError, MiCall
from finsync_dagster.sandbox.runner import RunningSandboxes
from tests.sandbox.infor.m3 import control, m3_client


@pytest.fixture(scope="module")
def m3(infor_sandbox_empty: RunningSandboxes) -> Iterator[M3Client]:
    with m3_client(infor_sandbox_empty) as client:
        yield client


@pytest.fixture(scope="module")
def defaults(infor_sandbox_empty: RunningSandboxes) -> dict[str, str]:
    return dict(infor_sandbox_empty.info["infor"]["defaults"])


@pytest.fixture(scope="module", autouse=True)
def expense_accounts(m3: M3Client) -> None:
    """The empty seed's chart holds bank, AR, sales tax and revenue; the expense accounts are added."""
    for code in ("6100", "6200", "6300", "6400"):
        m3.execute(
            program="CRS630MI",
            transaction="AddAccountID",
            params={"AITP": 1, "AITM": code, "TX40": f"Expense {code}"},
        )


@pytest.fixture
def faults_cleared(infor_sandbox_empty: RunningSandboxes) -> Iterator[None]:
    yield
    control(infor_sandbox_empty, "DELETE", "faults")


_numbers = iter(range(1, 10_000))


def _invoice(infor: RunningSandboxes, m3: M3Client, defaults: dict[str, str]) -> dict[str, Any]:
    """A customer with an order delivered and invoiced into the AR ledger: the invoice's CINO, year, amount."""
    cuno = f"LD{next(_numbers):04d}"
    customer = {"CUTM": defaults["CUTM"], "CUNO": cuno, "CUNM": "Ledger Co", "CUA1": "1 Road"}
    m3.execute(program="CRS610MI", transaction="Add", params=customer)
    (head,) = m3.execute(program="OIS100MI", transaction="AddBatchHead", params={"CUNO": cuno})
    m3.execute(
        program="OIS100MI",
        transaction="AddBatchLine",
        params={"ORNO": head["ORNO"], "ITNO": defaults["ITNO"], "ORQT": 2, "SAPR": Decimal("50.00")},
    )
    (order,) = m3.execute(program="OIS100MI", transaction="Confirm", params={"ORNO": head["ORNO"]})
    delivered = control(infor, "POST", f"orders/{order['ORNO']}/deliver")
    billed = control(infor, "POST", f"orders/{order['ORNO']}/invoice")
    return {
        "CUNO": cuno,
        "CINO": billed["CINO"],
        "INYR": billed["YEA4"],
        "amount": Decimal(billed["amount"]),
        "ORNO": order["ORNO"],
        "DLIX": delivered["DLIX"],
    }


def _payment_batch(invoice: dict[str, Any], pbid: int, ckno: str, defaults: dict[str, str]) -> list[MiCall]:
    line = {
        "PBID": pbid,
        "TRNO": 1,
        "CUNO": invoice["CUNO"],
        "CINO": invoice["CINO"],
        "INYR": invoice["INYR"],
    }
    return [
        MiCall("AddBatchHead", {"PBID": pbid, "BOPE": defaults["BOPE"], "ACDT": date(2026, 5, 4)}),
        MiCall("AddBatchLine", {**line, "PYAM": invoice["amount"], "CKNO": ckno, "LPDT": date(2026, 5, 4)}),
        MiCall("ControlBatch", {"PBID": pbid}),
    ]


def _by_ckno(m3: M3Client, ckno: str) -> list[dict[str, Any]]:
    columns = ["ESCUNO", "ESCINO", "ESTRCD", "ESCUAM", "ESPBID", "ESCKNO"]
    return [
        row
        for batch in m3.iter_export(table="FSLEDG", columns=columns, where=[("ESCKNO", "=", ckno)])
        for row in batch
    ]


def _run(m3: M3Client, program: str, calls: list[MiCall]) -> None:
    for call in calls:
        m3.execute(program=program, transaction=call.transaction, params=call.record)


def _error(m3: M3Client, program: str, call: MiCall) -> M3ValidationError:
    with pytest.raises(M3ValidationError) as caught:
        m3.execute(program=program, transaction=call.transaction, params=call.record)
    return caught.value


# -- the AR invoice of an order ----------------------------------------------------------------------


def test_an_order_finds_its_ar_invoice_and_delivery(
    infor_sandbox_empty: RunningSandboxes, m3: M3Client, defaults: dict[str, str]
) -> None:
    invoice = _invoice(infor_sandbox_empty, m3, defaults)

    (head,) = m3.execute(program="OIS350MI", transaction="LstInvHeadByCo", params={"ORNO": invoice["ORNO"]})

    assert (head["IVNO"], head["YEA4"], head["DLIX"], head["CUNO"]) == (
        invoice["CINO"], invoice["INYR"], str(invoice["DLIX"]), invoice["CUNO"],
    )  # fmt: skip
    assert (head["AMT1"], head["RAFC"]) == (str(invoice["amount"]), invoice["amount"])


def test_an_order_not_yet_invoiced_has_no_invoice_and_an_unknown_order_is_refused(
    m3: M3Client, defaults: dict[str, str]
) -> None:
    customer = {"CUTM": defaults["CUTM"], "CUNO": "LDOPEN", "CUNM": "Open Co", "CUA1": "1 Road"}
    m3.execute(program="CRS610MI", transaction="Add", params=customer)
    (head,) = m3.execute(program="OIS100MI", transaction="AddBatchHead", params={"CUNO": "LDOPEN"})
    m3.execute(
        program="OIS100MI",
        transaction="AddBatchLine",
        params={"ORNO": head["ORNO"], "ITNO": defaults["ITNO"]},
    )
    (order,) = m3.execute(program="OIS100MI", transaction="Confirm", params={"ORNO": head["ORNO"]})

    assert m3.execute(program="OIS350MI", transaction="LstInvHeadByCo", params={"ORNO": order["ORNO"]}) == []
    error = _error(m3, "OIS350MI", MiCall("LstInvHeadByCo", {"ORNO": "1999999999"}))
    assert (error.code, error.field, error.message) == (
        "OI35002",
        "ORNO",
        "Customer order number 1999999999 does not exist",
    )


# -- ARS040MI payment batches ------------------------------------------------------------------------


def test_an_applied_payment_is_found_by_its_ckno_and_by_its_invoice(
    infor_sandbox_empty: RunningSandboxes, m3: M3Client, defaults: dict[str, str]
) -> None:
    invoice = _invoice(infor_sandbox_empty, m3, defaults)

    _run(m3, "ARS040MI", _payment_batch(invoice, 7001, "fs:P-K7Q2ZB5MX", defaults))

    assert _by_ckno(m3, "fs:P-K7Q2ZB5MX") == [
        {"ESCUNO": invoice["CUNO"], "ESCINO": invoice["CINO"], "ESTRCD": "20", "ESCUAM": -invoice["amount"],
         "ESPBID": "7001", "ESCKNO": "fs:P-K7Q2ZB5MX"}
    ]  # fmt: skip
    entries = m3.execute(
        program="ARS200MI",
        transaction="LstInvoiceTrans",
        params={
            "PYNO": invoice["CUNO"],
            "CUNO": invoice["CUNO"],
            "CINO": invoice["CINO"],
            "INYR": invoice["INYR"],
        },
    )
    assert sorted((e["TRCD"], e["CUAM"], e["RECO"]) for e in entries) == [
        ("10", invoice["amount"], 9), ("20", -invoice["amount"], 9),
    ]  # fmt: skip


def test_a_payment_batch_is_controlled_once(
    infor_sandbox_empty: RunningSandboxes, m3: M3Client, defaults: dict[str, str]
) -> None:
    invoice = _invoice(infor_sandbox_empty, m3, defaults)
    calls = _payment_batch(invoice, 7002, "fs:P-ONCE", defaults)
    _run(m3, "ARS040MI", calls)

    again = _error(m3, "ARS040MI", calls[2])

    assert (again.code, again.field, again.message) == (
        "WPB0204",
        "PBID",
        "Payment batch 7002 is already updated",
    )
    assert len(_by_ckno(m3, "fs:P-ONCE")) == 1


@pytest.mark.parametrize(
    ("step", "code", "message"),
    [
        (0, "WPB0201", "Payment batch 7003 already exists"),
        (1, "WPB0211", "Transaction number 1 already exists"),
    ],
)
def test_a_payment_step_sent_again_is_refused_as_a_duplicate(
    infor_sandbox_empty: RunningSandboxes,
    m3: M3Client,
    defaults: dict[str, str],
    step: int,
    code: str,
    message: str,
) -> None:
    invoice = _invoice(infor_sandbox_empty, m3, defaults)
    calls = _payment_batch(invoice, 7003 if step == 0 else 7004, "fs:P-DUP", defaults)
    _run(m3, "ARS040MI", calls[: step + 1])

    again = _error(m3, "ARS040MI", calls[step])

    assert (again.code, again.message) == (code, message)


def test_a_payment_batch_whose_answer_was_lost_is_applied_once_when_sent_again(
    infor_sandbox_empty: RunningSandboxes, m3: M3Client, defaults: dict[str, str], faults_cleared: None
) -> None:
    invoice = _invoice(infor_sandbox_empty, m3, defaults)
    calls = _payment_batch(invoice, 7005, "fs:P-LOST", defaults)
    control(infor_sandbox_empty, "PUT", "faults", {"rate": 1.0, "kinds": ["commit_then_timeout"]})

    lost = m3.execute_bulk(program="ARS040MI", calls=calls)
    control(infor_sandbox_empty, "DELETE", "faults")
    again = m3.execute_bulk(program="ARS040MI", calls=calls)

    assert all(not o.ok for o in lost)
    assert [o.error.code for o in again if o.error is not None] == ["WPB0201", "WPB0204", "WPB0204"]
    assert len(_by_ckno(m3, "fs:P-LOST")) == 1


def test_a_reference_longer_than_ckno_is_refused(m3: M3Client) -> None:
    line = {"PBID": 7006, "TRNO": 1, "CINO": "1", "INYR": 2026, "CUNO": "X", "PYAM": 1, "CKNO": "x" * 16}

    error = _error(m3, "ARS040MI", MiCall("AddBatchLine", line))

    assert (error.code, error.field, error.message) == (
        "InputFieldTooLong",
        "CKNO",
        "Input field CKNO is longer than 15",
    )


# -- GLS840MI GL batches -----------------------------------------------------------------------------


def _gl_batch(m3: M3Client, key1: str, amounts: list[tuple[str, str]], text: str) -> list[MiCall]:
    cono = int(m3.company)
    head = MiCall("AddBatchHead", {"CONO": cono, "KEY1": key1, "INTN": "FINSYNC", "DESC": f"expenses {key1}"})
    lines = [
        MiCall(
            "AddBatchLineFld",
            {"KEY1": key1, "LINE": n, "INRI": "1", "AIT1": account, "CUAM": Decimal(amount),
             "ACDT": date(2026, 5, 6), "CUCD": "USD", "VTXT": text},
        )
        for n, (account, amount) in enumerate(amounts, start=1)
    ]  # fmt: skip
    return [head, *lines]


def _by_text(m3: M3Client, text: str) -> list[dict[str, Any]]:
    columns = ["EGYEA4", "EGVONO", "EGAIT1", "EGCUAM", "EGVTXT"]
    return [
        row
        for batch in m3.iter_export(table="FGLEDG", columns=columns, where=[("EGVTXT", "=", text)])
        for row in batch
    ]


def _post(m3: M3Client, key1: str) -> None:
    m3.execute(program="GLS840MI", transaction="UpdBatch", params={"CONO": int(m3.company), "KEY1": key1})


def test_a_balanced_gl_batch_posts_one_voucher_carrying_the_callers_text(m3: M3Client) -> None:
    _run(
        m3, "GLS840MI", _gl_batch(m3, "fs:G-TRAVEL", [("6100", "120.00"), ("1100", "-120.00")], "fs:G-TRAVEL")
    )
    m3.execute(
        program="GLS840MI", transaction="CtrlBatch", params={"CONO": int(m3.company), "KEY1": "fs:G-TRAVEL"}
    )

    _post(m3, "fs:G-TRAVEL")

    posted = _by_text(m3, "fs:G-TRAVEL")
    assert sorted((r["EGAIT1"], r["EGCUAM"]) for r in posted) == [
        ("1100", Decimal("-120.00")),
        ("6100", Decimal("120.00")),
    ]
    assert len({(r["EGYEA4"], r["EGVONO"]) for r in posted}) == 1
    voucher = m3.execute(
        program="GLS200MI",
        transaction="LstVoucherLines",
        params={"DIVI": m3.division, "YEA4": posted[0]["EGYEA4"], "VONO": posted[0]["EGVONO"]},
    )
    assert [(v["AIT1"], v["VTXT"]) for v in voucher] == [("6100", "fs:G-TRAVEL"), ("1100", "fs:G-TRAVEL")]


@pytest.mark.parametrize("step", ["CtrlBatch", "UpdBatch"])
def test_an_unbalanced_gl_batch_is_refused_and_posts_nothing(m3: M3Client, step: str) -> None:
    key1 = f"fs:G-UNBAL-{step[0]}"
    _run(m3, "GLS840MI", _gl_batch(m3, key1, [("6200", "50.00"), ("1100", "-40.00")], key1))

    error = _error(m3, "GLS840MI", MiCall(step, {"CONO": int(m3.company), "KEY1": key1}))

    assert (error.code, error.field, error.message) == (
        "GL84009",
        "KEY1",
        f"GL batch {key1} does not balance: 10.00 USD",
    )
    assert _by_text(m3, key1) == []


def test_a_posted_gl_batch_refuses_every_later_step(m3: M3Client) -> None:
    calls = _gl_batch(m3, "fs:G-DONE", [("6300", "9.99"), ("1100", "-9.99")], "fs:G-DONE")
    _run(m3, "GLS840MI", calls)
    _post(m3, "fs:G-DONE")
    (voucher,) = {r["EGVONO"] for r in _by_text(m3, "fs:G-DONE")}

    refused = [
        _error(m3, "GLS840MI", call)
        for call in (*calls, MiCall("UpdBatch", {"CONO": int(m3.company), "KEY1": "fs:G-DONE"}))
    ]

    assert [(e.code, e.message) for e in refused] == [
        ("GL84006", "GL batch fs:G-DONE already exists"),
        *[("GL84005", f"GL batch fs:G-DONE is already updated, voucher {voucher}")] * 3,
    ]
    assert len(_by_text(m3, "fs:G-DONE")) == 2


def test_a_gl_batch_whose_answer_was_lost_is_posted_once_when_sent_again(
    infor_sandbox_empty: RunningSandboxes, m3: M3Client, faults_cleared: None
) -> None:
    calls = [
        *_gl_batch(m3, "fs:G-LOST", [("6400", "33.30"), ("1100", "-33.30")], "fs:G-LOST"),
        MiCall("UpdBatch", {"CONO": int(m3.company), "KEY1": "fs:G-LOST"}),
    ]
    control(
        infor_sandbox_empty,
        "PUT",
        "faults",
        {"rate": 1.0, "kinds": ["commit_then_timeout"], "ctt": "delay", "slow_ms": 100},
    )
    control(infor_sandbox_empty, "PUT", "settings", {"timeout_ms": 50})
    try:
        lost = m3.execute_bulk(program="GLS840MI", calls=calls)
    finally:
        control(infor_sandbox_empty, "PUT", "settings", {"timeout_ms": 60000})
    control(infor_sandbox_empty, "DELETE", "faults")
    again = m3.execute_bulk(program="GLS840MI", calls=calls)

    assert {o.error.status for o in lost if o.error is not None} == {504}
    assert [o.error.code for o in again if o.error is not None] == [
        "GL84006",
        "GL84005",
        "GL84005",
        "GL84005",
    ]
    assert len(_by_text(m3, "fs:G-LOST")) == 2


@pytest.mark.parametrize(
    ("transaction", "record", "code", "field", "message"),
    [
        ("AddBatchLineFld", {"AIT1": "9999", "CUAM": "1.00", "ACDT": "20260506"}, "WAI0203", "AIT1",
         "Account 9999 does not exist"),
        ("AddBatchLineFld", {"AIT1": "6100", "CUAM": "1.00", "ACDT": "20260506", "DBCR": "X"}, "GL84010", "DBCR",
         "Debit/credit code must be D or C"),
        ("AddBatchLineFld", {"AIT1": "6100", "ACDT": "20260506"}, "GL84002", "CUAM", "The line has no CUAM"),
        ("AddBatchLine", {"PARM": "AIT1=6100;ACDT=20260506"}, "GL84002", "PARM", "PARM has no CUAM"),
        ("AddBatchLine", {"PARM": "AIT1=6100;ACDT=20260506;CUAM=1;ZZZZ=1"}, "GL84001", "PARM",
         "PARM part 'ZZZZ=1' is not KEY=value with a known key"),
    ],
)  # fmt: skip
def test_a_bad_gl_line_is_refused_with_the_quartet(
    m3: M3Client, transaction: str, record: dict[str, str], code: str, field: str, message: str
) -> None:
    key1 = f"fs:G-BAD-{next(_numbers)}"
    m3.execute(
        program="GLS840MI",
        transaction="AddBatchHead",
        params={"CONO": int(m3.company), "KEY1": key1, "INTN": "FINSYNC", "DESC": "bad"},
    )
    line = {"CONO": int(m3.company), "KEY1": key1, "LINE": 1, "INRI": "1", **record}
    if transaction == "AddBatchLine":
        line.pop("INRI")

    error = _error(m3, "GLS840MI", MiCall(transaction, line))

    assert (error.code, error.field, error.message) == (code, field, message)
