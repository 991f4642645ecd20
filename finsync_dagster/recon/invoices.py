"""Invoices: each FreshBooks invoice against the M3 customer order that carries its number, and the AR invoice.

The M3 order's customer reference (CUOR) holds the FreshBooks invoice number, so that is the key; the AR
invoice hangs off the order (``core.invoices.order_number``). Totals, tax, currency, dates and the customer
are compared with the configured tolerances.

Three decisions a reader should know:

- Drafts and voids are matched like any invoice, with FreshBooks' status beside M3's. A void invoice
  against an M3 order, or a draft M3 has already invoiced, differs in ``status``. A draft no M3 order
  carries is ``unmatched_expected`` unless ``draft_without_order_is_exception`` (then
  ``missing_in_infor``); a void invoice with no M3 order is ``unmatched_expected``.
- An order that M3 has confirmed or delivered but not invoiced yet is ``matched`` when it agrees, with a
  note saying so: for a recent invoice that is the normal state, not an exception.
- Paid status is not compared here. Both systems derive it from their payments, so any disagreement shows
  up, once and actionably, as an unmatched or differing payment in ``recon.payment_matches``.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from finsync_dagster.core import TABLES as CORE_TABLES
from finsync_dagster.recon.model import AT_STAKE_SQL, DEFAULT_TOLERANCES, Tolerances
from finsync_dagster.recon.sources import customer_links, fill, relation
from finsync_dagster.recon.sqlparts import (
    Difference,
    any_difference,
    date_difference,
    differing_items,
    money_difference,
    text_difference,
)
from finsync_dagster.warehouse import registered


def _key(column: str) -> str:
    """``column`` as a join key: NULL when blank (trimmed only when it has an edge space: trim is costly)."""
    return (
        f"CASE WHEN {column} = '' THEN NULL "
        f"WHEN starts_with({column}, ' ') OR ends_with({column}, ' ') THEN nullif(trim({column}), '') "
        f"ELSE {column} END"
    )


def _copies(relation: str, key: str, order: str, repeated: str) -> str:
    """Rank of each record among those sharing ``key`` (1 = the oldest), for duplicated keys only.

    ``repeated`` names the key hashes held by more than one record (see :func:`_repeated_hashes`); the
    records are ranked by the real key, so a hash collision costs a few rows, never a wrong rank.
    """
    return f"""SELECT source_id, {key} AS key, row_number() OVER (PARTITION BY {key} ORDER BY {order}, source_id) AS copy
        FROM {relation} WHERE {key} IS NOT NULL AND hash({key}) IN (SELECT h FROM {repeated})"""


_NO_COPIES = "SELECT CAST(NULL AS VARCHAR) AS source_id, CAST(NULL AS VARCHAR) AS key, 1 AS copy WHERE false"


_ORDERS_OF = "(SELECT * FROM __ORDERS__ WHERE source = 'infor')"
_AR_OF = "(SELECT * FROM __INVOICES__ WHERE source = 'infor')"
_FB_OF = "(SELECT * FROM __INVOICES__ WHERE source = 'freshbooks')"

# Orders sharing a customer reference, ranked; each copy after the first cites the FreshBooks invoice the
# first pairs with (the oldest with that number), read here from the few duplicated rows only.
_ORDER_MARKS = f"""
    WITH ranked AS (__ORDER_COPIES__),
    fb AS (
        SELECT {_key("invoice_number")} AS number, arg_min(source_id, (issue_date, source_id)) AS twin_fb
        FROM {_FB_OF} WHERE {_key("invoice_number")} IN (SELECT key FROM ranked WHERE copy > 1) GROUP BY 1
    )
    SELECT ranked.source_id, ranked.copy, CASE WHEN ranked.copy > 1 THEN fb.twin_fb END AS twin_fb
    FROM ranked LEFT JOIN fb ON fb.number = ranked.key
"""

# Orders and AR invoices joined on the order number. A blank customer reference (an order keyed in M3
# directly) is no key: such orders never join and are never one another's duplicates. Of several orders
# with one reference, or several AR invoices of one order, the oldest is "the" one (copy 1).
_INFOR_DOCUMENTS = f"""
    WITH a_copies AS (__AR_COPIES__),
    orders AS NOT MATERIALIZED (
        SELECT o.*, {_key("o.customer_reference")} AS ref, coalesce(m.copy, 1) AS inf_copy, m.twin_fb
        FROM {_ORDERS_OF} o LEFT JOIN order_marks m ON m.source_id = o.source_id
    ),
    ar AS NOT MATERIALIZED (
        SELECT a.*, coalesce(c.copy, 1) AS ar_copy,
               CASE WHEN c.copy IS NULL OR c.copy = 1 THEN a.order_number END AS order_key
        FROM {_AR_OF} a LEFT JOIN a_copies c ON c.source_id = a.source_id
    )
    SELECT o.ref, coalesce(o.inf_copy, 1) AS inf_copy, o.twin_fb,
           CASE WHEN o.inf_copy = 1 THEN o.ref END AS join_ref,
           o.source_id AS order_id, o.order_number,
           o.customer_source_id AS order_customer, o.order_date, o.currency_code AS order_currency,
           o.tax_amount AS order_tax, o.total_amount AS order_total, o.status AS order_status,
           a.source_id AS ar_id, a.invoice_number AS ar_number, a.customer_source_id AS ar_customer,
           a.issue_date AS ar_date, a.due_date AS ar_due, a.currency_code AS ar_currency,
           a.total_amount AS ar_total, a.tax_amount AS ar_tax, a.status AS ar_status,
           coalesce(a.ar_copy, 1) > 1 AS further_ar, a.order_number AS ar_order_number,
           -- What M3 says, from the AR invoice where it has one and the order otherwise (or the other way).
           coalesce(o.currency_code, a.currency_code) AS infor_currency,
           coalesce(o.total_amount, a.total_amount) AS infor_total,
           coalesce(a.tax_amount, o.tax_amount) AS infor_tax,
           coalesce(a.issue_date, o.order_date) AS infor_date,
           coalesce(o.customer_source_id, a.customer_source_id) AS infor_customer
    FROM orders o
    FULL JOIN ar a ON a.order_key = o.order_number
"""

# Every FreshBooks invoice, drafts and voids included: a draft is a FreshBooks invoice (order-to-cash
# creates them), and a void one against a live M3 order is a difference a controller wants to see.
_FRESHBOOKS = f"""
    WITH copies AS (__FB_COPIES__)
    SELECT i.source_id, i.invoice_number, i.customer_source_id, i.issue_date, i.due_date, i.currency_code,
           i.total_amount, i.status AS fb_status,
           CASE WHEN l.net IS NOT NULL THEN i.total_amount - l.net END AS tax_amount,
           coalesce(c.copy, 1) AS fb_copy,
           CASE WHEN c.copy IS NULL OR c.copy = 1 THEN {_key("i.invoice_number")} END AS join_number
    FROM {_FB_OF} i
    LEFT JOIN copies c ON c.source_id = i.source_id
    LEFT JOIN (
        SELECT invoice_source_id, sum(line_amount) AS net FROM __LINES__
        WHERE source = 'freshbooks' GROUP BY invoice_source_id
    ) l ON l.invoice_source_id = i.source_id
"""

# A FreshBooks status that contradicts M3's: void while M3 still has the order, or a draft M3 has invoiced.
_STATUS_DIFFERS = "(fb_status = 'void' OR (fb_status = 'draft' AND ar_id IS NOT NULL))"
_COMPARED = (
    text_difference("currency_code", "currency_code", "infor_currency"),
    money_difference("order_total", "total_amount", "order_total", "currency_code"),
    money_difference("invoice_total", "total_amount", "ar_total", "currency_code"),
    money_difference("tax_amount", "tax_amount", "infor_tax", "currency_code"),
    date_difference("issue_date", "issue_date", "infor_date", "$date_tolerance_days"),
    date_difference("due_date", "due_date", "ar_due", "$date_tolerance_days"),
    Difference(
        "customer_differs",
        "{'field': 'customer', 'freshbooks': customer_source_id || ' (Infor ' || linked_customer || ')', "
        "'infor': infor_customer, 'difference': NULL, 'currency': NULL}",
    ),
    Difference(
        _STATUS_DIFFERS,
        "{'field': 'status', 'freshbooks': fb_status, "
        "'infor': coalesce(CASE WHEN ar_id IS NOT NULL THEN 'invoiced' END, order_status, 'open'), "
        "'difference': NULL, 'currency': NULL}",
    ),
)

# The match is one pass over the three tables: two hash joins on the keys, with the few duplicated keys
# ranked beforehand. Whether a pair differs is decided by equality tests on the native columns; the
# list of differences, the JSON and the notes are built only for the rows that need them.
_MATCH = """
WITH order_marks AS (__ORDER_MARKS__),
fb AS NOT MATERIALIZED (__FRESHBOOKS__),
inf AS NOT MATERIALIZED (__INFOR__),
links AS (__LINKS__),
joined AS NOT MATERIALIZED (
    SELECT f.*, i.*, c.infor_id AS linked_customer,
           f.source_id IS NOT NULL AND i.join_ref IS NOT NULL AS paired,
           coalesce(fb_copy > 1 OR inf_copy > 1, false) AS duplicate,
           coalesce(c.infor_id <> i.infor_customer, false) AS customer_differs
    FROM fb f
    FULL JOIN inf i ON f.join_number = i.join_ref
    LEFT JOIN links c ON c.freshbooks_id = f.customer_source_id
),
compared AS NOT MATERIALIZED (
    SELECT *, CASE WHEN paired THEN __ANY_DIFFERENCE__ ELSE false END AS differs FROM joined
),
classified AS NOT MATERIALIZED (
    SELECT *,
        CASE
            WHEN duplicate THEN 'duplicate_suspected'
            WHEN source_id IS NULL THEN 'missing_in_freshbooks'
            WHEN order_id IS NULL AND ar_id IS NULL THEN
                CASE WHEN fb_status = 'void' OR (fb_status = 'draft' AND NOT $draft_without_order_is_exception)
                     THEN 'unmatched_expected' ELSE 'missing_in_infor' END
            WHEN differs THEN 'matched_with_differences'
            ELSE 'matched'
        END AS status,
        CASE WHEN differs THEN __DIFFERING_ITEMS__ END AS diffs
    FROM compared
)
SELECT
    coalesce(source_id, twin_fb) AS freshbooks_id,
    coalesce(order_id, ar_id) AS infor_id,
    status,
    CAST(CASE WHEN duplicate THEN 0.9 WHEN differs AND customer_differs THEN 0.7 ELSE 1.0 END AS DOUBLE)
        AS confidence,
    CASE WHEN paired THEN 'invoice_number' END AS rule,
    false AS suggestion,
    CASE WHEN differs THEN to_json(diffs) ELSE '[]' END AS differences,
    coalesce(invoice_number, ref, ar_number) AS reference,
    coalesce(fb_name.name, infor_name.name) AS customer,
    coalesce(currency_code, infor_currency) AS currency_code,
    total_amount AS freshbooks_amount,
    infor_total AS infor_amount,
    -- Exposure, never netted: a negative amount (a credit) is at stake as much as a positive one.
    CAST(CASE
        WHEN differs THEN CASE
            WHEN fb_status = 'void' THEN abs(infor_total)
            WHEN currency_code IS DISTINCT FROM infor_currency THEN abs(total_amount)
            ELSE greatest(abs(total_amount - order_total), abs(total_amount - ar_total), abs(tax_amount - infor_tax), 0)
        END
        WHEN paired OR status = 'unmatched_expected' THEN 0
        ELSE abs(coalesce(total_amount, infor_total))
    END AS __AT_STAKE__) AS amount_at_stake,
    coalesce(issue_date, infor_date) AS item_date,
    CASE
        WHEN paired AND NOT differs THEN CASE WHEN ar_id IS NULL
            THEN 'M3 order ' || order_number || ' is ' || coalesce(order_status, 'open') || ', not invoiced yet (expected for a recent invoice).' END
        WHEN differs THEN 'Differs in ' || array_to_string(list_transform(diffs, lambda d: d.field), ', ') || '.'
        WHEN status = 'unmatched_expected' AND fb_status = 'void' THEN 'Void in FreshBooks, and M3 has no order for it: nothing to do.'
        WHEN status = 'unmatched_expected' THEN 'A FreshBooks draft no M3 order carries yet (not an exception until it is sent: reconciliation.draft_without_order_is_exception).'
        WHEN status = 'missing_in_infor' THEN 'No M3 customer order carries this invoice number as its customer reference.'
        WHEN status = 'missing_in_freshbooks' AND order_id IS NOT NULL AND ref IS NULL
            THEN 'M3 order ' || order_number || ' (' || coalesce(order_status, '?') || ') has no customer reference (CUOR), so no FreshBooks invoice can be found for it.'
        WHEN status = 'missing_in_freshbooks' AND order_id IS NOT NULL
            THEN 'M3 order ' || order_number || ' (' || coalesce(order_status, '?') || ') has no FreshBooks invoice.'
        WHEN status = 'missing_in_freshbooks' AND further_ar
            THEN 'M3 AR invoice ' || ar_number || ' is a further invoice of order ' || ar_order_number || ', which another AR invoice reconciles.'
        WHEN status = 'missing_in_freshbooks' THEN 'M3 AR invoice ' || ar_number || ' has no order link and no FreshBooks invoice.'
        WHEN duplicate THEN 'The invoice number appears more than once in one system.'
    END AS note,
    order_id AS infor_order_id,
    ar_id AS infor_invoice_id,
    order_number AS infor_order_number,
    ar_number AS infor_invoice_number,
    fb_status AS freshbooks_status,
    coalesce(CASE WHEN ar_id IS NOT NULL THEN 'invoiced, ' || ar_status END, order_status) AS infor_status,
    due_date AS due_date
FROM classified
LEFT JOIN (SELECT source_id AS fb_cid, name FROM __CUSTOMERS__ WHERE source = 'freshbooks') fb_name
    ON fb_name.fb_cid = classified.customer_source_id
LEFT JOIN (SELECT source_id AS inf_cid, name FROM __CUSTOMERS__ WHERE source = 'infor') infor_name
    ON infor_name.inf_cid = classified.infor_customer
"""


# What a record is keyed by, per kind: (relation, key, what orders its copies).
_KEYED = {
    "fb": (_FB_OF, _key("invoice_number"), "issue_date"),
    "order": (_ORDERS_OF, _key("customer_reference"), "order_date"),
    "ar": (_AR_OF, "order_number", "issue_date"),
}


def _repeated_hashes(con: duckdb.DuckDBPyConnection, relation: str, key: str) -> pa.Table:
    """The hashes of ``key`` that more than one record of ``relation`` holds.

    Found by sorting a million 64-bit integers in numpy, several times cheaper than DuckDB's hash
    aggregate with a million groups (which was a third of the matcher's time).
    """
    hashes = con.sql(f"SELECT hash({key}) AS h FROM {relation} WHERE {key} IS NOT NULL").fetchnumpy()["h"]
    hashes = np.sort(np.asarray(hashes, dtype=np.uint64))
    return pa.table({"h": pa.array(np.unique(hashes[1:][hashes[1:] == hashes[:-1]]), pa.uint64())})


def match_invoices(con: duckdb.DuckDBPyConnection, tolerances: Tolerances = DEFAULT_TOLERANCES) -> pa.Table:
    """``recon.invoice_matches`` rows for the ``core`` tables in ``con``."""
    tables = {
        "INVOICES": relation(con, CORE_TABLES["invoices"]),
        "LINES": relation(con, CORE_TABLES["invoice_lines"]),
        "ORDERS": relation(con, CORE_TABLES["orders"]),
        "CUSTOMERS": relation(con, CORE_TABLES["customers"]),
    }
    repeated, copies = {}, {}
    for kind, (rows, key, order) in _KEYED.items():
        rows = fill(rows, **tables)
        hashes = _repeated_hashes(con, rows, key)
        name = f"__recon_repeated_{kind}"
        if hashes.num_rows:
            repeated[name] = hashes
        copies[f"{kind.upper()}_COPIES"] = _copies(rows, key, order, name) if hashes.num_rows else _NO_COPIES
    sql = fill(
        _MATCH,
        FRESHBOOKS=_FRESHBOOKS,
        INFOR=_INFOR_DOCUMENTS,
        ORDER_MARKS=_ORDER_MARKS,
        ANY_DIFFERENCE=any_difference(*_COMPARED),
        DIFFERING_ITEMS=differing_items(*_COMPARED),
        **copies,
        **tables,
        LINKS=customer_links(con),
        AT_STAKE=AT_STAKE_SQL,
    )
    params = {
        "amount_tolerance": tolerances.amount_tolerance,
        "date_tolerance_days": tolerances.date_tolerance_days,
        "draft_without_order_is_exception": tolerances.draft_without_order_is_exception,
    }
    with registered(con, **repeated):
        return con.sql(sql, params=params).to_arrow_table()
