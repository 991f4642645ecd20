"""Payments: FreshBooks payments against M3 cash receipts applied to the same invoice.

The invoice a payment settles is taken from ``recon.invoice_matches`` (FreshBooks invoice id on one side,
the M3 AR invoice on the other), so both sides group by the same invoice number. Partial payments and
instalments pair one to one by amount; a payment entered once in one system and in parts in the other,
or one payment covering several invoices, pairs by sums (see :mod:`pairing`). A payment recorded twice in
one system is ``duplicate_suspected``.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from finsync_dagster.core import TABLES as CORE_TABLES
from finsync_dagster.recon.model import DEFAULT_TOLERANCES, MATCH_TABLES, Tolerances
from finsync_dagster.recon.pairing import pair_amounts
from finsync_dagster.recon.sources import customer_links, fill, relation
from finsync_dagster.recon.sqlparts import reference_token
from finsync_dagster.warehouse import table_exists

_SIDE = """(
    WITH invoice_keys AS (__KEYS__), links AS (__LINKS__)
    SELECT p.source_id AS id,
        coalesce(k.invoice_key, '__SOURCE__:' || p.invoice_source_id) AS grp,
        __PARTY__ AS party,
        p.currency_code, p.amount, p.payment_date AS on_date,
        __REF__ AS ref,
        coalesce(__REF__, p.source_id) || ' on ' || coalesce(k.invoice_key, p.invoice_number, p.invoice_source_id) AS label,
        c.name AS customer
    FROM __PAYMENTS__ p
    LEFT JOIN invoice_keys k ON k.document_id = p.invoice_source_id
    LEFT JOIN links l ON l.infor_id = p.customer_source_id
    LEFT JOIN __CUSTOMERS__ c ON c.source = p.source AND c.source_id = p.customer_source_id
    WHERE p.source = '__SOURCE__'
)"""

_KEYS = {
    "freshbooks": "SELECT freshbooks_id AS document_id, min(reference) AS invoice_key FROM {table} "
    "WHERE freshbooks_id IS NOT NULL AND status <> 'duplicate_suspected' GROUP BY freshbooks_id",
    "infor": "SELECT infor_invoice_id AS document_id, min(reference) AS invoice_key FROM {table} "
    "WHERE infor_invoice_id IS NOT NULL AND status <> 'duplicate_suspected' GROUP BY infor_invoice_id",
}
_NO_KEYS = "SELECT CAST(NULL AS VARCHAR) AS document_id, CAST(NULL AS VARCHAR) AS invoice_key WHERE false"
_PARTY = {
    "freshbooks": "p.customer_source_id",
    "infor": "coalesce(l.freshbooks_id, 'infor:' || p.customer_source_id)",
}


def match_payments(con: duckdb.DuckDBPyConnection, tolerances: Tolerances = DEFAULT_TOLERANCES) -> pa.Table:
    """``recon.payment_matches`` rows; reads ``recon.invoice_matches`` for the invoice each payment settles."""
    has_invoices = table_exists(con, MATCH_TABLES["invoices"])
    sides = {
        source: fill(
            _SIDE,
            KEYS=_KEYS[source].format(table=MATCH_TABLES["invoices"]) if has_invoices else _NO_KEYS,
            LINKS=customer_links(con),
            PARTY=_PARTY[source],
            REF=reference_token("p.reference"),
            PAYMENTS=relation(con, CORE_TABLES["payments"]),
            CUSTOMERS=relation(con, CORE_TABLES["customers"]),
            SOURCE=source,
        )
        for source in ("freshbooks", "infor")
    }
    return pair_amounts(
        con, sides["freshbooks"], sides["infor"], tolerances, amount_field="amount", date_field="payment_date"
    )
