"""Small staging warehouses built in the test: crafted raw records typed by the real staging writer."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb

from finsync_dagster.staging import freshbooks_tables as fb
from finsync_dagster.staging import infor_tables as infor
from finsync_dagster.staging.columns import ChildSpec, TableSpec
from finsync_dagster.staging.writer import ensure_table, merge_batch

NOW = datetime(2026, 10, 31, 12, tzinfo=UTC)


def stage(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    records: list[dict[str, Any]],
    child: ChildSpec | None = None,
) -> None:
    con.execute("SET TimeZone = 'UTC'")
    ensure_table(con, spec)
    if child is not None:
        ensure_table(con, child.table)
    merge_batch(con, spec, records, extracted_at=NOW, pair="test", child=child)


def money(amount: str, code: str = "USD") -> dict[str, str]:
    return {"amount": amount, "code": code}


def invoice(
    invoice_id: int,
    *,
    amount: str = "110.00",
    lines: tuple[str, ...] = ("100.00",),
    tax: str = "10",
    paid: str = "0.00",
    customer: Any = 300001,
    currency: str = "USD",
    day: str = "2026-10-01",
    updated: str = "2026-10-01 10:00:00",
) -> dict[str, Any]:
    outstanding = str(Decimal(amount) - Decimal(paid))
    return {
        "id": invoice_id,
        "invoice_number": f"FS-{invoice_id}",
        "customerid": customer,
        "create_date": day,
        "due_date": day,
        "currency_code": currency,
        "amount": money(amount, currency),
        "paid": money(paid, currency),
        "outstanding": money(outstanding, currency),
        "discount_total": money("0.00", currency),
        "discount_value": "0",
        "status": 2,
        "vis_state": 0,
        "updated": updated,
        "lines": [
            {
                "lineid": n + 1,
                "qty": "1",
                "unit_cost": money(a, currency),
                "amount": money(a, currency),
                "taxName1": "VAT",
                "taxAmount1": tax,
            }
            for n, a in enumerate(lines)
        ],
    }


def stage_invoices(con: duckdb.DuckDBPyConnection, records: list[dict[str, Any]]) -> None:
    stage(con, fb.INVOICES, records, fb.INVOICE_LINES_CHILD)


def client(client_id: int, currency: str = "USD") -> dict[str, Any]:
    return {
        "id": client_id,
        "organization": f"Client {client_id}",
        "currency_code": currency,
        "vis_state": 0,
        "updated": "2026-01-01 10:00:00",
    }


def payment(payment_id: int, invoice_id: int, amount: str, day: str = "2026-10-02") -> dict[str, Any]:
    return {
        "id": payment_id,
        "invoiceid": invoice_id,
        "clientid": 300001,
        "amount": money(amount),
        "date": day,
        "type": "Check",
        "vis_state": 0,
        "updated": f"{day} 10:00:00",
    }


def expense(expense_id: int, category_id: int, amount: str = "50.00", vendor: str = "Acme") -> dict[str, Any]:
    return {
        "id": expense_id,
        "categoryid": category_id,
        "amount": money(amount),
        "vendor": vendor,
        "date": "2026-09-01",
        "vis_state": 0,
        "updated": "2026-09-01 10:00:00",
    }


def category(category_id: int, name: str) -> dict[str, Any]:
    return {
        "id": category_id,
        "categoryid": category_id,
        "category": name,
        "vis_state": 0,
        "updated_at": "2026-01-01 10:00:00",
    }


def m3_row(**fields: str) -> dict[str, str]:
    return {"LMDT": "20261001", "RGDT": "20260101", **fields}


INFOR = {spec.name: spec for spec, _ in infor.INFOR_TABLES.values()}
FRESHBOOKS = {spec.name: spec for spec, _ in fb.FRESHBOOKS_TABLES.values()} | {
    fb.INVOICE_LINES.name: fb.INVOICE_LINES
}
