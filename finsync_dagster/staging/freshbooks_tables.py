"""FreshBooks staging tables: one per accounting resource, columns named after the API's fields.

Accounting timestamps are US/Eastern wall-clock strings and become UTC here; bills, bill vendors and the
client ``signup_date`` are already UTC (contract section 4). Money objects become an amount column and a
``_code`` column. ``vis_state`` 1 marks a soft-deleted record.
"""

from __future__ import annotations

from dataclasses import dataclass

from finsync_dagster.staging.columns import ChildSpec, Column, Kind, TableSpec

C = Column
_DELETED = "json_extract_string(raw, '$.vis_state') = '1'"
_EASTERN_UPDATED = (
    "timezone('America/New_York', TRY_STRPTIME(json_extract_string(raw, '$.updated'), '%Y-%m-%d %H:%M:%S'))"
)
_UTC_UPDATED = "timezone('UTC', TRY_CAST(replace(replace(json_extract_string(raw, '$.updated_at'), 'T', ' '), 'Z', '') AS TIMESTAMP))"
_EASTERN_UPDATED_AT = "timezone('America/New_York', TRY_STRPTIME(json_extract_string(raw, '$.updated_at'), '%Y-%m-%d %H:%M:%S'))"


def _id(field: str = "id") -> str:
    return f"json_extract_string(raw, '$.{field}')"


CLIENTS = TableSpec(
    name="freshbooks_clients",
    system="freshbooks",
    description="FreshBooks clients (customers), one row per client id.",
    id_expression=_id(),
    updated_expression=_EASTERN_UPDATED,
    deleted_expression=_DELETED,
    columns=(
        C("userid", Kind.INT),
        C("organization"),
        C("fname"),
        C("lname"),
        C("email"),
        C("username"),
        C("currency_code"),
        C("language"),
        C("p_street"),
        C("p_street2"),
        C("p_city"),
        C("p_province"),
        C("p_code"),
        C("p_country"),
        C("bus_phone"),
        C("mob_phone"),
        C("vat_name"),
        C("vat_number"),
        C("note"),
        C("vis_state", Kind.INT),
        C("signup_date", Kind.UTC_TS),
        C("updated", Kind.EASTERN_TS),
    ),
)

INVOICES = TableSpec(
    name="freshbooks_invoices",
    system="freshbooks",
    description="FreshBooks invoices with totals, status and payment state; lines are in freshbooks_invoice_lines.",
    id_expression=_id(),
    updated_expression=_EASTERN_UPDATED,
    deleted_expression=_DELETED,
    columns=(
        C("invoice_number"),
        C("customerid", Kind.INT),
        C("create_date", Kind.DATE),
        C("due_date", Kind.DATE),
        C("date_paid", Kind.DATE),
        C("currency_code"),
        C("amount", Kind.MONEY),
        C("outstanding", Kind.MONEY),
        C("paid", Kind.MONEY),
        C("discount_total", Kind.MONEY),
        C("discount_value", Kind.DECIMAL),
        C("status", Kind.INT),
        C("v3_status"),
        C("display_status"),
        C("payment_status"),
        C("po_number"),
        C("organization"),
        C("fname"),
        C("lname"),
        C("email"),
        C("notes"),
        C("vis_state", Kind.INT),
        C("created_at", Kind.EASTERN_TS),
        C("updated", Kind.EASTERN_TS),
    ),
)

INVOICE_LINES = TableSpec(
    name="freshbooks_invoice_lines",
    system="freshbooks",
    description="FreshBooks invoice lines; id is '<invoice id>-<line id>', invoice_id the parent invoice.",
    id_expression="parent_id || '-' || json_extract_string(raw, '$.lineid')",
    updated_expression=f"COALESCE({_EASTERN_UPDATED}, parent_updated)",
    deleted_expression="parent_deleted",
    parent_column="invoice_id",
    parent_expression="parent_id",
    columns=(
        C("lineid", Kind.INT),
        C("name"),
        C("description"),
        C("qty", Kind.DECIMAL),
        C("unit_cost", Kind.MONEY),
        C("amount", Kind.MONEY),
        C("type", Kind.INT),
        C("taxName1"),
        C("taxAmount1", Kind.DECIMAL),
        C("taxName2"),
        C("taxAmount2", Kind.DECIMAL),
        C("expenseid", Kind.INT),
        C("updated", Kind.EASTERN_TS),
    ),
)
INVOICE_LINES_CHILD = ChildSpec(table=INVOICE_LINES, list_path="$.lines")

PAYMENTS = TableSpec(
    name="freshbooks_payments",
    system="freshbooks",
    description="FreshBooks payments, each applied to one invoice.",
    id_expression=_id(),
    updated_expression=_EASTERN_UPDATED,
    deleted_expression=_DELETED,
    columns=(
        C("logid", Kind.INT),
        C("invoiceid", Kind.INT),
        C("clientid", Kind.INT),
        C("amount", Kind.MONEY),
        C("date", Kind.DATE),
        C("type"),
        C("note"),
        C("gateway"),
        C("transactionid"),
        C("from_credit", Kind.BOOL),
        C("vis_state", Kind.INT),
        C("updated", Kind.EASTERN_TS),
    ),
)

EXPENSES = TableSpec(
    name="freshbooks_expenses",
    system="freshbooks",
    description="FreshBooks expenses with their category and vendor.",
    id_expression=_id(),
    updated_expression=_EASTERN_UPDATED,
    deleted_expression=_DELETED,
    columns=(
        C("categoryid", Kind.INT),
        C("amount", Kind.MONEY),
        C("vendor"),
        C("date", Kind.DATE),
        C("notes"),
        C("clientid", Kind.INT),
        C("projectid", Kind.INT),
        C("invoiceid", Kind.INT),
        C("status", Kind.INT),
        C("taxName1"),
        C("taxAmount1", Kind.MONEY),
        C("taxName2"),
        C("taxAmount2", Kind.MONEY),
        C("vis_state", Kind.INT),
        C("updated", Kind.EASTERN_TS),
    ),
)

EXPENSE_CATEGORIES = TableSpec(
    name="freshbooks_expense_categories",
    system="freshbooks",
    description="FreshBooks expense categories (read-only in the API).",
    id_expression=_id(),
    updated_expression=_EASTERN_UPDATED_AT,
    deleted_expression=_DELETED,
    columns=(
        C("categoryid", Kind.INT),
        C("category"),
        C("parentid", Kind.INT),
        C("is_cogs", Kind.BOOL),
        C("is_editable", Kind.BOOL),
        C("vis_state", Kind.INT),
        C("created_at", Kind.EASTERN_TS),
        C("updated_at", Kind.EASTERN_TS),
    ),
)

ITEMS = TableSpec(
    name="freshbooks_items",
    system="freshbooks",
    description="FreshBooks items (billable products and services).",
    id_expression=_id(),
    updated_expression=_EASTERN_UPDATED,
    deleted_expression=_DELETED,
    columns=(
        C("itemid", Kind.INT),
        C("name"),
        C("description"),
        C("sku"),
        C("qty", Kind.DECIMAL),
        C("inventory", Kind.DECIMAL),
        C("unit_cost", Kind.MONEY),
        C("tax1", Kind.INT),
        C("tax2", Kind.INT),
        C("vis_state", Kind.INT),
        C("updated", Kind.EASTERN_TS),
    ),
)

TAXES = TableSpec(
    name="freshbooks_taxes",
    system="freshbooks",
    description="FreshBooks taxes; amount is a percentage.",
    id_expression=_id(),
    updated_expression=_EASTERN_UPDATED,
    deleted_expression=_DELETED,
    columns=(
        C("taxid", Kind.INT),
        C("name"),
        C("number"),
        C("amount", Kind.DECIMAL, description="tax rate in percent"),
        C("compound", Kind.BOOL),
        C("updated", Kind.EASTERN_TS),
    ),
)

BILL_VENDORS = TableSpec(
    name="freshbooks_bill_vendors",
    system="freshbooks",
    description="FreshBooks bill vendors (suppliers).",
    id_expression="COALESCE(json_extract_string(raw, '$.vendorid'), json_extract_string(raw, '$.id'))",
    updated_expression=_UTC_UPDATED,
    deleted_expression=_DELETED,
    columns=(
        C("vendorid", Kind.INT),
        C("vendor_name"),
        C("currency_code"),
        C("primary_contact_email"),
        C("street"),
        C("city"),
        C("province"),
        C("postal_code"),
        C("country"),
        C("phone"),
        C("account_number"),
        C("vis_state", Kind.INT),
        C("created_at", Kind.UTC_TS),
        C("updated_at", Kind.UTC_TS),
    ),
)

BILLS = TableSpec(
    name="freshbooks_bills",
    system="freshbooks",
    description="FreshBooks bills (accounts payable).",
    id_expression=_id(),
    updated_expression=_UTC_UPDATED,
    deleted_expression=_DELETED,
    columns=(
        C("vendorid", Kind.INT),
        C("bill_number"),
        C("issue_date", Kind.DATE),
        C("due_date", Kind.DATE),
        C("currency_code"),
        C("amount", Kind.MONEY),
        C("outstanding", Kind.MONEY),
        C("paid", Kind.MONEY),
        C("tax_amount", Kind.MONEY),
        C("total_amount", Kind.MONEY),
        C("status"),
        C("overall_category"),
        C("vis_state", Kind.INT),
        C("created_at", Kind.UTC_TS),
        C("updated_at", Kind.UTC_TS),
    ),
)

BILL_LINES = TableSpec(
    name="freshbooks_bill_lines",
    system="freshbooks",
    description="FreshBooks bill lines; id is '<bill id>-<line id>', bill_id the parent bill.",
    id_expression="parent_id || '-' || json_extract_string(raw, '$.id')",
    updated_expression="parent_updated",
    deleted_expression="parent_deleted",
    parent_column="bill_id",
    parent_expression="parent_id",
    columns=(
        C("line_number", Kind.INT, path="id"),
        C("categoryid", Kind.INT),
        C("description"),
        C("quantity", Kind.DECIMAL),
        C("unit_cost", Kind.MONEY),
        C("amount", Kind.MONEY),
        C("tax_name1"),
        C("tax_percent1", Kind.DECIMAL),
        C("tax_amount1", Kind.MONEY),
        C("tax_name2"),
        C("tax_percent2", Kind.DECIMAL),
        C("tax_amount2", Kind.MONEY),
        C("total_amount", Kind.MONEY),
    ),
)
BILL_LINES_CHILD = ChildSpec(table=BILL_LINES, list_path="$.lines")


@dataclass(frozen=True)
class ListingSource:
    """Where a staging table's rows come from: a FreshBooks list endpoint, and how it is read."""

    resource: str  # the API resource (catalog name), e.g. "invoices"
    child: ChildSpec | None = None  # a nested table written from the same records (invoice lines)
    incremental: bool = False  # the endpoint takes search[updated_min] (contract §3.4)
    includes: tuple[str, ...] = ()


# staging table -> (its spec, the listing it comes from); keyed as INFOR_TABLES is.
FRESHBOOKS_TABLES: dict[str, tuple[TableSpec, ListingSource]] = {
    spec.name: (spec, source)
    for spec, source in (
        (CLIENTS, ListingSource("clients", incremental=True)),
        (INVOICES, ListingSource("invoices", INVOICE_LINES_CHILD, incremental=True, includes=("lines",))),
        (PAYMENTS, ListingSource("payments", incremental=True)),
        (EXPENSES, ListingSource("expenses", incremental=True)),
        (EXPENSE_CATEGORIES, ListingSource("expense_categories")),
        (ITEMS, ListingSource("items", incremental=True)),
        (TAXES, ListingSource("taxes", incremental=True)),
        (BILL_VENDORS, ListingSource("bill_vendors")),
        (BILLS, ListingSource("bills", BILL_LINES_CHILD)),
    )
}
