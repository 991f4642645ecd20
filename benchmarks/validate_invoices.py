"""Validate 1,000,000 staged FreshBooks invoices: the pandera model, the SQL row rules, the quarantine.

Rows are generated inside DuckDB in the staging layer's own table shape (``staging.freshbooks_invoices``
with one line each in ``staging.freshbooks_invoice_lines``, and a ``_raw`` record per invoice); one
invoice in 10,000 is planted a cent off its lines. Timed: ``validate_and_quarantine`` as the blocking
check runs it (load the model's columns through Arrow, pandera lazily, the invoice rules in DuckDB, the
quarantine upkeep). The ratio is against the 5 s target.

    .venv/bin/python benchmarks/validate_invoices.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import duckdb

from finsync_dagster.quality import validate_and_quarantine
from finsync_dagster.staging.freshbooks_tables import INVOICE_LINES, INVOICES
from finsync_dagster.staging.writer import ensure_table

TARGET_SECONDS = 5.0
PLANT_EVERY = 10_000


def stage(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    ensure_table(con, INVOICES)
    ensure_table(con, INVOICE_LINES)
    con.execute(
        f"""
        INSERT INTO staging.freshbooks_invoices (id, invoice_number, customerid, create_date, due_date,
            date_paid, currency_code, amount, amount_code, outstanding, outstanding_code, paid, paid_code,
            discount_total, discount_total_code, discount_value, status, _raw, _extracted_at,
            _source_updated_at, _deleted)
        SELECT CAST(i AS VARCHAR), 'INV-' || lpad(CAST(i AS VARCHAR), 8, '0'), 1000 + i % 5000,
            DATE '2025-01-01' + CAST(i % 365 AS INTEGER), DATE '2025-02-01' + CAST(i % 365 AS INTEGER),
            CASE WHEN i % 2 = 0 THEN DATE '2025-03-01' + CAST(i % 300 AS INTEGER) END,
            cur, amount, cur, CASE WHEN i % 2 = 0 THEN 0 ELSE amount END, cur,
            CASE WHEN i % 2 = 0 THEN amount ELSE 0 END, cur, 0, cur, 0, CASE WHEN i % 2 = 0 THEN 4 ELSE 2 END,
            json_object('id', i, 'date_paid', CASE WHEN i % 2 = 0 THEN '2025-03-01' END), now(), now(), FALSE
        FROM (SELECT i, CASE i % 3 WHEN 0 THEN 'USD' WHEN 1 THEN 'CAD' ELSE 'EUR' END AS cur,
                     CAST(sub + round(sub * 10 * 0.01, 2) AS DECIMAL(18,2))
                       + CASE WHEN i % {PLANT_EVERY} = 7 THEN 0.01 ELSE 0 END AS amount
              FROM (SELECT i, CAST(1000 + i % 90000 AS DECIMAL(18,0)) * 0.01 AS sub FROM range({int(rows)}) t(i)))
        """
    )
    con.execute(
        """
        INSERT INTO staging.freshbooks_invoice_lines (id, invoice_id, lineid, qty, unit_cost, unit_cost_code,
            amount, amount_code, "taxName1", "taxAmount1", _raw, _extracted_at, _source_updated_at, _deleted)
        SELECT id || '-1', id, 1, 1, subtotal, currency_code, subtotal, currency_code, 'VAT', 10,
               '{}', now(), now(), FALSE
        FROM (SELECT id, currency_code,
                     CAST(CAST(1000 + CAST(id AS BIGINT) % 90000 AS DECIMAL(18,0)) * 0.01 AS DECIMAL(18,2)) AS subtotal
              FROM staging.freshbooks_invoices)
        """
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    started = time.perf_counter()
    stage(con, args.rows)
    print(f"staged {args.rows:,} invoices and lines in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    result = validate_and_quarantine(con, INVOICES, pair="bench", threshold=0.05, now=datetime.now(UTC))
    seconds = time.perf_counter() - started
    planted = sum(1 for i in range(args.rows) if i % PLANT_EVERY == 7)
    assert result.quarantined == planted, (result.quarantined, planted, result.counts())
    assert result.passed and not result.integrity
    print(f"validated {result.rows:,} invoices in {seconds:.2f} s ({result.rows / seconds:,.0f} rows/s)")
    print(f"quarantined {result.quarantined} planted invoices: {result.counts()}")
    print(f"ratio against the {TARGET_SECONDS:g} s target: {TARGET_SECONDS / seconds:.1f}x")


if __name__ == "__main__":
    main()
