"""Small staging warehouses built the way issue 5 stages data, for the mapping tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb

from finsync_dagster.mapping.staging_schemas import declared_schema

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def create_table(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """``table`` with the conventional columns and types, holding ``rows`` (missing columns are NULL)."""
    schema = declared_schema(table)
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    columns = ", ".join(f'"{f.name}" {f.sql_type}' for f in schema.fields.values())
    con.execute(f"CREATE OR REPLACE TABLE {table} ({columns})")
    names = list(schema.fields)
    placeholders = ", ".join("?" for _ in names)
    quoted = ", ".join(f'"{n}"' for n in names)
    for row in rows:
        unknown = set(row) - set(names)
        assert not unknown, f"{table} has no column {unknown}"
        values = {"_deleted": False, "_extracted_at": T0, "_source_updated_at": T0, **row}
        con.execute(f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})", [values.get(n) for n in names])


FRESHBOOKS_CLIENTS = [
    {
        "id": "101", "organization": "Northwind Traders", "fname": "Ada", "lname": "Lovelace",
        "email": "AP@Northwind.example", "bus_phone": "+1 416 555 0101", "p_street": "12 Harbour Street",
        "p_street2": "Suite 400", "p_city": "Toronto", "p_province": "ON", "p_code": "m5j 2l1",
        "p_country": "Canada", "currency_code": "CAD", "vat_number": "CA123456", "updated": T0,
    },
    {
        "id": "102", "organization": "", "fname": "Grace", "lname": "Hopper", "email": "owner@blue-yonder.example",
        "mob_phone": "555-0102", "p_street": "1 Very Long Industrial Estate Road Near The Old Harbour Gate",
        "p_city": "Boston", "p_province": "MA", "p_code": "02110", "p_country": "United States",
        "currency_code": "usd", "updated": T0,
    },
    {
        "id": "103", "organization": "Deleted Co", "email": "gone@example.com", "p_country": "Atlantis",
        "currency_code": "USD", "updated": T0, "_deleted": True,
    },
]  # fmt: skip

FRESHBOOKS_INVOICES = [
    {
        "id": "5001", "invoice_number": "INV-0001", "customerid": 101, "create_date": date(2024, 2, 1),
        "due_date": date(2024, 3, 2), "currency_code": "CAD", "amount": Decimal("41.94"), "amount_code": "CAD",
        "paid": Decimal("20.00"), "paid_code": "CAD", "outstanding": Decimal("21.94"), "outstanding_code": "CAD",
        "status": 8, "po_number": "PO-77", "updated": T0,
    },
    {
        "id": "5002", "invoice_number": "INV-0002", "customerid": 102, "create_date": date(2024, 2, 3),
        "due_date": date(2024, 3, 4), "currency_code": "USD", "amount": Decimal("1200.00"), "amount_code": "USD",
        "paid": Decimal("0.00"), "outstanding": Decimal("1200.00"), "status": 2, "updated": T0,
    },
]  # fmt: skip

FRESHBOOKS_LINES = [
    {"id": "1", "invoice_id": "5001", "lineid": 1, "name": "CONSULT", "description": "Consulting hours",
     "qty": Decimal("2"), "unit_cost": Decimal("10.00"), "unit_cost_code": "CAD", "amount": Decimal("20.00"),
     "amount_code": "CAD", "updated": T0},
    {"id": "2", "invoice_id": "5001", "lineid": 2, "name": "Web design services and hosting", "qty": Decimal("1"),
     "unit_cost": Decimal("24.00"), "amount": Decimal("24.00"), "amount_code": "CAD", "updated": T0},
    {"id": "1", "invoice_id": "5002", "lineid": 1, "name": "LICENSE", "description": "Annual licence",
     "qty": Decimal("1"), "unit_cost": Decimal("1200.00"), "amount": Decimal("1200.00"), "amount_code": "USD",
     "updated": T0},
]  # fmt: skip

FRESHBOOKS_PAYMENTS = [
    {"id": "9001", "invoiceid": 5001, "clientid": 101, "amount": Decimal("20.00"), "amount_code": "CAD",
     "date": date(2024, 2, 10), "type": "Check", "transactionid": "CHK-1001", "updated": T0},
    {"id": "9002", "invoiceid": 5002, "clientid": 102, "amount": Decimal("100.00"), "amount_code": "USD",
     "date": date(2024, 2, 12), "type": "Credit Card", "gateway": "stripe", "updated": T0},
]  # fmt: skip

FRESHBOOKS_CATEGORIES = [
    {"id": "31", "categoryid": 31, "category": "Travel", "is_cogs": False, "updated_at": T0},
    {"id": "32", "categoryid": 32, "category": "Software", "is_cogs": False, "updated_at": T0},
]

FRESHBOOKS_EXPENSES = [
    {"id": "701", "categoryid": 31, "amount": Decimal("310.40"), "amount_code": "CAD", "vendor": "Air Canada",
     "date": date(2024, 2, 5), "notes": "Flight to client", "updated": T0},
    {"id": "702", "categoryid": 32, "amount": Decimal("49.00"), "amount_code": "CAD", "vendor": "GitHub",
     "date": date(2024, 2, 6), "updated": T0},
]  # fmt: skip

FRESHBOOKS_ITEMS = [
    {"id": "11", "name": "CONSULT", "description": "Consulting hour", "sku": "SKU-CONS", "unit_cost": Decimal("10.00"),
     "unit_cost_code": "CAD", "inventory": Decimal("0"), "updated": T0},
]  # fmt: skip

INFOR_CUSTOMERS = [
    {"id": "C1001", "CUNO": "C1001", "CUNM": "Contoso Ltd", "CUA1": "Kungsgatan 1", "CUA2": "Floor 3",
     "CUA3": "Box 12", "CUA4": "", "TOWN": "Stockholm", "PONO": "111 43", "CSCD": "se", "CUCD": "SEK",
     "PHNO": "+46 8 555 01", "MAIL": "billing@contoso.example", "YREF": "Lars Petter Ek", "VRNO": "SE5560000001",
     "CUCL": "KEY", "ECAR": "AB", "LMDT": date(2024, 2, 20)},
]  # fmt: skip

INFOR_INVOICES = [
    {"id": "2024-1-1", "CINO": "330001", "CUNO": "C1001", "IVDT": date(2024, 2, 21), "DUDT": date(2024, 3, 22),
     "CUCD": "SEK", "CUAM": Decimal("15000.0000"), "VTAM": Decimal("3000.0000"), "RECO": "0"},
]  # fmt: skip

INFOR_ORDERS = [
    {"id": "1000123", "ORNO": "1000123", "CUNO": "C1001", "CUOR": "INV-0001", "ORDT": date(2024, 2, 21),
     "CUCD": "SEK", "ORST": "77", "NTAM": Decimal("300.00"), "VTAM": Decimal("75.00"), "BRAM": Decimal("375.00")},
]  # fmt: skip

INFOR_ORDER_LINES = [
    {"id": "1", "order_id": "1000123", "PONR": 1, "POSX": 0, "ITNO": "A100", "ITDS": "Widget",
     "ORQT": Decimal("3.0000"), "SAPR": Decimal("100.0000"), "NLAM": Decimal("300.0000"), "CUCD": "SEK"},
]  # fmt: skip

INFOR_PAYMENTS = [
    {"id": "2024-9-1", "CINO": "330001", "CUNO": "C1001", "TRCD": "20", "CUAM": Decimal("-5000.0000"),
     "CUCD": "SEK", "ACDT": date(2024, 3, 1), "CKNO": "BG-4711", "TDSC": "Payment 330001"},
    {"id": "2024-9-2", "CINO": "330001", "CUNO": "C1001", "TRCD": "10", "CUAM": Decimal("15000.0000"),
     "CUCD": "SEK", "ACDT": date(2024, 2, 21), "TDSC": "Invoice"},
]  # fmt: skip

INFOR_GL_ACCOUNTS = [
    {"id": "1-6100", "AITP": "1", "AITM": "6100", "TX40": "Travel", "AICL": "OPEX"},
    {"id": "1-1930", "AITP": "1", "AITM": "1930", "TX40": "Bank account", "AICL": "BANK"},
]  # fmt: skip

INFOR_GL_ENTRIES = [
    {"id": "2024-1-77", "AIT1": "6100", "ACDT": date(2024, 2, 7), "VTXT": "Taxi", "ACAM": Decimal("420.0000"),
     "CUCD": "SEK"},
    {"id": "2024-1-78", "AIT1": "1930", "ACDT": date(2024, 2, 7), "VTXT": "Bank", "ACAM": Decimal("-420.0000"),
     "CUCD": "SEK"},
]  # fmt: skip

INFOR_ITEMS = [
    {"id": "A100", "ITNO": "A100", "ITDS": "Widget", "FUDS": "Blue widget", "UNMS": "PCS", "STAT": "20"},
]


FRESHBOOKS_BILL_VENDORS = [
    {"id": "60001", "vendorid": 60001, "vendor_name": " Air Canada ", "currency_code": "cad",
     "primary_contact_email": "AP@AirCanada.example", "country": "Canada", "updated_at": T0},
]  # fmt: skip

FRESHBOOKS_BILLS = [
    {"id": "40001", "vendorid": 60001, "bill_number": "AC-981", "issue_date": date(2024, 2, 10),
     "due_date": date(2024, 3, 11), "currency_code": "CAD", "total_amount": Decimal("113.00"),
     "total_amount_code": "CAD", "tax_amount": Decimal("13.00"), "tax_amount_code": "CAD", "status": "unpaid",
     "updated_at": T0},
]  # fmt: skip

FRESHBOOKS_BILL_LINES = [
    {"id": "40001-1", "bill_id": "40001", "line_number": 1, "categoryid": 31, "description": "Flight YYZ-YUL",
     "amount": Decimal("100.00"), "amount_code": "CAD", "tax_amount1": Decimal("13.00")},
]  # fmt: skip

INFOR_SUPPLIERS = [
    {"id": "50001", "SUNO": "50001", "SUNM": "Air Canada", "CSCD": "CA", "CUCD": "CAD"},
]

INFOR_SUPPLIER_INVOICES = [
    {"id": "2024-5-1", "SUNO": "50001", "SPYN": "50001", "SINO": "AC-981", "TRCD": "40", "CUCD": "CAD",
     "CUAM": Decimal("-113.0000"), "VTAM": Decimal("-13.0000"), "IVDT": date(2024, 2, 10),
     "DUDT": date(2024, 3, 11), "RECO": "0"},
]  # fmt: skip


def sample_warehouse() -> duckdb.DuckDBPyConnection:
    """Every staging table of both systems with a few hand-written rows."""
    con = duckdb.connect()
    for table, rows in {
        "staging.freshbooks_clients": FRESHBOOKS_CLIENTS,
        "staging.freshbooks_invoices": FRESHBOOKS_INVOICES,
        "staging.freshbooks_invoice_lines": FRESHBOOKS_LINES,
        "staging.freshbooks_payments": FRESHBOOKS_PAYMENTS,
        "staging.freshbooks_expenses": FRESHBOOKS_EXPENSES,
        "staging.freshbooks_expense_categories": FRESHBOOKS_CATEGORIES,
        "staging.freshbooks_items": FRESHBOOKS_ITEMS,
        "staging.infor_customers": INFOR_CUSTOMERS,
        "staging.infor_invoices": INFOR_INVOICES,
        "staging.infor_orders": INFOR_ORDERS,
        "staging.infor_order_lines": INFOR_ORDER_LINES,
        "staging.infor_payments": INFOR_PAYMENTS,
        "staging.infor_gl_accounts": INFOR_GL_ACCOUNTS,
        "staging.infor_gl_entries": INFOR_GL_ENTRIES,
        "staging.infor_items": INFOR_ITEMS,
        "staging.freshbooks_bill_vendors": FRESHBOOKS_BILL_VENDORS,
        "staging.freshbooks_bills": FRESHBOOKS_BILLS,
        "staging.freshbooks_bill_lines": FRESHBOOKS_BILL_LINES,
        "staging.infor_suppliers": INFOR_SUPPLIERS,
        "staging.infor_supplier_invoices": INFOR_SUPPLIER_INVOICES,
    }.items():
        create_table(con, table, rows)
    return con
