"""FreshBooks resource fields (contract section 4), as staged and as sent in create/update bodies.

A money object ``{amount, code}`` is staged as two columns, ``X`` DECIMAL(18,2) and ``X_code``, and is
written in a payload as ``X.amount`` and ``X.code``; ``payloads.nest`` turns the dots back into objects.
Accounting timestamps are staged in UTC, so they are TIMESTAMPTZ here.
"""

from __future__ import annotations

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
from finsync_dagster.errors import MappingError

MONEY = "money"
_SQL = {
    TEXT: "VARCHAR",
    INTEGER: "BIGINT",
    DECIMAL: "DECIMAL(18,4)",
    DATE: "DATE",
    TIMESTAMP: "TIMESTAMPTZ",
    BOOLEAN: "BOOLEAN",
}

# (field, kind, description); a trailing "*" on the name marks a field the create call requires.
_RESOURCES: dict[str, list[tuple[str, str, str]]] = {
    "clients": [
        ("userid", INTEGER, "Client id"),
        ("accounting_systemid", TEXT, "Account id"),
        ("organization", TEXT, "Organization or company name"),
        ("fname", TEXT, "First name of the contact"),
        ("lname", TEXT, "Last name of the contact"),
        ("email", TEXT, "E-mail address"),
        ("username", TEXT, "Login user name"),
        ("bus_phone", TEXT, "Business telephone number"),
        ("home_phone", TEXT, "Home telephone number"),
        ("mob_phone", TEXT, "Mobile telephone number"),
        ("fax", TEXT, "Facsimile number"),
        ("p_street", TEXT, "Billing street address line 1"),
        ("p_street2", TEXT, "Billing street address line 2"),
        ("p_city", TEXT, "Billing city"),
        ("p_province", TEXT, "Billing province or state"),
        ("p_code", TEXT, "Billing postal code"),
        ("p_country", TEXT, "Billing country"),
        ("s_street", TEXT, "Shipping street address line 1"),
        ("s_street2", TEXT, "Shipping street address line 2"),
        ("s_city", TEXT, "Shipping city"),
        ("s_province", TEXT, "Shipping province or state"),
        ("s_code", TEXT, "Shipping postal code"),
        ("s_country", TEXT, "Shipping country"),
        ("currency_code", TEXT, "Currency code"),
        ("language", TEXT, "Language code"),
        ("vat_name", TEXT, "VAT name"),
        ("vat_number", TEXT, "VAT registration number"),
        ("note", TEXT, "Note"),
        ("company_industry", TEXT, "Industry"),
        ("company_size", TEXT, "Company size"),
        ("vis_state", INTEGER, "Visibility state: 0 active, 1 deleted, 2 archived"),
        ("signup_date", TIMESTAMP, "Signup date"),
        ("updated", TIMESTAMP, "Last update time"),
    ],
    "invoices": [
        ("invoiceid", INTEGER, "Invoice id"),
        ("customerid*", INTEGER, "Customer (client) id"),
        ("invoice_number", TEXT, "Invoice number"),
        ("create_date*", DATE, "Invoice date"),
        ("due_date", DATE, "Due date"),
        ("due_offset_days", INTEGER, "Days until due"),
        ("date_paid", DATE, "Date paid"),
        ("currency_code", TEXT, "Currency code"),
        ("language", TEXT, "Language"),
        ("amount", MONEY, "Invoice total amount"),
        ("outstanding", MONEY, "Outstanding amount"),
        ("paid", MONEY, "Paid amount"),
        ("discount_total", MONEY, "Discount total"),
        ("discount_value", TEXT, "Discount percentage"),
        ("status", INTEGER, "Status code"),
        ("v3_status", TEXT, "Status"),
        ("display_status", TEXT, "Display status"),
        ("payment_status", TEXT, "Payment status"),
        ("fname", TEXT, "First name"),
        ("lname", TEXT, "Last name"),
        ("organization", TEXT, "Organization"),
        ("email", TEXT, "E-mail address"),
        ("street", TEXT, "Street address"),
        ("street2", TEXT, "Street address line 2"),
        ("city", TEXT, "City"),
        ("province", TEXT, "Province or state"),
        ("code", TEXT, "Postal code"),
        ("country", TEXT, "Country"),
        ("vat_name", TEXT, "VAT name"),
        ("vat_number", TEXT, "VAT registration number"),
        ("notes", TEXT, "Notes"),
        ("terms", TEXT, "Payment terms"),
        ("po_number", TEXT, "Purchase order number"),
        ("template", TEXT, "Invoice template"),
        ("vis_state", INTEGER, "Visibility state"),
        ("created_at", TIMESTAMP, "Creation time"),
        ("updated", TIMESTAMP, "Last update time"),
    ],
    "invoice_lines": [
        ("lineid", INTEGER, "Line id"),
        ("invoiceid", INTEGER, "Invoice id"),
        ("name*", TEXT, "Item name"),
        ("description", TEXT, "Line description"),
        ("qty", DECIMAL, "Quantity"),
        ("unit_cost", MONEY, "Unit cost"),
        ("amount", MONEY, "Line amount"),
        ("type", INTEGER, "Line type: 0 normal, 1 expense"),
        ("taxName1", TEXT, "First tax name"),
        ("taxAmount1", DECIMAL, "First tax percentage"),
        ("taxName2", TEXT, "Second tax name"),
        ("taxAmount2", DECIMAL, "Second tax percentage"),
        ("expenseid", INTEGER, "Expense id"),
        ("updated", TIMESTAMP, "Last update time"),
    ],
    "payments": [
        ("logid", INTEGER, "Payment id"),
        ("invoiceid*", INTEGER, "Invoice id"),
        ("clientid", INTEGER, "Client id"),
        ("amount*", MONEY, "Payment amount"),
        ("date*", DATE, "Payment date"),
        ("type*", TEXT, "Payment type"),
        ("note", TEXT, "Note"),
        ("gateway", TEXT, "Payment gateway"),
        ("orderid", TEXT, "Order id"),
        ("transactionid", TEXT, "Transaction id"),
        ("overpaymentid", INTEGER, "Overpayment id"),
        ("creditid", INTEGER, "Credit id"),
        ("from_credit", BOOLEAN, "Paid from credit"),
        ("vis_state", INTEGER, "Visibility state"),
        ("updated", TIMESTAMP, "Last update time"),
    ],
    "expenses": [
        ("expenseid", INTEGER, "Expense id"),
        ("categoryid*", INTEGER, "Expense category id"),
        ("staffid*", INTEGER, "Staff id"),
        ("clientid", INTEGER, "Client id"),
        ("projectid", INTEGER, "Project id"),
        ("invoiceid", INTEGER, "Invoice id"),
        ("amount*", MONEY, "Expense amount"),
        ("vendor", TEXT, "Vendor"),
        ("date*", DATE, "Expense date"),
        ("notes", TEXT, "Notes"),
        ("status", INTEGER, "Status"),
        ("account_name", TEXT, "Account name"),
        ("bank_name", TEXT, "Bank name"),
        ("markup_percent", DECIMAL, "Markup percentage"),
        ("taxName1", TEXT, "First tax name"),
        ("taxAmount1", MONEY, "First tax amount"),
        ("taxName2", TEXT, "Second tax name"),
        ("taxAmount2", MONEY, "Second tax amount"),
        ("is_cogs", BOOLEAN, "Cost of goods sold"),
        ("billable", BOOLEAN, "Billable"),
        ("vis_state", INTEGER, "Visibility state"),
        ("updated", TIMESTAMP, "Last update time"),
    ],
    "expense_categories": [
        ("categoryid", INTEGER, "Category id"),
        ("category", TEXT, "Category name"),
        ("parentid", INTEGER, "Parent category id"),
        ("is_cogs", BOOLEAN, "Cost of goods sold"),
        ("is_editable", BOOLEAN, "Editable"),
        ("vis_state", INTEGER, "Visibility state"),
        ("created_at", TIMESTAMP, "Creation time"),
        ("updated_at", TIMESTAMP, "Last update time"),
    ],
    "items": [
        ("itemid", INTEGER, "Item id"),
        ("accounting_systemid", TEXT, "Account id"),
        ("name*", TEXT, "Item name"),
        ("description", TEXT, "Item description"),
        ("qty", DECIMAL, "Quantity"),
        ("inventory", DECIMAL, "Inventory on hand"),
        ("sku", TEXT, "Stock keeping unit"),
        ("unit_cost", MONEY, "Unit cost"),
        ("tax1", INTEGER, "First tax id"),
        ("tax2", INTEGER, "Second tax id"),
        ("vis_state", INTEGER, "Visibility state"),
        ("updated", TIMESTAMP, "Last update time"),
    ],
}

RESOURCES = tuple(_RESOURCES)


def _resource(name: str) -> list[tuple[str, str, str]]:
    try:
        return _RESOURCES[name]
    except KeyError:
        raise MappingError(f"no FreshBooks resource {name!r} (known: {', '.join(_RESOURCES)})") from None


def payload_schema(resource: str) -> TableSchema:
    """The fields a create or update body may carry, money split into ``X.amount`` and ``X.code``."""
    fields: list[Field] = []
    for raw, kind, description in _resource(resource):
        name, required = raw.rstrip("*"), raw.endswith("*")
        if kind == MONEY:
            fields.append(
                Field(f"{name}.amount", DECIMAL, "DECIMAL(18,2)", required, description=description)
            )
            fields.append(Field(f"{name}.code", TEXT, "VARCHAR", False, 3, f"{description}: currency code"))
        else:
            fields.append(Field(name, kind, _SQL[kind], required, description=description))
    return TableSchema.of(resource, fields)


def staged_fields(resource: str) -> list[Field]:
    """The typed columns a staging table holds for the resource (conventions of issue 5)."""
    fields: list[Field] = []
    for raw, kind, description in _resource(resource):
        name = raw.rstrip("*")
        if kind == MONEY:
            fields.append(Field(name, DECIMAL, "DECIMAL(18,2)", description=description))
            fields.append(
                Field(f"{name}_code", TEXT, "VARCHAR", length=3, description=f"{description}: currency")
            )
        else:
            fields.append(Field(name, kind, _SQL[kind], description=description))
    return fields
