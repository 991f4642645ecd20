"""The canonical finance model (``core.*`` in DESIGN.md): what reconciliation and write-back read.

Both systems are translated into these tables by the mapping specs, so the two sides speak one language.
Every row carries ``source`` (``freshbooks`` or ``infor``) and ``source_id`` (the record's id in that
system); money is DECIMAL with its ISO currency code beside it, dates are DATE and times TIMESTAMPTZ in UTC.
"""

from __future__ import annotations

import pyarrow as pa

from finsync_dagster.contracts.fields import (
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    TEXT,
    TIMESTAMP,
    Field,
    TableSchema,
)
from finsync_dagster.warehouse import qualified
from finsync_dagster.warehouse.schemas import CORE

MONEY = "DECIMAL(18,2)"
QUANTITY = "DECIMAL(18,4)"
SOURCES = ("freshbooks", "infor")


def _text(name: str, description: str, *, required: bool = False) -> Field:
    return Field(name, TEXT, "VARCHAR", required, description=description)


def _money(name: str, description: str, *, required: bool = False) -> Field:
    return Field(name, DECIMAL, MONEY, required, description=description)


def _date(name: str, description: str, *, required: bool = False) -> Field:
    return Field(name, DATE, "DATE", required, description=description)


_UPDATED = Field("updated_at", TIMESTAMP, "TIMESTAMPTZ", description="When the source last changed it (UTC)")


def _tagged(*fields: Field) -> list[Field]:
    return [
        _text("source", "System the row came from: freshbooks or infor", required=True),
        _text("source_id", "The record's id in its source system", required=True),
        *fields,
        _UPDATED,
    ]


ENTITIES: dict[str, TableSchema] = {
    schema.name: schema
    for schema in (
        TableSchema.of(
            "customers",
            _tagged(
                _text("name", "Customer name: the organisation, or the person's full name", required=True),
                _text("first_name", "Contact person's first name"),
                _text("last_name", "Contact person's last name"),
                _text("email", "Contact e-mail address"),
                _text("phone", "Telephone number"),
                _text("address_line1", "Street address, first line"),
                _text("address_line2", "Street address, second line"),
                _text("address_line3", "Street address, third line"),
                _text("city", "City or town"),
                _text("region", "State, province or area code"),
                _text("postal_code", "Postal or ZIP code"),
                _text("country_code", "ISO 3166-1 alpha-2 country code"),
                _text("currency_code", "ISO 4217 currency the customer is billed in"),
                _text("vat_number", "VAT or tax registration number"),
                _text("segment", "Customer segment from the CRM (enrichment)"),
                _text("customer_group", "Customer group derived from the segment"),
                _text("customer_template", "M3 customer template (CUTM) a new customer is created from"),
            ),
            "One customer (FreshBooks client, M3 customer).",
        ),
        TableSchema.of(
            "invoices",
            _tagged(
                _text("invoice_number", "Invoice number as printed", required=True),
                _text("customer_source_id", "The customer's id in the same source system", required=True),
                _date("issue_date", "Invoice date", required=True),
                _date("due_date", "Payment due date"),
                _text("currency_code", "ISO 4217 currency of every amount on the invoice", required=True),
                _money("total_amount", "Invoice total including tax", required=True),
                _money("paid_amount", "Amount paid so far"),
                _money("outstanding_amount", "Amount still owed"),
                _text("status", "draft, sent, viewed, partial, paid, overdue, disputed, void"),
                _text("po_number", "Customer's purchase order number"),
                _money("tax_amount", "Tax included in the total, where the source states it"),
                _text("order_number", "The customer order the invoice bills (M3 ORNO), where known"),
            ),
            "One customer invoice (FreshBooks invoice, M3 AR invoice).",
        ),
        TableSchema.of(
            "orders",
            _tagged(
                _text("order_number", "Order number (M3 ORNO)", required=True),
                _text("customer_source_id", "The customer's id in the same source system", required=True),
                _text("customer_reference", "Customer reference (M3 CUOR): the FreshBooks invoice number"),
                _date("order_date", "Order date", required=True),
                _text("currency_code", "ISO 4217 currency of every amount on the order", required=True),
                _money("net_amount", "Order value before tax"),
                _money("tax_amount", "Tax on the order"),
                _money("total_amount", "Order value including tax", required=True),
                _text("status", "confirmed, delivered or invoiced"),
            ),
            "One customer order (M3 customer order head), reconciled against FreshBooks invoices.",
        ),
        TableSchema.of(
            "invoice_lines",
            _tagged(
                _text("invoice_source_id", "The invoice's id in the same source system", required=True),
                Field("line_number", INTEGER, "INTEGER", description="Position on the invoice, from 1"),
                _text("item_code", "Item or service code"),
                _text("description", "Line description"),
                Field("quantity", DECIMAL, QUANTITY, description="Quantity invoiced"),
                _money("unit_price", "Price per unit before tax"),
                _money("line_amount", "Quantity times unit price, before tax", required=True),
                _text("currency_code", "ISO 4217 currency of the amounts"),
            ),
            "One invoice line (FreshBooks invoice line, M3 order line).",
        ),
        TableSchema.of(
            "payments",
            _tagged(
                _text("invoice_source_id", "The paid invoice's id in the same source system"),
                _text("invoice_number", "The paid invoice's number"),
                _text("customer_source_id", "The paying customer's id in the same source system"),
                _date("payment_date", "Date the payment was received", required=True),
                _money("amount", "Amount received", required=True),
                _text("currency_code", "ISO 4217 currency of the amount", required=True),
                _text("method", "M3 payment method code (PYCD) the payment type maps to"),
                _text("reference", "Cheque number, transaction id or note"),
            ),
            "One customer payment (FreshBooks payment, M3 AR payment transaction).",
        ),
        TableSchema.of(
            "expenses",
            _tagged(
                _date("expense_date", "Date of the expense", required=True),
                _text("vendor", "Who was paid"),
                _text("description", "What it was for"),
                _text("category", "Expense category name (FreshBooks) or voucher text"),
                _text("gl_account", "General-ledger account the expense posts to (M3 AITM)"),
                _money("amount", "Amount of the expense", required=True),
                _text("currency_code", "ISO 4217 currency of the amount", required=True),
            ),
            "One expense (FreshBooks expense, M3 GL voucher line).",
        ),
        TableSchema.of(
            "suppliers",
            _tagged(
                _text("name", "Supplier name", required=True),
                _text(
                    "supplier_number", "M3 supplier number (SUNO); in FreshBooks, the one finsync gives it"
                ),
                _text("email", "Contact e-mail address"),
                _text("phone", "Telephone number"),
                _text("city", "City or town"),
                _text("postal_code", "Postal or ZIP code"),
                _text("country_code", "ISO 3166-1 alpha-2 country code"),
                _text("currency_code", "ISO 4217 currency the supplier invoices in"),
                _text("account_number", "Our account number with the supplier"),
            ),
            "One supplier (FreshBooks bill vendor, M3 supplier).",
        ),
        TableSchema.of(
            "bills",
            _tagged(
                _text("bill_number", "The supplier's invoice number (M3 SINO)", required=True),
                _text("supplier_source_id", "The supplier's id in the same source system", required=True),
                _date("issue_date", "Invoice date", required=True),
                _date("due_date", "Payment due date"),
                _text("currency_code", "ISO 4217 currency of every amount on the bill", required=True),
                _money("total_amount", "Bill total including tax (a positive payable)", required=True),
                _money("tax_amount", "Tax included in the total"),
                _text("status", "unpaid, partial, paid, overdue (FreshBooks); posted (M3)"),
            ),
            "One supplier invoice (FreshBooks bill, M3 AP ledger invoice).",
        ),
        TableSchema.of(
            "bill_lines",
            _tagged(
                _text("bill_source_id", "The bill's id in the same source system", required=True),
                Field("line_number", INTEGER, "INTEGER", description="Position on the bill, from 1"),
                _text("category", "Expense category name (FreshBooks)"),
                _text("gl_account", "General-ledger account the line posts to (M3 AITM)"),
                _text("description", "Line description"),
                _money("line_amount", "Net amount of the line, before tax", required=True),
                _money("tax_amount", "Tax on the line"),
                _text("currency_code", "ISO 4217 currency of the amounts"),
            ),
            "One cost line of a supplier invoice (FreshBooks bill line, M3 supplier invoice line).",
        ),
        TableSchema.of(
            "gl_accounts",
            _tagged(
                _text("account_code", "General-ledger account code (M3 AITM)", required=True),
                _text("name", "Account name", required=True),
                _text("account_group", "Account group or parent category"),
                Field("is_blocked", BOOLEAN, "BOOLEAN", description="Closed for posting"),
            ),
            "One general-ledger account (M3 account id, FreshBooks expense category).",
        ),
        TableSchema.of(
            "items",
            _tagged(
                _text("item_code", "Item number or SKU", required=True),
                _text("name", "Item name", required=True),
                _text("description", "Longer description"),
                _money("unit_price", "Sales price per unit"),
                _text("currency_code", "ISO 4217 currency of the price"),
                _text("unit_of_measure", "Basic unit of measure"),
                Field("quantity_on_hand", DECIMAL, QUANTITY, description="Inventory on hand, if tracked"),
            ),
            "One item or service (FreshBooks item, M3 item).",
        ),
    )
}

# What other packages name a core table by ("core.invoices"), so a rename breaks loudly.
TABLES: dict[str, str] = {name: qualified(CORE, name) for name in ENTITIES}

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    MONEY: pa.decimal128(18, 2),
    QUANTITY: pa.decimal128(18, 4),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
}


def entity(name: str) -> TableSchema:
    from finsync_dagster.errors import MappingError

    try:
        return ENTITIES[name]
    except KeyError:
        raise MappingError(f"no core entity {name!r} (known: {', '.join(ENTITIES)})") from None


def table_schema(table: str) -> TableSchema | None:
    """The core entity a ``core.<entity>`` name stands for, or None for any other table."""
    schema, _, name = table.partition(".")
    return ENTITIES.get(name) if schema == CORE else None


def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema a core table is delivered in."""
    return pa.schema(
        [
            pa.field(f.name, _ARROW_TYPES[f.sql_type], nullable=not f.required)
            for f in entity(name).fields.values()
        ]
    )


def create_table_sql(name: str, schema: str = CORE) -> str:
    """``CREATE TABLE`` for a core entity; identifiers come from this module, never from input."""
    columns = ",\n  ".join(
        f"{f.name} {f.sql_type}{' NOT NULL' if f.required else ''}" for f in entity(name).fields.values()
    )
    return f"CREATE TABLE IF NOT EXISTS {qualified(schema, name)} (\n  {columns},\n  PRIMARY KEY (source, source_id)\n)"
