"""Map 1,000,000 staged FreshBooks invoices to ``core.invoices`` through the shipped mapping spec.

The rows are generated inside DuckDB in the staging layer's own table shape, then the spec
``freshbooks_to_core/invoices.yaml`` (status code map, currency lookup, money, dates, timestamps, the
required-field and error checks) runs as it does in the core asset. A per-row Python loop doing the same
work on 50,000 rows is the baseline, scaled to the full count.

    .venv/bin/python benchmarks/map_invoices.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

import duckdb

from finsync_dagster.mapping.engine import build_core
from finsync_dagster.mapping.registry import load_specs
from finsync_dagster.staging.freshbooks_tables import FRESHBOOKS_TABLES

TARGET_SECONDS = 10.0
_STATUS = {
    0: "disputed",
    1: "draft",
    2: "sent",
    3: "viewed",
    4: "paid",
    5: "paid",
    6: "sent",
    7: "sent",
    8: "partial",
}


def stage(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    spec, _ = FRESHBOOKS_TABLES["freshbooks_invoices"]
    con.execute("CREATE SCHEMA staging")
    con.execute(spec.ddl())
    con.execute(
        f"""
        INSERT INTO staging.{spec.name} (id, invoice_number, customerid, create_date, due_date, currency_code,
            amount, amount_code, outstanding, outstanding_code, paid, paid_code, status, po_number, updated,
            _extracted_at, _source_updated_at, _deleted)
        SELECT CAST(i AS VARCHAR), 'INV-' || lpad(CAST(i AS VARCHAR), 8, '0'), 1000 + i % 5000,
            DATE '2024-01-01' + CAST(i % 365 AS INTEGER), DATE '2024-02-01' + CAST(i % 365 AS INTEGER),
            CASE i % 3 WHEN 0 THEN 'USD' WHEN 1 THEN 'CAD' ELSE 'EUR' END,
            CAST((i % 100000) / 100 AS DECIMAL(18,2)), 'USD', CAST((i % 7000) / 100 AS DECIMAL(18,2)), 'USD',
            CAST((i % 3000) / 100 AS DECIMAL(18,2)), 'USD', i % 9, CASE WHEN i % 4 = 0 THEN 'PO-' || i END,
            TIMESTAMPTZ '2024-03-01 12:00:00+00' + to_seconds(i), now(), now(), i % 50 = 0
        FROM range({int(rows)}) t(i)
        """
    )


def per_row_baseline(con: duckdb.DuckDBPyConnection, sample: int) -> float:
    """The same mapping written as a Python loop over fetched rows: what the engine avoids."""
    currencies = {"USD", "CAD", "EUR"}
    started = time.perf_counter()
    rows = con.execute(
        f"SELECT id, invoice_number, customerid, create_date, due_date, currency_code, amount, paid, outstanding,"
        f" status, po_number, updated FROM staging.freshbooks_invoices WHERE NOT _deleted LIMIT {sample}"
    ).fetchall()
    out = []
    for r in rows:
        if r[5] not in currencies or r[9] not in _STATUS:
            raise ValueError(r)
        out.append(("freshbooks", r[0], r[1].strip(), str(r[2]), r[3], r[4], r[5], Decimal(r[6]), Decimal(r[7]),
                    Decimal(r[8]), _STATUS[r[9]], (r[10] or "").strip() or None, r[11]))  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=50_000)
    args = parser.parse_args()
    con = duckdb.connect()
    started = time.perf_counter()
    stage(con, args.rows)
    print(f"staged {args.rows:,} synthetic invoices in {time.perf_counter() - started:.1f} s")
    specs = [s for s in load_specs() if s.name == "freshbooks_invoices"]
    started = time.perf_counter()
    build = build_core("invoices", con, specs)
    seconds = time.perf_counter() - started
    assert build.rejects.num_rows == 0, build.rejects.slice(0, 3).to_pylist()
    print(
        f"mapped {args.rows:,} staged rows -> {build.table.num_rows:,} core.invoices rows "
        f"(deleted rows skipped) in {seconds:.2f} s ({args.rows / seconds:,.0f} rows/s); "
        f"target <= {TARGET_SECONDS:.0f} s: {'met' if seconds <= TARGET_SECONDS else 'MISSED'}"
    )
    baseline = per_row_baseline(con, args.baseline_rows) * args.rows / args.baseline_rows
    print(
        f"per-row Python baseline, scaled from {args.baseline_rows:,} rows: {baseline:.1f} s; ratio {baseline / seconds:.1f}x"
    )


if __name__ == "__main__":
    main()
