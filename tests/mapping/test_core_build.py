"""Both systems' staging tables become one canonical table per entity, tagged with where each row came from.

Reconciliation compares these rows across systems, so types must be exact (money DECIMAL to the cent,
times in UTC) and a record deleted at the source must not appear.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa

from finsync_dagster.core import model as core_model
from finsync_dagster.core.store import replace_core_table
from finsync_dagster.mapping.engine import build_core, preview
from finsync_dagster.mapping.registry import load_specs, specs_for
from tests.mapping.staging import FRESHBOOKS_CLIENTS, FRESHBOOKS_INVOICES


def _by_id(table: pa.Table) -> dict[tuple[str, str], dict]:
    return {(r["source"], r["source_id"]): r for r in table.to_pylist()}


def test_customers_from_both_systems_with_enrichment_conditions_and_lookups(warehouse) -> None:
    build = build_core("customers", warehouse)
    rows = _by_id(build.table)
    assert set(rows) == {("freshbooks", "101"), ("freshbooks", "102"), ("infor", "C1001")}  # 103 is deleted
    northwind, grace, contoso = rows["freshbooks", "101"], rows["freshbooks", "102"], rows["infor", "C1001"]
    assert (northwind["name"], northwind["country_code"], northwind["email"]) == (
        "Northwind Traders",
        "CA",
        "ap@northwind.example",
    )
    assert (northwind["segment"], northwind["customer_group"], northwind["customer_template"]) == (
        "ENTERPRISE",
        "KEY",
        "TKEY",
    )
    assert (grace["name"], grace["currency_code"], grace["customer_group"]) == ("Grace Hopper", "USD", "SMB")
    assert (contoso["first_name"], contoso["last_name"], contoso["country_code"]) == (
        "Lars",
        "Petter Ek",
        "SE",
    )
    assert contoso["address_line3"] == "Box 12" and contoso["segment"] == "MIDMARKET"
    assert build.rejects.num_rows == 0


def test_invoices_keep_money_exact_and_dates_typed(warehouse) -> None:
    build = build_core("invoices", warehouse)
    assert build.table.schema == core_model.arrow_schema("invoices")
    assert build.table.schema.field("total_amount").type == pa.decimal128(18, 2)
    assert build.table.schema.field("updated_at").type == pa.timestamp("us", tz="UTC")
    rows = _by_id(build.table)
    fb = rows["freshbooks", "5001"]
    assert (fb["total_amount"], fb["paid_amount"], fb["outstanding_amount"]) == (
        Decimal("41.94"),
        Decimal("20.00"),
        Decimal("21.94"),
    )
    assert (fb["status"], fb["customer_source_id"], fb["issue_date"]) == ("partial", "101", date(2024, 2, 1))
    m3 = rows["infor", "2024-1-1"]
    assert (m3["invoice_number"], m3["total_amount"], m3["currency_code"], m3["status"]) == (
        "330001",
        Decimal("15000.00"),
        "SEK",
        "sent",
    )


def test_payments_method_from_gateway_or_type_and_m3_credits_turned_positive(warehouse) -> None:
    rows = _by_id(build_core("payments", warehouse).table)
    assert rows["freshbooks", "9001"]["method"] == "CHK"
    assert rows["freshbooks", "9002"]["method"] == "CRD"  # the stripe gateway wins over "Credit Card"
    m3 = rows["infor", "2024-9-1"]
    assert (m3["amount"], m3["payment_date"], m3["reference"]) == (
        Decimal("5000.00"),
        date(2024, 3, 1),
        "BG-4711",
    )
    assert ("infor", "2024-9-2") not in rows


def test_expenses_take_category_from_a_warehouse_table_and_gl_account_from_the_lookup(warehouse) -> None:
    rows = _by_id(build_core("expenses", warehouse).table)
    assert (rows["freshbooks", "701"]["category"], rows["freshbooks", "701"]["gl_account"]) == (
        "Travel",
        "6100",
    )
    assert rows["infor", "2024-1-77"]["gl_account"] == "6100"
    assert ("infor", "2024-1-78") not in rows  # the bank side of the voucher is not an expense


def test_every_entity_builds_from_frames_as_well_as_from_a_connection(warehouse) -> None:
    frames = {
        "staging.freshbooks_invoices": warehouse.sql(
            "SELECT * FROM staging.freshbooks_invoices"
        ).to_arrow_table()
    }
    specs = [s for s in load_specs() if s.name == "freshbooks_invoices"]
    build = build_core("invoices", frames, specs)
    assert sorted(build.table.column("source_id").to_pylist()) == [i["id"] for i in FRESHBOOKS_INVOICES]
    for entity in core_model.ENTITIES:
        assert build_core(entity, warehouse).table.num_rows > 0, entity


def test_a_bad_row_is_quarantined_with_its_reason_and_the_rest_still_build(warehouse) -> None:
    warehouse.execute("UPDATE staging.freshbooks_invoices SET status = 42 WHERE id = '5002'")
    build = build_core("invoices", warehouse)
    assert ("freshbooks", "5001") in _by_id(build.table)
    assert build.rejects.to_pylist() == [
        {
            "spec": "freshbooks_invoices",
            "source_id": "5002",
            "errors": "status (invoices.yaml:21): no 'map' entry for 42",
        }
    ]


def test_core_table_is_replaced_whole(warehouse) -> None:
    replace_core_table(warehouse, "customers", build_core("customers", warehouse).table)
    warehouse.execute("DELETE FROM staging.freshbooks_clients WHERE id = '102'")
    replace_core_table(warehouse, "customers", build_core("customers", warehouse).table)
    ids = {r[0] for r in warehouse.execute("SELECT source_id FROM core.customers").fetchall()}
    assert ids == {"101", "C1001"}


def test_preview_shows_the_source_fields_a_spec_reads_beside_the_result(warehouse) -> None:
    (spec,) = specs_for(load_specs(), "freshbooks_customers")
    (first, second) = preview(spec, warehouse, limit=2)
    source, mapped, errors = first
    assert source["id"] == "101" and source["organization"] == FRESHBOOKS_CLIENTS[0]["organization"]
    assert (
        "_raw" not in source and mapped is not None and mapped["name"] == "Northwind Traders" and errors == ""
    )
    assert second[1]["updated_at"] == datetime(2024, 3, 1, 12, tzinfo=UTC)
