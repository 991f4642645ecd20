"""Pushing procure-to-pay to the real Infor sandbox: suppliers (CRS620MI) and supplier invoices (APS450MI).

Planned by the real planner from reconciled core tables, sent by the real pusher through the production
client. A bill waits for its supplier, lands as one approved batch whose voucher balances, and is linked
in the crosswalk; answers lost after commit (``commit_then_timeout``) and a pusher that died after the
head resume at the first unfinished step and never duplicate a batch.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from finsync_dagster.ledger import Ledger, State
from finsync_dagster.ledger.holders import _boot_id, _host
from finsync_dagster.push.runner import Pusher
from finsync_dagster.resources.infor import InforResource, M3Client
from finsync_dagster.sandbox.runner import RunningSandboxes, SandboxOptions, running_sandboxes
from finsync_dagster.writeback import WriteBackConfig
from tests.sandbox.infor.m3 import FAST, control, m3_client
from tests.writeback.test_planner_procure import bill, line, planned, reconciled, vendor

PAIR = "acme"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandboxes]:
    options = SandboxOptions(dir=tmp_path_factory.mktemp("p2p-push"), seed="empty")
    with running_sandboxes(options, ["infor"]) as running:
        with m3_client(running) as m3:
            for code in ("6100", "6200"):
                m3.execute(program="CRS630MI", transaction="AddAccountID",
                           params={"AITP": 1, "AITM": code, "TX40": f"Cost {code}"})  # fmt: skip
        yield running


@pytest.fixture
def m3(sandbox: RunningSandboxes) -> Iterator[M3Client]:
    with m3_client(sandbox) as client:
        yield client
    control(sandbox, "DELETE", "faults")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    store = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", token_key=Fernet.generate_key().decode())
    store.migrate()
    yield store
    store.engine.dispose()


def pusher(sandbox: RunningSandboxes, ledger: Ledger, settle_seconds: float = 0.0) -> Pusher:
    info = sandbox.info["infor"]
    resource = InforResource(company=str(info["company"]), division=str(info["division"]),
                             ionapi_file=str(info["ionapi_file"]), token_key="sandbox", max_concurrency=4)  # fmt: skip
    token_ledger = Ledger(f"sqlite:///{Path(str(ledger.engine.url.database)).with_suffix('.tokens')}")
    token_ledger.migrate()
    return Pusher(ledger, PAIR, WriteBackConfig(), {"infor": lambda: resource.get_client(token_ledger, policy=FAST)},
                  company=str(info["company"]), settle_seconds=settle_seconds)  # fmt: skip


def plan_bills(
    ledger: Ledger, vendor_id: str, bills: dict[str, list[str]], m3_supplier: str | None = None
) -> None:
    """A vendor (new, or matched to ``m3_supplier``) and its bills (bill number -> line amounts, tax 10 %
    of the first line)."""
    rows, lines = [], []
    for n, (number, amounts) in enumerate(bills.items(), start=1):
        bill_id = f"{vendor_id}{n:02d}"
        tax = Decimal(amounts[0]) / 10
        total = sum((Decimal(a) for a in amounts), tax)
        rows.append(bill(bill_id, vendor_id, number, str(total), tax=str(tax)))
        lines += [line(bill_id, k, amount) for k, amount in enumerate(amounts, start=1)]
    suppliers = [vendor(vendor_id, f"Vendor {vendor_id}")]
    if m3_supplier is not None:
        suppliers.append(vendor(m3_supplier, f"Vendor {vendor_id}", source="infor"))
    con = reconciled(suppliers=suppliers, bills=rows, bill_lines=lines)
    actions = planned(con).actions
    assert all("_refused" not in a.payload for a in actions)
    ledger.plan(actions, planned_by="test")


def batches(m3: M3Client, suno: str, sino: str) -> list[dict]:
    rows = m3.execute(program="APS450MI", transaction="LstInvBySupInv",
                      params={"SPYN": suno, "SUNO": suno, "SINO": sino}, maxrecs=0)  # fmt: skip
    return [r for r in rows if str(r["SUPA"]) != "80"]


def posted(m3: M3Client, suno: str, sino: str) -> tuple[list[Decimal], list[Decimal]]:
    """The AP ledger amounts of one supplier invoice, and its GL voucher's lines."""
    ledger_rows = [
        row
        for chunk in m3.iter_export(
            table="FPLEDG", columns=["EPSUNO", "EPSINO", "EPCUAM", "EPVONO"], where=[("EPSINO", "=", sino)]
        )
        for row in chunk
        if str(row["EPSUNO"]).strip() == suno
    ]
    vouchers = {str(row["EPVONO"]).strip() for row in ledger_rows}
    gl = [
        Decimal(str(row["EGCUAM"]))
        for chunk in m3.iter_export(
            table="FGLEDG",
            columns=["EGVONO", "EGCUAM", "EGVDSC"],
            where=[("EGVDSC", "=", f"Supplier invoice {sino}")],
        )
        for row in chunk
        if str(row["EGVONO"]).strip() in vouchers
    ]
    return [Decimal(str(row["EPCUAM"])) for row in ledger_rows], gl


def assert_landed_once(m3: M3Client, suno: str, numbers: dict[str, list[str]]) -> None:
    for sino, amounts in numbers.items():
        [found] = batches(m3, suno, sino)
        [batch] = m3.execute(program="APS450MI", transaction="GetHead", params={"INBN": found["INBN"]})
        total = sum((Decimal(a) for a in amounts), Decimal(amounts[0]) / 10)
        assert (str(batch["SUPA"]), Decimal(str(batch["CUAM"]))) == ("90", total)
        lines = m3.execute(
            program="APS450MI", transaction="LstLines", params={"INBN": found["INBN"]}, maxrecs=0
        )
        assert len(lines) == len(amounts)
        ap, gl = posted(m3, suno, sino)
        assert ap == [-total] and sum(gl) == 0 and len(gl) == len(amounts) + 2  # costs, VAT, payables


def test_a_supplier_and_its_bills_land_once_the_bills_waiting_for_the_supplier(sandbox, m3, ledger) -> None:
    numbers = {"P1-A": ["40.00", "60.00"], "P1-B": ["12.30"]}
    plan_bills(ledger, "61001", numbers)
    states = {a.action: a.state for a in ledger.actions(pair=PAIR)}
    assert states == {"m3.supplier.add": State.PLANNED, "m3.supplier_invoice.add": State.BLOCKED}
    pusher(sandbox, ledger).run()
    actions = ledger.actions(pair=PAIR)
    assert {a.state for a in actions} == {State.DONE}
    [supplier] = m3.execute(program="CRS620MI", transaction="GetBasicData", params={"SUNO": "FBV61001"})
    assert supplier["SUNM"] == "Vendor 61001"
    assert_landed_once(m3, "FBV61001", numbers)
    links = {(link["entity"], link["freshbooks_id"]) for link in ledger.links(PAIR)}
    assert links == {("suppliers", "61001"), ("bills", "6100101"), ("bills", "6100102")}
    # Planning the same reconciliation again adds nothing, and a second push writes nothing.
    plan_bills(ledger, "61001", numbers)
    assert pusher(sandbox, ledger).run().states == {}


def test_answers_lost_after_commit_are_looked_up_and_never_duplicate(sandbox, m3, ledger) -> None:
    numbers = {f"P2-{n}": ["10.00", "20.00", "30.00"] for n in range(5)}
    plan_bills(ledger, "62001", numbers)
    control(sandbox, "PUT", "faults", {"rate": 0.5, "kinds": ["commit_then_timeout"], "seed": 7})
    for _ in range(4):
        pusher(sandbox, ledger).run()
    assert any(row["outcome"] == "in_doubt" for row in ledger.audit_rows(pair=PAIR))
    control(sandbox, "DELETE", "faults")
    pusher(sandbox, ledger, settle_seconds=120).run()
    assert {a.state for a in ledger.actions(pair=PAIR)} == {State.DONE}
    assert_landed_once(m3, "FBV62001", numbers)


def test_a_pusher_that_died_after_the_head_resumes_at_the_first_unfinished_step(sandbox, m3, ledger) -> None:
    m3.execute(program="CRS620MI", transaction="AddSupplier", params=SUPPLIER)  # matched: nothing to wait for
    numbers = {"P3-A": ["10.00", "20.00", "30.00"]}
    plan_bills(ledger, "63001", numbers, m3_supplier="S63001")
    [invoice] = ledger.actions(pair=PAIR)
    # A pusher entered the head and the first line, and was killed -9 before it recorded anything.
    [entered] = m3.execute(program="APS450MI", transaction="AddHead", params=invoice.payload["head"])
    m3.execute(program="APS450MI", transaction="AddLine",
               params={**invoice.payload["lines"][0], "INBN": entered["INBN"]})  # fmt: skip
    gone = subprocess.Popen(["true"])
    gone.wait()
    [claimed] = ledger.claim(
        pair=PAIR, target="infor", owner=f"{gone.pid}@{_host()}/{_boot_id()}/dead00000000"
    )
    assert claimed.key == invoice.key
    pusher(sandbox, ledger).run()
    [resumed] = ledger.actions(pair=PAIR)
    assert (resumed.state, resumed.target_id) == (State.DONE, str(entered["INBN"]).strip())
    assert_landed_once(m3, "S63001", numbers)
    calls = [row["call"] for row in ledger.audit_rows(pair=PAIR)]
    assert "APS450MI/AddHead" not in calls and calls.count("APS450MI/AddLine") == 2


SUPPLIER = {"SUNO": "S63001", "SUNM": "Vendor 63001", "SUTY": 0, "CSCD": "US", "DTFM": "YMD", "ORTY": "100",
            "DT4T": 1, "DTCD": 0, "CUCD": "USD", "CRTP": 1, "ATPR": "0"}  # fmt: skip
