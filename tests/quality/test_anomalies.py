"""Each anomaly rule fires on a planted case, with a score and an explanation a person can act on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import duckdb
import pytest

from finsync_dagster.quality import find_anomalies, refresh_anomalies, rule_summaries
from finsync_dagster.quality.anomalies import ANOMALY_RULES
from finsync_dagster.staging import freshbooks_tables as fb
from tests.quality.builders import (
    INFOR,
    NOW,
    category,
    client,
    expense,
    invoice,
    m3_row,
    payment,
    stage,
    stage_invoices,
)

TODAY = date(2026, 10, 31)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def flagged(
    con: duckdb.DuckDBPyConnection, table: str, today: date = TODAY
) -> dict[str, list[tuple[str, float, str]]]:
    found: dict[str, list[tuple[str, float, str]]] = {}
    for row in find_anomalies(con, table, today=today).to_pylist():
        assert 0 < row["score"] <= 1
        found.setdefault(row["rule"], []).append((row["record_id"], row["score"], row["explanation"]))
    return found


def test_suspected_duplicate_invoices(con) -> None:
    stage_invoices(con, [invoice(1), invoice(2, day="2026-10-03"), invoice(3, day="2026-10-20")])
    found = flagged(con, "freshbooks_invoices")
    assert sorted(r[0] for r in found["duplicate_suspected"]) == ["1", "2"]
    assert "invoice 1 looks like a duplicate of 2: same customerid 300001, same amount 110.00" in found[
        "duplicate_suspected"
    ][0][2] or ("invoice 2 looks like a duplicate of 1" in found["duplicate_suspected"][0][2])


def test_amount_far_above_the_customers_own_history(con) -> None:
    usual = [
        invoice(n, amount=f"{100 + n}.00", lines=(f"{100 + n}.00",), tax="0", day=f"2026-0{n}-01")
        for n in range(1, 8)
    ]
    big = invoice(9, amount="5000.00", lines=("5000.00",), tax="0", day="2026-09-15")
    other_customer = invoice(10, amount="5000.00", lines=("5000.00",), tax="0", customer=300002)
    stage_invoices(con, [*usual, big, other_customer])
    found = flagged(con, "freshbooks_invoices")
    assert [r[0] for r in found["amount_outlier"]] == ["9"]
    assert (
        "invoice 9 for 5000.00 USD is 47.8x the median of this customer's 8 records (104.50, usually within 2% of it)"
        in found["amount_outlier"][0][2]
    )


def test_payment_larger_than_its_invoice_and_non_positive_amounts(con) -> None:
    stage_invoices(con, [invoice(1), invoice(2, amount="0.00", lines=("0.00",))])
    stage(con, fb.PAYMENTS, [payment(10, 1, "150.00"), payment(11, 1, "-5.00", day="2026-10-20")])
    payments = flagged(con, "freshbooks_payments")
    assert [r[0] for r in payments["payment_exceeds_invoice"]] == ["10"]
    assert (
        payments["payment_exceeds_invoice"][0][2]
        == "payment 10 of 150.00 USD is larger than its invoice FS-1 (110.00)"
    )
    assert [r[0] for r in payments["amount_not_positive"]] == ["11"]
    assert [r[0] for r in flagged(con, "freshbooks_invoices")["amount_not_positive"]] == ["2"]


def test_currency_different_from_the_customers(con) -> None:
    stage(con, fb.CLIENTS, [client(300001, "USD")])
    stage_invoices(con, [invoice(1, day="2026-01-01"), invoice(2, currency="EUR")])
    found = flagged(con, "freshbooks_invoices")
    assert found["currency_differs_from_customer"] == [
        ("2", 0.7, "invoice 2 is in EUR but customer 300001 deals in USD")
    ]


def test_future_dated_and_long_stale_open_invoices(con) -> None:
    stage_invoices(
        con,
        [
            invoice(1, day="2026-12-15"),
            invoice(2, day="2025-06-01", updated="2025-06-01 10:00:00"),
            invoice(3, day="2025-06-02", updated="2025-06-02 10:00:00", paid="110.00"),  # paid: not open
            invoice(4, day="2026-10-30", updated="2026-10-30 10:00:00"),
        ],
    )
    found = flagged(con, "freshbooks_invoices")
    assert [r[0] for r in found["future_dated"]] == ["1"]
    assert "45 days after the run date 2026-10-31" in found["future_dated"][0][2]
    assert [r[0] for r in found["stale_open"]] == ["2"]


def test_expense_category_with_no_gl_account_in_the_infor_chart(con) -> None:
    stage(
        con,
        fb.EXPENSE_CATEGORIES,
        [category(1, "Travel"), category(2, "Llama grooming"), category(3, "Rent")],
    )
    stage(
        con,
        fb.EXPENSES,
        [expense(1, 1, vendor="Air"), expense(2, 2, vendor="Llamas"), expense(3, 3, vendor="Landlord")],
    )
    stage(con, INFOR["infor_gl_accounts"], [m3_row(AITM="6100", AITP="1", TX40="Travel")])  # no 6600 (rent)
    found = flagged(con, "freshbooks_expenses")
    assert sorted(r[0] for r in found["expense_category_without_gl"]) == ["2", "3"]
    reasons = {r[0]: r[2] for r in found["expense_category_without_gl"]}
    assert reasons["2"].endswith("which has no GL account in the mapping lookup")
    assert reasons["3"].endswith("mapped to GL account 6600, which is not in the Infor chart")


def test_infor_duplicate_receipts(con) -> None:
    rows = [
        m3_row(
            CINO="9",
            INYR="2026",
            CUNO="C1",
            CUCD="USD",
            CUAM="-10",
            ACDT="20261002",
            YEA4="2026",
            JRNO=str(n),
            JSNO="1",
        )
        for n in (1, 2)
    ]
    stage(con, INFOR["infor_payments"], rows)
    assert sorted(r[0] for r in flagged(con, "infor_payments")["duplicate_suspected"]) == [
        "2026-1-1",
        "2026-2-1",
    ]


def test_row_count_drop_against_history_and_anomalies_rebuilt_each_run(con) -> None:
    stage_invoices(con, [invoice(n, day=f"2026-0{n}-01") for n in range(1, 9)])
    for run in range(3):
        found = refresh_anomalies(
            con, "freshbooks_invoices", pair="test", today=TODAY, now=NOW + timedelta(hours=run)
        )
        assert found.num_rows == 0
    con.execute("UPDATE staging.freshbooks_invoices SET _deleted = TRUE WHERE id <> '1'")
    refresh_anomalies(con, "freshbooks_invoices", pair="test", today=TODAY, now=NOW + timedelta(hours=3))
    rows = con.execute("SELECT entity, pair, record_id, rule, explanation FROM quality.anomalies").fetchall()
    assert rows == [
        (
            "freshbooks_invoices",
            "test",
            None,
            "row_count_change",
            "staging.freshbooks_invoices dropped to 1 live rows; its last 3 runs had a median of 8",
        )
    ]
    con.execute("UPDATE staging.freshbooks_invoices SET _deleted = FALSE")
    refresh_anomalies(con, "freshbooks_invoices", pair="test", today=TODAY, now=NOW + timedelta(hours=4))
    assert con.execute("SELECT count(*) FROM quality.anomalies").fetchone() == (0,)


def test_every_rule_is_documented() -> None:
    summaries = rule_summaries()
    assert {rule.name for rule in ANOMALY_RULES} | {"row_count_change"} == set(summaries)
    assert all(summaries.values())
