"""Procure-to-pay on the read side: bill vendors, bills and their lines, M3 suppliers and AP invoices.

Both systems map into ``core.suppliers``/``core.bills``/``core.bill_lines`` (payables positive, money
exact), and reconciliation pairs them crosswalk first, then by supplier number, name, and the supplier's
invoice number; a bill whose M3 total differs is matched with the difference in cents.
"""

from __future__ import annotations

import json
from decimal import Decimal

from finsync_dagster.core.store import replace_core_table
from finsync_dagster.mapping.engine import build_core
from finsync_dagster.recon import match_bills, match_suppliers, replace_match_table


def _build(con, *entities: str) -> dict[str, list[dict]]:
    built = {}
    for entity in entities:
        build = build_core(entity, con)
        assert build.rejects.num_rows == 0, build.rejects.to_pylist()
        replace_core_table(con, entity, build.table)
        built[entity] = build.table.to_pylist()
    return built


def test_both_systems_map_into_suppliers_bills_and_lines(warehouse) -> None:
    built = _build(warehouse, "suppliers", "bills", "bill_lines")
    suppliers = {(r["source"], r["source_id"]): r for r in built["suppliers"]}
    vendor, supplier = suppliers["freshbooks", "60001"], suppliers["infor", "50001"]
    assert (vendor["name"], vendor["supplier_number"], vendor["email"], vendor["country_code"]) == (
        "Air Canada", "FBV60001", "ap@aircanada.example", "CA",
    )  # fmt: skip
    assert (vendor["currency_code"], supplier["name"], supplier["supplier_number"]) == (
        "CAD",
        "Air Canada",
        "50001",
    )
    bills = {r["source"]: r for r in built["bills"]}
    assert (bills["freshbooks"]["bill_number"], bills["freshbooks"]["total_amount"]) == (
        "AC-981",
        Decimal("113.00"),
    )
    # M3 keeps a payable negative; core keeps every bill positive.
    assert (bills["infor"]["total_amount"], bills["infor"]["tax_amount"]) == (
        Decimal("113.00"),
        Decimal("13.00"),
    )
    [line] = built["bill_lines"]
    assert (line["bill_source_id"], line["gl_account"], line["line_amount"]) == (
        "40001",
        "6100",
        Decimal("100.00"),
    )


def test_suppliers_then_bills_pair_and_a_different_total_is_a_difference(warehouse) -> None:
    _build(warehouse, "suppliers", "bills")
    suppliers = match_suppliers(warehouse).to_pylist()
    assert [(r["freshbooks_id"], r["infor_id"], r["rule"], r["status"]) for r in suppliers] == [
        ("60001", "50001", "name", "matched")
    ]
    replace_match_table(warehouse, "suppliers", match_suppliers(warehouse))
    [bill] = match_bills(warehouse).to_pylist()
    assert (bill["freshbooks_id"], bill["infor_id"], bill["rule"], bill["status"]) == (
        "40001", "2024-5-1", "supplier_and_number", "matched",
    )  # fmt: skip
    warehouse.execute("UPDATE core.bills SET total_amount = 112.99 WHERE source = 'infor'")
    [bill] = match_bills(warehouse).to_pylist()
    assert bill["status"] == "matched_with_differences" and bill["amount_at_stake"] == Decimal("0.01")
    assert json.loads(bill["differences"])[0]["field"] == "total_amount"


def test_the_crosswalk_comes_first_and_an_unpaired_record_is_missing(warehouse) -> None:
    _build(warehouse, "suppliers", "bills")
    warehouse.execute("UPDATE core.suppliers SET name = 'AC Cargo' WHERE source = 'infor'")
    unpaired = {r["status"] for r in match_suppliers(warehouse).to_pylist()}
    assert unpaired == {"missing_in_infor", "missing_in_freshbooks"}
    [pair] = match_suppliers(warehouse, crosswalk=[("60001", "50001")]).to_pylist()
    assert (pair["rule"], pair["status"]) == ("crosswalk", "matched")
    warehouse.execute("UPDATE core.bills SET bill_number = 'other' WHERE source = 'infor'")
    [bill] = match_bills(warehouse, crosswalk=[("40001", "2024-5-1")]).to_pylist()
    assert (bill["rule"], bill["status"]) == ("crosswalk", "matched")
