"""Infor M3 staging tables, read through EXPORTMI from M3's own tables.

Columns carry the MI field names (``CUNO``, ``CUNM``; EXPORTMI's two-letter table prefix removed). M3
sends every value as a string: dates as ``yyyyMMdd`` (``0`` or blank for none), amounts as plain
numbers. ``LMDT``/``LMTS`` (last change date and timestamp) drive incremental reads. M3 deletes rows
outright, so deletions show up only when a full read no longer returns a row.
"""

from __future__ import annotations

from dataclasses import dataclass

from finsync_dagster.staging.columns import Column, Kind, TableSpec

C = Column
_D, _A, _Q, _I, _P = Kind.M3_DATE, Kind.M3_DECIMAL, Kind.M3_QUANTITY, Kind.M3_INT, Kind.M3_PRICE


def _field(name: str) -> str:
    return f"NULLIF(trim(json_extract_string(raw, '$.{name}')), '')"


# Last change as a UTC timestamp: LMTS is M3's yyyyMMddHHmmssfff change stamp (UTC); LMDT, the change
# date, stands in when a table has no LMTS.
_LMTS = _field("LMTS")
_UPDATED = (
    f"COALESCE(timezone('UTC', TRY_STRPTIME(left({_LMTS}, 14), '%Y%m%d%H%M%S')"
    f" + to_milliseconds(COALESCE(TRY_CAST(substr({_LMTS}, 15, 3) AS INTEGER), 0))), "
    f"timezone('UTC', CAST(TRY_STRPTIME(NULLIF({_field('LMDT')}, '0'), '%Y%m%d') AS TIMESTAMP)))"
)
_STAMPS = (
    C("RGDT", _D, description="entry date"),
    C("LMDT", _D, description="last change date"),
    C("LMTS", _I),
)


@dataclass(frozen=True)
class ExportSource:
    """Where a staging table's rows come from: an M3 table, its EXPORTMI prefix, and a fixed filter."""

    table: str
    prefix: str
    columns: tuple[str, ...]
    where: tuple[tuple[str, str, str], ...] = ()
    key: str | None = None  # a unique column: read in pages of ``where KEY > last`` instead of all at once


def _columns(spec: TableSpec) -> tuple[str, ...]:
    return tuple(column.path or column.name for column in spec.columns)


CUSTOMERS = TableSpec(
    name="infor_customers",
    system="infor",
    description="M3 customers (OCUSMA), one row per customer number CUNO.",
    id_expression=_field("CUNO"),
    updated_expression=_UPDATED,
    columns=(
        C("CUNO", description="customer number"),
        C("CUNM", description="customer name"),
        C("CUA1"),
        C("CUA2"),
        C("CUA3"),
        C("CUA4"),
        C("PONO", description="postal code"),
        C("TOWN"),
        C("CSCD", description="country"),
        C("ECAR", description="state/province"),
        C("PHNO"),
        C("MAIL", description="e-mail address"),
        C("CUTP"),
        C("CUCL", description="customer group"),
        C("STAT"),
        C("LNCD"),
        C("CUCD", description="currency"),
        C("VRNO", description="VAT number"),
        C("TEPY", description="payment terms"),
        C("ORTP"),
        C("YREF", description="your reference"),
        *_STAMPS,
    ),
)

ORDERS = TableSpec(
    name="infor_orders",
    system="infor",
    description="M3 customer order heads (OOHEAD); CUOR carries the customer's reference (the FreshBooks invoice number).",
    id_expression=_field("ORNO"),
    updated_expression=_UPDATED,
    columns=(
        C("ORNO", description="order number"),
        C("ORTP"),
        C("FACI"),
        C("WHLO"),
        C("CUNO"),
        C("CUOR", description="customer's order reference"),
        C("ORDT", _D, description="order date"),
        C("RLDT", _D),
        C("CUCD", description="currency"),
        C("ORSL", description="lowest line status"),
        C("ORST", description="highest line status"),
        C("NTAM", _A, description="net amount"),
        C("VTAM", _A, description="VAT amount"),
        C("BRAM", _A, description="gross amount"),
        C("YREF"),
        *_STAMPS,
    ),
)

ORDER_LINES = TableSpec(
    name="infor_order_lines",
    system="infor",
    description="M3 customer order lines (OOLINE); id is '<ORNO>-<PONR>-<POSX>'.",
    id_expression=f"{_field('ORNO')} || '-' || {_field('PONR')} || '-' || coalesce({_field('POSX')}, '0')",
    updated_expression=_UPDATED,
    parent_column="order_id",
    parent_expression=_field("ORNO"),
    columns=(
        C("ORNO"),
        C("PONR", _I),
        C("POSX", _I),
        C("ITNO", description="item number"),
        C("ITDS"),
        C("WHLO"),
        C("ORQT", _Q, description="ordered quantity"),
        C("DLQT", _Q),
        C("IVQT", _Q),
        C("SAPR", _P, description="sales price"),
        C("NLAM", _A, description="net line amount"),
        C("VTCD"),
        C("VTP1", _Q, description="VAT rate in percent"),
        C("CUCD"),
        C("ORST"),
        *_STAMPS,
    ),
)

INVOICES = TableSpec(
    name="infor_invoices",
    system="infor",
    description="M3 AR ledger invoices (FSLEDG transaction code 10); id is '<INYR>-<CINO>'. RECO 9 = paid.",
    id_expression=f"{_field('INYR')} || '-' || {_field('CINO')}",
    updated_expression=_UPDATED,
    columns=(
        C("CINO", description="invoice number"),
        C("INYR", _I),
        C("CUNO"),
        C("PYNO"),
        C("TRCD"),
        C("CUCD", description="currency"),
        C("CUAM", _A, description="invoice amount incl. VAT"),
        C("VTAM", _A, description="VAT amount"),
        C("IVDT", _D, description="invoice date"),
        C("DUDT", _D, description="due date"),
        C("ACDT", _D),
        C("RECO", description="reconciliation code: 9 = paid"),
        C("REDE", _D, description="reconciliation date"),
        C("VONO"),
        C("TDSC"),
        C("YEA4", _I),
        C("JRNO", _I),
        C("JSNO", _I),
        *_STAMPS,
    ),
)

PAYMENTS = TableSpec(
    name="infor_payments",
    system="infor",
    description="M3 cash receipts applied to AR invoices (FSLEDG transaction code 20); id is '<YEA4>-<JRNO>-<JSNO>'.",
    id_expression=f"{_field('YEA4')} || '-' || {_field('JRNO')} || '-' || {_field('JSNO')}",
    updated_expression=_UPDATED,
    columns=(
        C("CINO", description="invoice the cash was applied to"),
        C("INYR", _I),
        C("CUNO"),
        C("TRCD"),
        C("CUCD"),
        C("CUAM", _A, description="amount (negative: reduces the receivable)"),
        C("ACDT", _D, description="payment date"),
        C("RECO"),
        C("CKNO", description="payment reference"),
        C("PBID", description="payment batch"),
        C("VONO"),
        C("TDSC"),
        C("YEA4", _I),
        C("JRNO", _I),
        C("JSNO", _I),
        *_STAMPS,
    ),
)

GL_ACCOUNTS = TableSpec(
    name="infor_gl_accounts",
    system="infor",
    description="M3 chart of accounts (FCHACC, accounting dimension 1).",
    id_expression=_field("AITM"),
    updated_expression=_UPDATED,
    columns=(
        C("AITM", description="account"),
        C("AITP"),
        C("TX40", description="name"),
        C("TX15"),
        C("AICL"),
        *_STAMPS,
    ),
)

GL_ENTRIES = TableSpec(
    name="infor_gl_entries",
    system="infor",
    description="M3 general ledger transactions (FGLEDG); id is '<YEA4>-<JRNO>-<JSNO>'.",
    id_expression=f"{_field('YEA4')} || '-' || {_field('JRNO')} || '-' || {_field('JSNO')}",
    updated_expression=_UPDATED,
    columns=(
        C("AIT1", description="account"),
        C("AIT2"),
        C("AIT3"),
        C("ACDT", _D, description="accounting date"),
        C("CUCD"),
        C("CUAM", _A, description="amount in currency (debit positive)"),
        C("ACAM", _A),
        C("DBCR"),
        C("TRCD"),
        C("VSER"),
        C("VONO"),
        C("VTXT", description="voucher text"),
        C("VDSC"),
        C("YEA4", _I),
        C("JRNO", _I),
        C("JSNO", _I),
        *_STAMPS,
    ),
)

ITEMS = TableSpec(
    name="infor_items",
    system="infor",
    description="M3 items (MITMAS).",
    id_expression=_field("ITNO"),
    updated_expression=_UPDATED,
    columns=(
        C("ITNO"),
        C("ITDS", description="name"),
        C("FUDS"),
        C("STAT"),
        C("UNMS"),
        C("ITTY"),
        C("ITGR"),
        C("SAPR", _P, description="sales price"),
        C("CUCD"),
        *_STAMPS,
    ),
)

STOCK = TableSpec(
    name="infor_stock",
    system="infor",
    description="M3 item balances per warehouse (MITBAL); id is '<WHLO>-<ITNO>'.",
    id_expression=f"{_field('WHLO')} || '-' || {_field('ITNO')}",
    updated_expression=_UPDATED,
    columns=(
        C("WHLO"),
        C("ITNO"),
        C("FACI"),
        C("STQT", _Q, description="on hand"),
        C("ALQT", _Q, description="allocated"),
        C("AV01", _Q, description="available"),
        *_STAMPS,
    ),
)

SUPPLIERS = TableSpec(
    name="infor_suppliers",
    system="infor",
    description="M3 suppliers (CIDMAS), one row per supplier number SUNO.",
    id_expression=_field("SUNO"),
    updated_expression=_UPDATED,
    columns=(
        C("SUNO", description="supplier number"),
        C("SUNM", description="supplier name"),
        C("ALSU", description="search key"),
        C("STAT"),
        C("CSCD", description="country"),
        C("ECAR", description="state/province"),
        C("CUCD", description="currency"),
        C("TEPY", description="payment terms"),
        C("PYME"),
        C("PHNO"),
        C("VRNO", description="VAT number"),
        C("SUCM", description="communication (e-mail where the sandbox keeps it)"),
        *_STAMPS,
    ),
)

SUPPLIER_INVOICES = TableSpec(
    name="infor_supplier_invoices",
    system="infor",
    description="M3 AP ledger supplier invoices (FPLEDG transaction code 40); id is '<YEA4>-<JRNO>-<JSNO>'.",
    id_expression=f"{_field('YEA4')} || '-' || {_field('JRNO')} || '-' || {_field('JSNO')}",
    updated_expression=_UPDATED,
    columns=(
        C("SUNO"),
        C("SPYN", description="payee"),
        C("SINO", description="supplier's invoice number"),
        C("INYR", _I),
        C("TRCD"),
        C("CUCD", description="currency"),
        C("CUAM", _A, description="invoice amount incl. VAT (negative: a payable)"),
        C("VTAM", _A, description="VAT amount (negative)"),
        C("IVDT", _D, description="invoice date"),
        C("DUDT", _D, description="due date"),
        C("ACDT", _D),
        C("VONO"),
        C("RECO"),
        C("YEA4", _I),
        C("JRNO", _I),
        C("JSNO", _I),
        *_STAMPS,
    ),
)

# staging table -> (its spec, the M3 table it comes from); keyed as FRESHBOOKS_TABLES is.
INFOR_TABLES: dict[str, tuple[TableSpec, ExportSource]] = {
    spec.name: (spec, ExportSource(table, prefix, _columns(spec), where, key))
    for spec, table, prefix, where, key in (
        (CUSTOMERS, "OCUSMA", "OK", (), "CUNO"),
        (ORDERS, "OOHEAD", "OA", (), "ORNO"),
        (ORDER_LINES, "OOLINE", "OB", (), None),
        (INVOICES, "FSLEDG", "ES", (("TRCD", "=", "10"),), None),
        (PAYMENTS, "FSLEDG", "ES", (("TRCD", "=", "20"),), None),
        (GL_ACCOUNTS, "FCHACC", "EA", (("AITP", "=", "1"),), "AITM"),
        (GL_ENTRIES, "FGLEDG", "EG", (), None),
        (ITEMS, "MITMAS", "MM", (), "ITNO"),
        (STOCK, "MITBAL", "MB", (), None),
        (SUPPLIERS, "CIDMAS", "ID", (), "SUNO"),
        (SUPPLIER_INVOICES, "FPLEDG", "EP", (("TRCD", "=", "40"),), None),
    )
}
