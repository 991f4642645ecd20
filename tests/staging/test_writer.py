"""The staging writer on real DuckDB: typing, upserts, dedup of overlapping windows, deletes, bad records."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest

from finsync_dagster.staging.freshbooks_tables import CLIENTS, INVOICE_LINES_CHILD, INVOICES
from finsync_dagster.staging.writer import ensure_table, flag_unseen_as_deleted, merge_batch

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


def invoice(
    id_: int, *, amount: str = "120.00", updated: str = "2026-11-20 09:30:00", vis_state: int = 0, lines=None
):
    return {
        "id": id_,
        "invoiceid": id_,
        "invoice_number": f"FS-{id_:04d}",
        "customerid": 7,
        "create_date": "2026-11-01",
        "due_date": "2026-12-01",
        "currency_code": "USD",
        "amount": {"amount": amount, "code": "USD"},
        "outstanding": {"amount": amount, "code": "USD"},
        "paid": {"amount": "0.00", "code": "USD"},
        "v3_status": "sent",
        "updated": updated,
        "vis_state": vis_state,
        "lines": lines
        if lines is not None
        else [
            {
                "lineid": 1,
                "name": "Widget",
                "qty": "2",
                "unit_cost": {"amount": "50.00", "code": "USD"},
                "amount": {"amount": "100.00", "code": "USD"},
                "taxName1": "VAT",
                "taxAmount1": "20",
                "updated": updated,
            },
        ],
    }


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    ensure_table(connection, INVOICES)
    ensure_table(connection, INVOICE_LINES_CHILD.table)
    ensure_table(connection, CLIENTS)
    return connection


def stage(con, records, at=T0, **kwargs):
    return merge_batch(con, INVOICES, records, extracted_at=at, pair="p", child=INVOICE_LINES_CHILD, **kwargs)


def test_records_are_typed_money_exact_and_times_utc(con) -> None:
    counts, lines = stage(con, [invoice(1, amount="1234.56")])
    assert (counts.inserted, lines.inserted) == (1, 1)
    row = con.execute(
        "SELECT id, amount, amount_code, create_date, updated, _source_updated_at, _deleted FROM staging.freshbooks_invoices"
    ).fetchone()
    assert row[0] == "1"
    assert row[1] == Decimal("1234.56") and row[2] == "USD"
    assert str(row[3]) == "2026-11-01"
    # 09:30 in New York on 20 November (EST, UTC-5) is 14:30 UTC.
    assert row[4] == datetime(2026, 11, 20, 14, 30, tzinfo=UTC) == row[5]
    assert row[6] is False
    line = con.execute(
        "SELECT id, invoice_id, qty, unit_cost, taxAmount1 FROM staging.freshbooks_invoice_lines"
    ).fetchone()
    assert line == ("1-1", "1", Decimal("2.0000"), Decimal("50.00"), Decimal("20.0000"))


def test_summer_times_use_daylight_saving(con) -> None:
    stage(con, [invoice(1, updated="2026-07-01 09:30:00")])
    updated = con.execute("SELECT updated FROM staging.freshbooks_invoices").fetchone()[0]
    assert updated == datetime(2026, 7, 1, 13, 30, tzinfo=UTC)


def test_the_same_records_again_write_nothing(con) -> None:
    stage(con, [invoice(1), invoice(2)])
    counts, lines = stage(con, [invoice(1), invoice(2)], at=T1)
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 0, 2)
    assert lines.written == 0
    assert (
        con.execute(
            "SELECT count(*) FROM staging.freshbooks_invoices WHERE _extracted_at = $t", {"t": T1}
        ).fetchone()[0]
        == 0
    )


def test_overlapping_windows_keep_the_latest_version(con) -> None:
    older = invoice(1, amount="100.00", updated="2026-11-20 09:00:00")
    newer = invoice(1, amount="150.00", updated="2026-11-20 10:00:00")
    counts, _ = stage(con, [newer, older])
    assert counts.inserted == 1
    assert con.execute("SELECT amount FROM staging.freshbooks_invoices").fetchone()[0] == Decimal("150.00")


def test_changes_update_and_soft_deletes_are_flagged_not_dropped(con) -> None:
    stage(con, [invoice(1), invoice(2)])
    counts, _ = stage(
        con,
        [
            invoice(1, amount="99.99", updated="2026-11-21 08:00:00"),
            invoice(2, vis_state=1, updated="2026-11-21 08:00:00"),
        ],
        at=T1,
    )
    assert (counts.updated, counts.deleted) == (1, 1)
    rows = dict(con.execute("SELECT id, _deleted FROM staging.freshbooks_invoices").fetchall())
    assert rows == {"1": False, "2": True}
    assert (
        con.execute(
            "SELECT _deleted FROM staging.freshbooks_invoice_lines WHERE invoice_id = '2'"
        ).fetchone()[0]
        is True
    )


def test_a_line_removed_from_an_invoice_is_flagged(con) -> None:
    two_lines = invoice(1)
    two_lines["lines"].append({**two_lines["lines"][0], "lineid": 2})
    stage(con, [two_lines])
    _, lines = stage(con, [invoice(1, updated="2026-11-22 08:00:00")], at=T1)
    assert lines.deleted == 1
    assert con.execute("SELECT id FROM staging.freshbooks_invoice_lines WHERE _deleted").fetchall() == [
        ("1-2",)
    ]


def test_malformed_records_are_quarantined_not_fatal(con) -> None:
    no_id = invoice(3)
    del no_id["id"]
    wrong_type = invoice(4, amount="twelve")
    counts, _ = stage(con, [invoice(1), no_id, wrong_type])
    assert counts.rejected == 1 and counts.inserted == 2
    assert con.execute("SELECT amount FROM staging.freshbooks_invoices WHERE id = '4'").fetchone()[0] is None
    quarantined = con.execute("SELECT entity, rule, CAST(raw AS VARCHAR) FROM quality.quarantine").fetchall()
    assert quarantined[0][:2] == ("freshbooks_invoices", "record_has_id")
    assert "FS-0003" in quarantined[0][2]
    # Read again on the next run: the same entry, seen again, not a second one.
    stage(con, [no_id], at=T1)
    assert con.execute(
        "SELECT count(*), min(first_seen), max(last_seen) FROM quality.quarantine"
    ).fetchone() == (
        1,
        T0,
        T1,
    )


def test_full_refresh_flags_rows_the_source_no_longer_returns(con) -> None:
    stage(con, [invoice(1), invoice(2), invoice(3)])
    con.execute("CREATE TEMP TABLE seen (id VARCHAR PRIMARY KEY)")
    stage(con, [invoice(1), invoice(3)], at=T1, seen_table="seen")
    assert flag_unseen_as_deleted(con, INVOICES, "seen", extracted_at=T1) == 1
    assert con.execute("SELECT id FROM staging.freshbooks_invoices WHERE _deleted").fetchall() == [("2",)]
