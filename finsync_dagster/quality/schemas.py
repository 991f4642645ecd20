"""pandera models of the staging tables: types, nullability, unique ids, currencies, dates, M3 lengths.

Frames come from DuckDB through Arrow (``validate.load_frame``): text is pandas' Arrow-backed ``str``, and
every other column keeps its Arrow type, so DECIMAL money stays exact (``decimal128``) and integers and
dates keep their NULLs. The dtypes below say so explicitly (pandera's ``Series[str]`` would mean NumPy
strings under pandas 3). Rules that need other tables or exact sums (an invoice against its lines) run in
DuckDB, in ``rules.py``. Only the columns listed here are loaded; ``strict`` is off because staging keeps
more columns than the rules need.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated, Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow
from pandera.typing import Series

from finsync_dagster.contracts import m3_catalog
from finsync_dagster.quality.currencies import ISO_4217

# Each alias is a dtype class with its constructor arguments: pandera builds the dtype from them
# (``pd.ArrowDtype(pyarrow.decimal128(18, 2))``), and a type checker sees a valid type.
TEXT = Annotated[pd.StringDtype, "pyarrow", np.nan]
INT = Annotated[pd.ArrowDtype, pyarrow.int64()]
MONEY = Annotated[pd.ArrowDtype, pyarrow.decimal128(18, 2)]
QUANTITY = Annotated[pd.ArrowDtype, pyarrow.decimal128(18, 4)]
PRICE = Annotated[pd.ArrowDtype, pyarrow.decimal128(18, 6)]  # M3 unit prices: kept to 6 decimals
DATE = Annotated[pd.ArrowDtype, pyarrow.date32()]
STAMP = Annotated[pd.ArrowDtype, pyarrow.timestamp("us", tz="UTC")]
BOOL = Annotated[pd.ArrowDtype, pyarrow.bool_()]

EARLIEST = date(1990, 1, 1)  # older than any finance record finsync will meet
LATEST = date(2100, 12, 31)
_CURRENCIES = sorted(ISO_4217)


@cache
def m3_lengths() -> dict[str, int]:
    """The longest length the M3 catalog gives each field name, over every transaction it lists."""
    lengths: dict[str, int] = {}
    for program, transactions in m3_catalog.programs().items():
        for name in transactions:
            transaction = m3_catalog.transaction(f"{program}/{name}")
            for schema in (transaction.inputs, transaction.outputs):
                for field in schema.fields.values():
                    if field.length:
                        lengths[field.name] = max(lengths.get(field.name, 0), field.length)
    return lengths


def record_id() -> Any:
    return pa.Field(nullable=False, unique=True, str_length={"min_value": 1}, description="record id")


def required(**kwargs: Any) -> Any:
    return pa.Field(nullable=False, **kwargs)


def optional(**kwargs: Any) -> Any:
    return pa.Field(nullable=True, **kwargs)


def currency(nullable: bool = True) -> Any:
    return pa.Field(nullable=nullable, isin=_CURRENCIES, description="ISO 4217 currency code")


def sane_date(nullable: bool = True) -> Any:
    return pa.Field(nullable=nullable, ge=EARLIEST, le=LATEST)


def m3(name: str, nullable: bool = True) -> Any:
    """An M3 text field no longer than the catalog allows (M3 refuses longer input)."""
    return pa.Field(nullable=nullable, str_length={"max_value": m3_lengths()[name]})


class _Staging(pa.DataFrameModel):
    id: Series[TEXT] = record_id()

    class Config:
        strict = False


# -- FreshBooks ------------------------------------------------------------------------------------------


class FreshBooksClients(_Staging):
    organization: Series[TEXT] = optional()
    email: Series[TEXT] = optional()
    currency_code: Series[TEXT] = currency()
    vis_state: Series[INT] = optional(isin=[0, 1, 2])


class FreshBooksInvoices(_Staging):
    invoice_number: Series[TEXT] = required(str_length={"min_value": 1})
    customerid: Series[INT] = required()
    create_date: Series[DATE] = sane_date(nullable=False)
    due_date: Series[DATE] = sane_date()
    date_paid: Series[DATE] = sane_date()
    currency_code: Series[TEXT] = currency(nullable=False)
    amount: Series[MONEY] = required()
    amount_code: Series[TEXT] = currency()
    paid: Series[MONEY] = optional()
    outstanding: Series[MONEY] = optional()
    discount_total: Series[MONEY] = optional()
    discount_value: Series[QUANTITY] = optional(ge=0, le=100)
    status: Series[INT] = optional(ge=0, le=8)


class FreshBooksInvoiceLines(_Staging):
    invoice_id: Series[TEXT] = required()
    qty: Series[QUANTITY] = optional()
    unit_cost: Series[MONEY] = optional()
    amount: Series[MONEY] = required()
    amount_code: Series[TEXT] = currency()
    taxAmount1: Series[QUANTITY] = optional(ge=0, le=100)
    taxAmount2: Series[QUANTITY] = optional(ge=0, le=100)


class FreshBooksPayments(_Staging):
    invoiceid: Series[INT] = required()
    clientid: Series[INT] = optional()
    amount: Series[MONEY] = required()
    amount_code: Series[TEXT] = currency(nullable=False)
    date: Series[DATE] = sane_date(nullable=False)


class FreshBooksExpenses(_Staging):
    categoryid: Series[INT] = required()
    amount: Series[MONEY] = required()
    amount_code: Series[TEXT] = currency(nullable=False)
    date: Series[DATE] = sane_date(nullable=False)


class FreshBooksExpenseCategories(_Staging):
    category: Series[TEXT] = required(str_length={"min_value": 1})


class FreshBooksItems(_Staging):
    name: Series[TEXT] = required(str_length={"min_value": 1})
    unit_cost: Series[MONEY] = optional()
    unit_cost_code: Series[TEXT] = currency()


class FreshBooksTaxes(_Staging):
    name: Series[TEXT] = required()
    amount: Series[QUANTITY] = optional(ge=0, le=100)


class FreshBooksBillVendors(_Staging):
    vendor_name: Series[TEXT] = required()
    currency_code: Series[TEXT] = currency()


class FreshBooksBills(_Staging):
    vendorid: Series[INT] = required()
    issue_date: Series[DATE] = sane_date()
    due_date: Series[DATE] = sane_date()
    currency_code: Series[TEXT] = currency()
    amount: Series[MONEY] = optional()
    outstanding: Series[MONEY] = optional()
    paid: Series[MONEY] = optional()


class FreshBooksBillLines(_Staging):
    bill_id: Series[TEXT] = required()
    categoryid: Series[INT] = required()
    amount: Series[MONEY] = required()
    amount_code: Series[TEXT] = currency()


# -- Infor M3 --------------------------------------------------------------------------------------------


class InforCustomers(_Staging):
    CUNO: Series[TEXT] = m3("CUNO", nullable=False)
    CUNM: Series[TEXT] = m3("CUNM")
    CUA1: Series[TEXT] = m3("CUA1")
    CUA2: Series[TEXT] = m3("CUA2")
    TOWN: Series[TEXT] = m3("TOWN")
    PONO: Series[TEXT] = m3("PONO")
    CSCD: Series[TEXT] = m3("CSCD")
    PHNO: Series[TEXT] = m3("PHNO")
    MAIL: Series[TEXT] = m3("MAIL")
    VRNO: Series[TEXT] = m3("VRNO")
    YREF: Series[TEXT] = m3("YREF")
    CUCD: Series[TEXT] = currency()
    RGDT: Series[DATE] = sane_date()
    LMDT: Series[DATE] = sane_date()


class InforOrders(_Staging):
    ORNO: Series[TEXT] = m3("ORNO", nullable=False)
    CUNO: Series[TEXT] = m3("CUNO", nullable=False)
    CUOR: Series[TEXT] = m3("CUOR")
    YREF: Series[TEXT] = m3("YREF")
    ORDT: Series[DATE] = sane_date()
    CUCD: Series[TEXT] = currency()
    NTAM: Series[MONEY] = optional()
    BRAM: Series[MONEY] = optional()


class InforOrderLines(_Staging):
    order_id: Series[TEXT] = required()
    ITNO: Series[TEXT] = m3("ITNO", nullable=False)
    ITDS: Series[TEXT] = m3("ITDS")
    ORQT: Series[QUANTITY] = optional()
    SAPR: Series[PRICE] = optional()
    NLAM: Series[MONEY] = optional()
    VTP1: Series[QUANTITY] = optional(ge=0, le=100)
    CUCD: Series[TEXT] = currency()


class InforInvoices(_Staging):
    CINO: Series[TEXT] = m3("CINO", nullable=False)
    CUNO: Series[TEXT] = m3("CUNO", nullable=False)
    CUCD: Series[TEXT] = currency(nullable=False)
    CUAM: Series[MONEY] = required()
    VTAM: Series[MONEY] = optional()
    IVDT: Series[DATE] = sane_date(nullable=False)
    DUDT: Series[DATE] = sane_date()
    RECO: Series[TEXT] = m3("RECO")


class InforPayments(_Staging):
    CINO: Series[TEXT] = m3("CINO", nullable=False)
    CUNO: Series[TEXT] = m3("CUNO")
    CUCD: Series[TEXT] = currency(nullable=False)
    CUAM: Series[MONEY] = required()
    ACDT: Series[DATE] = sane_date(nullable=False)
    CKNO: Series[TEXT] = m3("CKNO")


class InforGlAccounts(_Staging):
    AITM: Series[TEXT] = m3("AITM", nullable=False)
    TX40: Series[TEXT] = m3("TX40")
    TX15: Series[TEXT] = m3("TX15")


class InforGlEntries(_Staging):
    AIT1: Series[TEXT] = m3("AIT1", nullable=False)
    ACDT: Series[DATE] = sane_date(nullable=False)
    CUCD: Series[TEXT] = currency()
    CUAM: Series[MONEY] = required()
    VTXT: Series[TEXT] = m3("VTXT")


class InforItems(_Staging):
    ITNO: Series[TEXT] = m3("ITNO", nullable=False)
    ITDS: Series[TEXT] = m3("ITDS")
    FUDS: Series[TEXT] = m3("FUDS")
    UNMS: Series[TEXT] = m3("UNMS")
    SAPR: Series[PRICE] = optional()
    CUCD: Series[TEXT] = currency()


class InforSuppliers(_Staging):
    SUNO: Series[TEXT] = m3("SUNO", nullable=False)
    SUNM: Series[TEXT] = m3("SUNM")
    CUCD: Series[TEXT] = currency()


class InforSupplierInvoices(_Staging):
    SUNO: Series[TEXT] = m3("SUNO", nullable=False)
    SINO: Series[TEXT] = m3("SINO")
    CUCD: Series[TEXT] = currency(nullable=False)
    CUAM: Series[MONEY] = required()
    IVDT: Series[DATE] = sane_date(nullable=False)


class InforStock(_Staging):
    WHLO: Series[TEXT] = m3("WHLO", nullable=False)
    ITNO: Series[TEXT] = m3("ITNO", nullable=False)
    STQT: Series[QUANTITY] = optional()


# -- shop ------------------------------------------------------------------------------------------------

_FINANCIAL = [
    "pending",
    "authorized",
    "partially_paid",
    "paid",
    "partially_refunded",
    "refunded",
    "voided",
    "expired",
]
_FULFILLMENT = ["fulfilled", "partial", "restocked"]


class ShopOrders(_Staging):
    name: Series[TEXT] = required(str_length={"min_value": 1})
    order_number: Series[INT] = optional()
    presentment_currency: Series[TEXT] = currency()
    currency: Series[TEXT] = currency(nullable=False)  # (binds the name last: it shadows the helper)
    financial_status: Series[TEXT] = optional(isin=_FINANCIAL)
    fulfillment_status: Series[TEXT] = optional(isin=_FULFILLMENT)
    total_price: Series[MONEY] = required()
    subtotal_price: Series[MONEY] = optional()
    total_tax: Series[MONEY] = optional()
    total_discounts: Series[MONEY] = optional(ge=0)
    total_price_presentment: Series[MONEY] = optional()
    created_at: Series[STAMP] = required()
    updated_at: Series[STAMP] = required()


class ShopOrderLines(_Staging):
    order_id: Series[TEXT] = required()
    quantity: Series[INT] = required(ge=0)
    current_quantity: Series[INT] = optional(ge=0)
    price: Series[MONEY] = required(ge=0)
    price_presentment: Series[MONEY] = optional(ge=0)


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "freshbooks_clients": FreshBooksClients,
    "freshbooks_invoices": FreshBooksInvoices,
    "freshbooks_invoice_lines": FreshBooksInvoiceLines,
    "freshbooks_payments": FreshBooksPayments,
    "freshbooks_expenses": FreshBooksExpenses,
    "freshbooks_expense_categories": FreshBooksExpenseCategories,
    "freshbooks_items": FreshBooksItems,
    "freshbooks_taxes": FreshBooksTaxes,
    "freshbooks_bill_vendors": FreshBooksBillVendors,
    "freshbooks_bills": FreshBooksBills,
    "freshbooks_bill_lines": FreshBooksBillLines,
    "infor_customers": InforCustomers,
    "infor_orders": InforOrders,
    "infor_order_lines": InforOrderLines,
    "infor_invoices": InforInvoices,
    "infor_payments": InforPayments,
    "infor_gl_accounts": InforGlAccounts,
    "infor_gl_entries": InforGlEntries,
    "infor_items": InforItems,
    "infor_stock": InforStock,
    "infor_suppliers": InforSuppliers,
    "infor_supplier_invoices": InforSupplierInvoices,
    "shop_orders": ShopOrders,
    "shop_order_lines": ShopOrderLines,
}


def schema_columns(table: str) -> list[str]:
    """The columns a table's model reads, in declaration order."""
    return list(SCHEMAS[table].to_schema().columns)
