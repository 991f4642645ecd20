"""Row rules and quarantine: each planted bad record lands in quarantine under its rule, is held back from
the core, keeps its first_seen while it stays bad and leaves once fixed; only a broken batch fails."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import duckdb
import pytest

from finsync_dagster.mapping import build_core, load_specs
from finsync_dagster.quality import validate_and_quarantine, validate_table
from finsync_dagster.staging import freshbooks_tables as fb
from tests.quality.builders import (
    FRESHBOOKS,
    INFOR,
    NOW,
    invoice,
    m3_row,
    payment,
    stage,
    stage_invoices,
)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def quarantine(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return set(
        con.execute("SELECT record_id, rule FROM quality.quarantine WHERE record_id IS NOT NULL").fetchall()
    )


def check(con: duckdb.DuckDBPyConnection, table: str, threshold: float = 1.0, now=NOW):
    return validate_and_quarantine(
        con, FRESHBOOKS.get(table) or INFOR[table], pair="test", threshold=threshold, now=now
    )


def test_invoice_whose_amount_is_not_its_lines_plus_tax_is_quarantined_and_kept_out_of_core(con) -> None:
    stage_invoices(
        con,
        [invoice(1), invoice(2, amount="110.01"), invoice(3, amount="231.00", lines=("100.00", "110.00"))],
    )
    result = check(con, "freshbooks_invoices")
    assert quarantine(con) == {("2", "invoice_total_matches_lines")}
    assert result.passed and result.quarantined == 1
    reason = con.execute("SELECT reason, raw->>'$.invoice_number' FROM quality.quarantine").fetchone()
    assert reason == ("amount 110.01 is not lines 100.00 + tax 10.00 - discount 0.00 = 110.00", "FS-2")
    specs = [
        s
        for s in load_specs()
        if s.source in ("staging.freshbooks_invoices", "staging.freshbooks_invoice_lines")
    ]
    core_invoices = build_core("invoices", con, specs).table.column("source_id").to_pylist()
    core_lines = build_core("invoice_lines", con, specs).table.column("invoice_source_id").to_pylist()
    assert sorted(core_invoices) == ["1", "3"]
    assert "2" not in core_lines and "3" in core_lines


def test_paid_plus_outstanding_must_be_the_amount(con) -> None:
    bad = invoice(4, paid="50.00")
    bad["outstanding"]["amount"] = "70.00"
    stage_invoices(con, [invoice(1), bad])
    check(con, "freshbooks_invoices")
    assert quarantine(con) == {("4", "paid_plus_outstanding_is_amount")}


def test_a_record_stays_with_its_first_seen_and_leaves_once_fixed(con) -> None:
    stage_invoices(con, [invoice(1), invoice(2, amount="999.00")])
    check(con, "freshbooks_invoices")
    check(con, "freshbooks_invoices", now=NOW + timedelta(hours=1))
    first, last = con.execute("SELECT first_seen, last_seen FROM quality.quarantine").fetchone()
    assert last - first == timedelta(hours=1)
    stage_invoices(con, [invoice(2, updated="2026-10-02 10:00:00")])
    check(con, "freshbooks_invoices", now=NOW + timedelta(hours=2))
    assert quarantine(con) == set()
    assert con.execute("SELECT count(*) FROM quality.held").fetchone() == (0,)


def test_wrong_typed_values_and_bad_currency_are_quarantined_not_fatal(con) -> None:
    wrong_amount = invoice(5)
    wrong_amount["amount"] = {"amount": "one hundred", "code": "USD"}
    stage_invoices(con, [invoice(1), wrong_amount, invoice(6, customer="abc"), invoice(7, currency="XYZ")])
    result = check(con, "freshbooks_invoices")
    found = quarantine(con)
    assert ("5", "value_has_its_type") in found and ("5", "required_value") in found
    assert ("6", "value_has_its_type") in found
    assert ("7", "allowed_value") in found
    reason = con.execute(
        "SELECT reason FROM quality.quarantine WHERE record_id = '7' AND rule = 'allowed_value'"
    ).fetchone()[0]
    assert "currency_code 'XYZ' is not a valid ISO 4217 currency code" in reason
    assert (
        "wrong type in customerid"
        in con.execute(
            "SELECT reason FROM quality.quarantine WHERE record_id = '6' AND rule = 'value_has_its_type'"
        ).fetchone()[0]
    )
    assert result.quarantined == 3 and not result.integrity


def test_payment_of_a_missing_invoice(con) -> None:
    stage_invoices(con, [invoice(1)])
    stage(con, fb.PAYMENTS, [payment(10, 1, "110.00"), payment(11, 999, "5.00")])
    check(con, "freshbooks_payments")
    assert quarantine(con) == {("11", "payment_invoice_exists")}


def test_infor_rules_item_of_an_order_line_receipt_invoice_and_m3_field_length(con) -> None:
    stage(con, INFOR["infor_items"], [m3_row(ITNO="A1", ITDS="Widget")])
    stage(con, INFOR["infor_orders"], [m3_row(ORNO="1001", CUNO="C1", CUCD="USD", ORDT="20261001")])
    stage(
        con,
        INFOR["infor_order_lines"],
        [
            m3_row(ORNO="1001", PONR="1", POSX="0", ITNO="A1"),
            m3_row(ORNO="1001", PONR="2", POSX="0", ITNO="NOPE"),
        ],
    )
    stage(con, INFOR["infor_customers"], [m3_row(CUNO="C1", CUNM="A" * 37, CUCD="USD")])
    stage(
        con,
        INFOR["infor_invoices"],
        [m3_row(CINO="9", INYR="2026", CUNO="C1", CUCD="USD", CUAM="10", IVDT="20261001")],
    )
    stage(
        con,
        INFOR["infor_payments"],
        [
            m3_row(
                CINO="8",
                INYR="2026",
                CUNO="C1",
                CUCD="USD",
                CUAM="-10",
                ACDT="20261002",
                YEA4="2026",
                JRNO="1",
                JSNO="1",
            )
        ],
    )
    for table in ("infor_order_lines", "infor_customers", "infor_payments"):
        check(con, table)
    assert quarantine(con) == {
        ("1001-2-0", "order_line_item_exists"),
        ("C1", "field_length"),
        ("2026-1-1", "payment_invoice_exists"),
    }


def test_batch_fails_above_the_threshold_and_when_integrity_breaks(con) -> None:
    stage_invoices(con, [invoice(1), invoice(2, amount="1.00"), invoice(3)])
    assert not check(con, "freshbooks_invoices", threshold=0.2).passed
    assert check(con, "freshbooks_invoices", threshold=0.5).passed
    con.execute("ALTER TABLE staging.freshbooks_invoices DROP COLUMN currency_code")
    broken = validate_table(con, FRESHBOOKS["freshbooks_invoices"], threshold=1.0)
    assert not broken.passed
    assert "column currency_code is missing" in broken.summary()
