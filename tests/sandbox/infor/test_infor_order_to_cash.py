"""Order to cash through the MI transactions and the sandbox's lifecycle endpoints, read back three ways.

An order entered in batch, confirmed, delivered and invoiced must show up consistently in OIS100MI,
OIS350MI, the AR ledger (ARS200MI) and EXPORTMI, and cash applied through ARS040MI must mark the invoice
paid (RECO 9) — this is the path the sync's write-back and reconciliation depend on.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from finsync_dagster.sandbox.runner import RunningSandboxes
from tests.sandbox.infor.mi_http import MI, mi_client


@pytest.fixture(scope="module")
def mi(infor_sandbox_empty: RunningSandboxes) -> Iterator[MI]:
    with mi_client(infor_sandbox_empty) as client:
        yield client


def _order(mi: MI, cuno: str, cuor: str, quantity: str = "3", price: str = "19.99") -> str:
    defaults = mi.info["defaults"]
    temporary = mi.one("OIS100MI/AddBatchHead", CUNO=cuno, ORTP=defaults["ORTP"], CUOR=cuor)["ORNO"]
    line = mi.one("OIS100MI/AddBatchLine", ORNO=temporary, ITNO=defaults["ITNO"], ORQT=quantity, SAPR=price)
    assert line["PONR"] == "1"
    confirmed = mi.one("OIS100MI/Confirm", ORNO=temporary)
    assert confirmed["STAT"] == "90" and confirmed["ORNO"] != temporary
    return confirmed["ORNO"]


@pytest.fixture(scope="module")
def customer(mi: MI) -> str:
    return mi.one("CRS610MI/Add", CUTM=mi.info["defaults"]["CUTM"], CUNM="Order Co", CUA1="1 Road")["CUNO"]


def test_confirmed_order_reads_back_with_lines_and_amounts(mi: MI, customer: str) -> None:
    orno = _order(mi, customer, "FS-9001")
    head = mi.one("OIS100MI/GetHead", ORNO=orno)
    assert (head["CUNO"], head["CUOR"], head["ORST"], head["NTAM"]) == (customer, "FS-9001", "22", "59.97")
    (line,) = mi.records("OIS100MI/LstLine", ORNO=orno)
    assert (line["ITNO"], line["ORQT"], line["SAPR"], line["NLAM"]) == (
        mi.info["defaults"]["ITNO"],
        "3",
        "19.99",
        "59.97",
    )
    heads = mi.records("OIS100MI/LstHead", CUNO=customer)
    assert orno in {h["ORNO"] for h in heads}


def test_adding_a_line_to_a_confirmed_order_is_a_closed_order_error(mi: MI, customer: str) -> None:
    orno = _order(mi, customer, "FS-9002")
    response = mi.get("OIS100MI/AddBatchLine", ORNO=orno, ITNO=mi.info["defaults"]["ITNO"], ORQT="1")
    assert response.status_code == 400
    error = response.json()
    assert error["errorField"] == "ORNO" and "closed" in error["errorMessage"]
    assert error["errorType"] == "ServerReturnedNOK"


def test_order_for_unknown_customer_is_refused(mi: MI) -> None:
    response = mi.get("OIS100MI/AddBatchHead", CUNO="NOSUCH")
    assert response.status_code == 400
    assert (response.json()["errorField"], response.json()["errorCode"]) == ("CUNO", "WCU0203")


def test_deliver_then_invoice_posts_the_ar_ledger_and_cash_marks_it_paid(mi: MI, customer: str) -> None:
    orno = _order(mi, customer, "FS-9003", quantity="2", price="50.00")
    balance_before = mi.one(
        "MMS200MI/GetItmWhsBal", WHLO=mi.info["defaults"]["WHLO"], ITNO=mi.info["defaults"]["ITNO"]
    )
    assert mi.post_control(f"orders/{orno}/invoice").status_code == 409  # not delivered yet
    delivered = mi.post_control(f"orders/{orno}/deliver")
    assert delivered.status_code == 200 and delivered.json()["ORST"] == "66"
    balance_after = mi.one(
        "MMS200MI/GetItmWhsBal", WHLO=mi.info["defaults"]["WHLO"], ITNO=mi.info["defaults"]["ITNO"]
    )
    assert float(balance_before["STQT"]) - float(balance_after["STQT"]) == 2
    invoiced = mi.post_control(f"orders/{orno}/invoice", {"date": "2026-03-15"}).json()
    assert (invoiced["ORST"], invoiced["amount"], invoiced["YEA4"]) == ("77", "100.00", 2026)

    head = mi.one("OIS350MI/GetInvHead", YEA4="2026", IVNO=str(invoiced["IVNO"]))
    assert (head["CUNO"], head["IDAT"], head["DUDT"], head["RAFC"]) == (
        customer,
        "20260315",
        "20260414",
        "100.00",
    )
    (ledger,) = mi.records("ARS200MI/LstInvoices", CUNO=customer)
    assert (ledger["CINO"], ledger["TRCD"], ledger["RECO"]) == (invoiced["CINO"], "10", "0")

    defaults = mi.info["defaults"]
    mi.one("ARS040MI/AddBatchHead", PBID="501", BOPE=defaults["BOPE"])
    mi.records(
        "ARS040MI/AddBatchLine",
        PBID="501",
        TRNO="1",
        CINO=invoiced["CINO"],
        INYR="2026",
        CUNO=customer,
        PYAM="100.00",
        LPDT="20260320",
    )
    mi.records("ARS040MI/ControlBatch", PBID="501")
    entry = mi.one("ARS200MI/GetInvoice", YEA4="2026", JRNO=ledger["JRNO"], JSNO=ledger["JSNO"])
    assert (entry["RECO"], entry["REDE"], entry["CUAM"]) == ("9", "20260320", "100.00")
    assert mi.records("ARS200MI/LstInvoices", CUNO=customer, AAC0="1") == []
    assert mi.one("OIS350MI/GetInvHead", YEA4="2026", IVNO=str(invoiced["IVNO"]))["RAFC"] == "0.00"

    rows = mi.records(
        "EXPORTMI/Select",
        QERY=f"ESCINO, ESTRCD, ESCUAM, ESRECO from FSLEDG where ESCUNO = '{customer}'",
        SEPC=";",
    )
    assert sorted(r["REPL"] for r in rows) == [
        f"{invoiced['CINO']};10;100.00;9",
        f"{invoiced['CINO']};20;-100.00;9",
    ]


def test_payment_for_unknown_invoice_is_refused(mi: MI, customer: str) -> None:
    mi.one("ARS040MI/AddBatchHead", PBID="502", BOPE=mi.info["defaults"]["BOPE"])
    response = mi.get(
        "ARS040MI/AddBatchLine", PBID="502", TRNO="1", CINO="999999", INYR="2026", CUNO=customer, PYAM="1.00"
    )
    assert response.status_code == 400 and response.json()["errorField"] == "CINO"


def test_gl_batch_posts_a_balanced_voucher_readable_through_gls200mi(mi: MI) -> None:
    mi.records("CRS630MI/AddAccountID", AITP="1", AITM="6200", TX40="Office supplies")
    assert mi.one("CRS630MI/GetAccountID", AITP="1", AITM="6200")["TX40"] == "Office supplies"
    mi.records("GLS840MI/AddBatchHead", CONO="100", KEY1="EXP-1", INTN="FINSYNC", DESC="Expense E0001")
    mi.records(
        "GLS840MI/AddBatchLine",
        CONO="100",
        KEY1="EXP-1",
        LINE="1",
        PARM="AIT1=6200;ACDT=20260310;CUAM=42.50;CUCD=USD;VTXT=Staples",
    )
    mi.records(
        "GLS840MI/AddBatchLine",
        CONO="100",
        KEY1="EXP-1",
        LINE="2",
        PARM="AIT1=1100;ACDT=20260310;CUAM=-42.50;CUCD=USD;VTXT=Staples",
    )
    mi.records("GLS840MI/UpdBatch", CONO="100", KEY1="EXP-1")
    lines = mi.records("GLS200MI/LstVouchersByDt", FRDT="20260310", TODT="20260310")
    assert sorted((r["AIT1"], r["CUAM"], r["VDSC"]) for r in lines) == [
        ("1100", "-42.50", "Expense E0001"),
        ("6200", "42.50", "Expense E0001"),
    ]
    head = mi.one("GLS200MI/GetVoucherHead", DIVI=mi.info["division"], YEA4="2026", VONO=lines[0]["VONO"])
    assert (head["DSUM"], head["CSUM"]) == ("42.50", "-42.50")


def test_gl_line_on_unknown_account_is_refused(mi: MI) -> None:
    mi.records("GLS840MI/AddBatchHead", CONO="100", KEY1="EXP-2", INTN="FINSYNC", DESC="Bad account")
    response = mi.get(
        "GLS840MI/AddBatchLine", CONO="100", KEY1="EXP-2", LINE="1", PARM="AIT1=9999;ACDT=20260310;CUAM=1.00"
    )
    assert response.status_code == 400
    assert "9999" in response.json()["errorMessage"] and response.json()["errorField"] == "PARM"


def test_unbalanced_gl_batch_is_refused(mi: MI) -> None:
    mi.records("GLS840MI/AddBatchHead", CONO="100", KEY1="EXP-3", INTN="FINSYNC", DESC="One-sided")
    mi.records(
        "GLS840MI/AddBatchLine", CONO="100", KEY1="EXP-3", LINE="1", PARM="AIT1=1100;ACDT=20260310;CUAM=5"
    )
    response = mi.get("GLS840MI/UpdBatch", CONO="100", KEY1="EXP-3")
    assert response.status_code == 400 and "balance" in response.json()["errorMessage"]


def test_items_and_change_dates(mi: MI, infor_sandbox_empty: RunningSandboxes) -> None:
    mi.records(
        "MMS200MI/AddItmBasic",
        STAT="20",
        ITNO="NEW-ITEM",
        ITDS="New item",
        RESP="X",
        UNMS="EA",
        ITTY="FG",
        MABU="2",
        PRVG="01",
    )
    today = infor_sandbox_empty.state("infor").clock.now().strftime("%Y%m%d")
    assert mi.one("MMS200MI/GetItmBasic", ITNO="NEW-ITEM")["LMDT"] == today
    changed = mi.records("MMS200MI/LstItmByChgDate", FLMD=today, TLMD=today)
    assert [i["ITNO"] for i in changed] == ["NEW-ITEM"]
    assert (
        mi.get(
            "MMS200MI/AddItmBasic",
            STAT="20",
            ITNO="NEW-ITEM",
            ITDS="x",
            RESP="X",
            UNMS="EA",
            ITTY="FG",
            MABU="2",
            PRVG="01",
        ).json()["errorField"]
        == "ITNO"
    )
