"""The demo and scale seeds, read back over the API the way the sync reads them.

The demo seed must describe the same business as the FreshBooks demo with exactly the planted
discrepancies, and say where they are (``demo-truth.json``); the scale seed must be the same on every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from finsync_dagster.sandbox.demo_business import demo_business
from finsync_dagster.sandbox.infor.models import InforState
from finsync_dagster.sandbox.infor.seed import seed
from finsync_dagster.sandbox.runner import RunningSandboxes
from tests.sandbox.infor.mi_http import MI, mi_client


@pytest.fixture(scope="module")
def mi(infor_sandbox: RunningSandboxes) -> Iterator[MI]:
    with mi_client(infor_sandbox) as client:
        yield client


def _planted(kind: str) -> dict[str, str]:
    return next(p for p in demo_business().truth()["planted"] if p["kind"] == kind)


def test_truth_file_is_written_and_names_infor_ids(infor_sandbox: RunningSandboxes) -> None:
    truth = json.loads((infor_sandbox.dir / "demo-truth.json").read_text(encoding="utf-8"))
    assert truth["planted"] == demo_business().truth()["planted"]
    assert truth == infor_sandbox.state("infor").truth
    assert truth["infor_refs"]["customers"]["C001"] == "10001"


def test_every_infor_order_carries_its_freshbooks_number(mi: MI) -> None:
    rows = mi.records("EXPORTMI/Select", QERY="OACUOR from OOHEAD", SEPC=";", maxrecs=0)
    assert sorted(r["REPL"] for r in rows) == sorted(i.number for i in demo_business().infor.invoices)


def test_respelled_customer_differs_only_in_name(mi: MI) -> None:
    planted = _planted("customer_name_differs")
    infor = next(c for c in demo_business().infor.customers if c.key == planted["infor_ref"])
    fb = next(c for c in demo_business().freshbooks.customers if c.key == planted["freshbooks_ref"])
    record = mi.one("CRS610MI/GetBasicData", CUNO=str(10000 + int(infor.key[1:])))
    assert record["CUNM"] == infor.organization != fb.organization
    assert record["MAIL"] == fb.email


def test_missing_customer_and_invoice_are_absent(mi: MI) -> None:
    lonely = _planted("customer_missing_in_infor")["freshbooks_ref"]
    assert mi.get("CRS610MI/GetBasicData", CUNO=str(10000 + int(lonely[1:]))).status_code == 400
    missing = _planted("invoice_missing_in_infor")["freshbooks_ref"]
    assert mi.records("EXPORTMI/Select", QERY=f"OAORNO from OOHEAD where OACUOR = '{missing}'") == []


def test_amount_off_by_cents_shows_in_the_order_total(mi: MI, infor_sandbox: RunningSandboxes) -> None:
    number = _planted("invoice_amount_differs")["infor_ref"]
    orno = infor_sandbox.state("infor").truth["infor_refs"]["orders"][number]["ORNO"]
    fb_total = demo_business().freshbooks.invoice(number).total
    infor_total = demo_business().infor.invoice(number).total
    head = mi.one("OIS100MI/GetHead", ORNO=orno)
    assert head["BRAM"] == str(infor_total) and infor_total != fb_total


def test_duplicated_payment_is_posted_twice(mi: MI, infor_sandbox: RunningSandboxes) -> None:
    planted = _planted("payment_duplicated_in_infor")
    payment = next(p for p in demo_business().freshbooks.payments if p.key == planted["freshbooks_ref"])
    order = infor_sandbox.state("infor").truth["infor_refs"]["orders"][payment.invoice_number]
    rows = mi.records(
        "EXPORTMI/Select",
        SEPC=";",
        QERY=f"ESCKNO, ESCUAM from FSLEDG where ESCINO = '{order['CINO']}' and ESTRCD = 20",
    )
    assert sorted(r["REPL"] for r in rows) == sorted(
        [f"{payment.key};-{payment.amount}", f"{planted['infor_ref']};-{payment.amount}"]
    )


def test_orders_exist_in_every_state_and_stock_matches_the_business(mi: MI) -> None:
    statuses = {r["REPL"] for r in mi.records("EXPORTMI/Select", QERY="OAORST from OOHEAD", maxrecs=0)}
    assert statuses == {"22", "66", "77"}
    item = next(i for i in demo_business().items if i.qty_on_hand > 0)
    balance = mi.one("MMS200MI/GetItmWhsBal", WHLO=mi.info["defaults"]["WHLO"], ITNO=item.sku)
    assert balance["STQT"] == str(item.qty_on_hand)
    assert mi.info["defaults"]["ITNO"] == item.sku


def test_expenses_are_balanced_gl_vouchers_on_the_category_account(mi: MI) -> None:
    expense = demo_business().infor.expenses[0]
    account = next(c.gl_account for c in demo_business().expense_categories if c.name == expense.category)
    day = expense.date.strftime("%Y%m%d")
    lines = [
        r
        for r in mi.records("GLS200MI/LstVouchersByDt", FRDT=day, TODT=day, maxrecs=0)
        if r["VDSC"].startswith(expense.key + " ")
    ]
    assert sorted((r["AIT1"], r["CUAM"]) for r in lines) == sorted(
        [(account, str(expense.amount)), ("1100", f"-{expense.amount}")]
    )


def test_scale_seed_is_deterministic_and_fast() -> None:
    first, second = InforState("T"), InforState("T")
    seed(first, "empty", scale=300)
    seed(second, "empty", scale=300)
    a, b = first.company(), second.company()
    assert len(a.table("OOHEAD")) == 300
    assert list(a.table("OOLINE").scan()) == list(b.table("OOLINE").scan())
    assert {h["ORST"] for h in a.table("OOHEAD").scan()} == {"22", "66", "77"}
    assert any(r["RECO"] == "9" for r in a.table("FSLEDG").scan())


def test_unknown_seed_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown Infor seed"):
        seed(InforState("T"), "nonsense")


def test_the_demo_seed_holds_the_first_two_bill_vendors_as_suppliers(
    mi: MI, infor_sandbox: RunningSandboxes
) -> None:
    vendors = demo_business().vendors
    suppliers = mi.records("CRS620MI/LstByNumber", SUNO="0")
    assert [(s["SUNO"], s["SUNM"]) for s in suppliers] == [
        ("50001", vendors[0].name),
        ("50002", vendors[1].name),
    ]
    assert infor_sandbox.state("infor").truth["infor_refs"]["suppliers"] == {"V01": "50001", "V02": "50002"}


def test_the_empty_seed_holds_no_supplier_and_no_supplier_invoice() -> None:
    state = InforState("T")
    seed(state, "empty")
    company = state.company()
    assert company is not None
    assert [len(company.table(name)) for name in ("CIDMAS", "FAPIBH", "FPLEDG")] == [0, 0, 0]
