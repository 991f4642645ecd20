"""Planning procure-to-pay: vendors missing in M3 become CRS620MI adds, their bills APS450MI batches that
wait for them; keys are deterministic, and a bill M3 could not approve is never entered."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from finsync_dagster.mapping import load_specs
from finsync_dagster.recon import match_bills, match_suppliers, replace_match_table
from finsync_dagster.writeback import Context, Plan, Rules, WriteBackConfig, plan
from tests.recon.core_db import core_db

SPECS = {spec.name: spec for spec in load_specs()}
STAMP = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def vendor(source_id: str, name: str, source: str = "freshbooks") -> dict[str, Any]:
    number = f"FBV{source_id}" if source == "freshbooks" else source_id
    return {"source": source, "source_id": source_id, "name": name, "supplier_number": number,
            "currency_code": "USD", "country_code": "US", "updated_at": STAMP}  # fmt: skip


def bill(source_id: str, supplier: str, number: str, total: str, tax: str = "0.00") -> dict[str, Any]:
    return {"source": "freshbooks", "source_id": source_id, "bill_number": number, "supplier_source_id": supplier,
            "issue_date": date(2026, 11, 2), "due_date": date(2026, 12, 2), "currency_code": "USD",
            "total_amount": Decimal(total), "tax_amount": Decimal(tax), "status": "unpaid", "updated_at": STAMP}  # fmt: skip


def line(bill_id: str, number: int, amount: str, account: str | None = "6100") -> dict[str, Any]:
    return {"source": "freshbooks", "source_id": f"{bill_id}-{number}", "bill_source_id": bill_id,
            "line_number": number, "gl_account": account, "description": "Flights", "line_amount": Decimal(amount),
            "currency_code": "USD"}  # fmt: skip


def reconciled(**tables: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    con = core_db(**tables)
    replace_match_table(con, "suppliers", match_suppliers(con))
    replace_match_table(con, "bills", match_bills(con))
    return con


def planned(con: duckdb.DuckDBPyConnection, config: WriteBackConfig | None = None) -> Plan:
    return plan(con, Context(pair="acme", config=config or WriteBackConfig(), specs=SPECS, company="100"))


def test_a_new_vendor_and_its_bill_become_a_supplier_add_and_a_batch_that_waits_for_it() -> None:
    con = reconciled(
        suppliers=[vendor("60001", "Delta Air Lines")],
        bills=[bill("40001", "60001", "B-17", "112.00", tax="12.00")],
        bill_lines=[line("40001", 2, "60.00"), line("40001", 1, "40.00")],
    )
    supplier, invoice = planned(con).actions
    assert (supplier.action, supplier.stamp, supplier.payload["SUNO"], supplier.payload["SUNM"]) == (
        "m3.supplier.add", "FBV60001", "FBV60001", "Delta Air Lines",
    )  # fmt: skip
    assert (invoice.action, invoice.stamp, invoice.depends_on) == (
        "m3.supplier_invoice.add",
        "B-17",
        supplier.key,
    )
    head = invoice.payload["head"]
    assert (head["SUNO"], head["SPYN"], head["SINO"], head["IVDT"]) == (
        "FBV60001",
        "FBV60001",
        "B-17",
        "20261102",
    )
    assert Decimal(str(head["CUAM"])) == Decimal("112.00") and Decimal(str(head["VTAM"])) == Decimal("12.00")
    assert [(ln["TRNO"], Decimal(str(ln["NLAM"])), ln["AO01"]) for ln in invoice.payload["lines"]] == [
        ("1", Decimal("40.00"), "6100"), ("2", Decimal("60.00"), "6100"),
    ]  # fmt: skip
    again = planned(con).actions
    assert [a.key for a in again] == [supplier.key, invoice.key]  # deterministic keys


def test_a_bill_of_a_matched_supplier_is_keyed_to_that_supplier_and_waits_for_nothing() -> None:
    con = reconciled(
        suppliers=[vendor("60001", "Delta Air Lines"), vendor("50001", "Delta Air Lines", source="infor")],
        bills=[bill("40001", "60001", "B-17", "40.00")],
        bill_lines=[line("40001", 1, "40.00")],
    )
    [invoice] = planned(con).actions
    assert (invoice.payload["head"]["SUNO"], invoice.depends_on) == ("50001", None)


def test_an_unbalanced_or_unmappable_bill_is_refused_at_planning_never_entered() -> None:
    con = reconciled(
        suppliers=[vendor("60001", "Delta Air Lines")],
        bills=[bill("40001", "60001", "B-17", "41.00"), bill("40002", "60001", "B-18", "10.00")],
        bill_lines=[line("40001", 1, "40.00"), line("40002", 1, "10.00", account=None)],
    )
    _, unbalanced, unmapped = planned(con).actions
    assert (
        "does not balance: lines 40.00 plus tax 0.00 is not its total 41.00" in unbalanced.payload["_refused"]
    )
    assert "AO01" in unmapped.payload["_refused"]


def test_two_bills_of_one_vendor_with_one_number_are_left_to_a_person_and_rules_can_turn_it_off() -> None:
    con = reconciled(
        suppliers=[vendor("60001", "Delta Air Lines")],
        bills=[bill("40001", "60001", "B-17", "40.00"), bill("40002", "60001", "B-17", "40.00")],
        bill_lines=[line("40001", 1, "40.00"), line("40002", 1, "40.00")],
    )
    result = planned(con)
    assert [a.action for a in result.actions] == ["m3.supplier.add"]
    assert {left.source_id for left in result.left} == {"40001", "40002"}
    off = WriteBackConfig(rules=Rules(suppliers_to_m3="off", bills_to_m3="review"))
    result = planned(con, off)
    assert result.actions == [] and all("vendor is not an M3 supplier" in left.reason for left in result.left)
