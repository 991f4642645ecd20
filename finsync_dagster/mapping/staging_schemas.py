"""What the staging tables of issue 5 hold, so specs can be checked before any data is staged.

The conventions: ``id`` as text, typed columns named exactly after the source's fields (FreshBooks'
lower-case names, M3's upper-case output names), ``_raw``, ``_extracted_at``, ``_source_updated_at`` and
``_deleted``; line tables also carry their parent's id. When a warehouse is at hand, the live table's
columns and types replace these declared ones (``live_schema``).
"""

from __future__ import annotations

import re

import duckdb

from finsync_dagster.errors import MappingError
from finsync_dagster.mapping import freshbooks_fields, m3_catalog
from finsync_dagster.mapping.schemas import BOOLEAN, JSON, TEXT, TIMESTAMP, Field, TableSchema, family_of

SCHEMA = "staging"
_TABLE = re.compile(r"^staging\.[a-z][a-z0-9_]*$")

_FRESHBOOKS = {
    "freshbooks_clients": "clients",
    "freshbooks_invoices": "invoices",
    "freshbooks_invoice_lines": "invoice_lines",
    "freshbooks_payments": "payments",
    "freshbooks_expenses": "expenses",
    "freshbooks_expense_categories": "expense_categories",
    "freshbooks_items": "items",
}
# Which read transactions fill each Infor staging table (contract section 2.4).
_INFOR = {
    "infor_customers": ("CRS610MI/LstByNumber", "CRS610MI/GetBasicData", "CRS610MI/GetFinancial"),
    "infor_orders": ("OIS100MI/GetHead",),
    "infor_order_lines": ("OIS100MI/LstLine",),
    "infor_invoices": ("ARS200MI/GetInvoice", "OIS350MI/LstInvHead"),
    "infor_payments": ("ARS200MI/LstInvoiceTrans",),
    "infor_gl_accounts": ("CRS630MI/LstAccountID",),
    "infor_gl_entries": ("GLS200MI/LstVoucherLines",),
    "infor_items": ("MMS200MI/LstItmByItm", "MMS200MI/GetItmBasic"),
    "infor_stock": ("MMS200MI/GetItmWhsBal",),
}
_PARENTS = {"freshbooks_invoice_lines": "invoice_id", "infor_order_lines": "order_id"}


def _conventional(table: str) -> list[Field]:
    fields = [Field("id", TEXT, "VARCHAR", True, description="The source record's id")]
    if table in _PARENTS:
        fields.append(Field(_PARENTS[table], TEXT, "VARCHAR", True, description="The parent record's id"))
    return fields


_META = [
    Field("_raw", JSON, "JSON", description="The record as the API returned it"),
    Field("_extracted_at", TIMESTAMP, "TIMESTAMPTZ", description="When finsync read it"),
    Field("_source_updated_at", TIMESTAMP, "TIMESTAMPTZ", description="When the source last changed it"),
    Field("_deleted", BOOLEAN, "BOOLEAN", description="Deleted in the source (kept, flagged)"),
]


def tables() -> list[str]:
    return [f"{SCHEMA}.{name}" for name in (*_FRESHBOOKS, *_INFOR)]


def declared_schema(table: str) -> TableSchema:
    """The columns issue 5's conventions promise for ``staging.<system>_<entity>``."""
    name = table.removeprefix(f"{SCHEMA}.")
    fields = _conventional(name)
    if name in _FRESHBOOKS:
        fields += freshbooks_fields.staged_fields(_FRESHBOOKS[name])
    elif name in _INFOR:
        seen = {f.name for f in fields}
        for path in _INFOR[name]:
            for output in m3_catalog.transaction(path).outputs.fields.values():
                if output.name not in seen:
                    seen.add(output.name)
                    fields.append(output)
    else:
        raise MappingError(f"unknown staging table {table!r} (known: {', '.join(tables())})")
    return TableSchema.of(table, [*fields, *_META])


def check_table_name(table: str) -> str:
    """Only ``staging.<lower_snake>`` names reach SQL, so a spec cannot smuggle SQL in a table name."""
    if not _TABLE.match(table):
        raise MappingError(f"source table {table!r} must look like staging.<system>_<entity>")
    return table


def live_schema(con: duckdb.DuckDBPyConnection, table: str) -> TableSchema | None:
    """The table's real columns in the warehouse, or None when it does not exist (yet)."""
    schema, _, name = check_table_name(table).partition(".")
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    if not rows:
        return None
    return TableSchema.of(table, (Field(column, family_of(sql_type), sql_type) for column, sql_type in rows))
