"""Invoices: each FreshBooks invoice against the M3 customer order that carries its number, and the AR invoice.

The M3 order's customer reference (CUOR) holds the FreshBooks invoice number, so that is the key; the AR
invoice hangs off the order (``core.invoices.order_number``). Totals, tax, currency, dates and the customer
are compared with the configured tolerances.

Two decisions a reader should know:

- An order that M3 has confirmed or delivered but not invoiced yet is ``matched`` when it agrees, with a
  note saying so: for a recent invoice that is the normal state, not an exception.
- Paid status is not compared here. Both systems derive it from their payments, so any disagreement shows
  up, once and actionably, as an unmatched or differing payment in ``recon.payment_matches``.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from finsync_dagster.recon.model import DEFAULT_TOLERANCES, Tolerances
from finsync_dagster.recon.sources import customer_links, fill, relation
from finsync_dagster.recon.sqlparts import date_difference, difference_list, money_difference, text_difference

_INFOR_DOCUMENTS = """
    SELECT o.customer_reference AS ref, o.inf_copy, o.source_id AS order_id, o.order_number,
           o.customer_source_id AS order_customer, o.order_date, o.currency_code AS order_currency,
           o.tax_amount AS order_tax, o.total_amount AS order_total, o.status AS order_status,
           a.source_id AS ar_id, a.invoice_number AS ar_number, a.customer_source_id AS ar_customer,
           a.issue_date AS ar_date, a.due_date AS ar_due, a.currency_code AS ar_currency,
           a.total_amount AS ar_total, a.tax_amount AS ar_tax, a.status AS ar_status
    FROM (
        SELECT *, row_number() OVER (PARTITION BY customer_reference ORDER BY order_date, source_id) AS inf_copy
        FROM __ORDERS__ WHERE source = 'infor'
    ) o
    FULL JOIN (SELECT * FROM __INVOICES__ WHERE source = 'infor') a ON a.order_number = o.order_number
"""

_FRESHBOOKS = """
    SELECT i.source_id, i.invoice_number, i.customer_source_id, i.issue_date, i.due_date, i.currency_code,
           i.total_amount, i.paid_amount, i.status AS fb_status,
           CASE WHEN l.net IS NOT NULL THEN i.total_amount - l.net END AS tax_amount,
           row_number() OVER (PARTITION BY i.invoice_number ORDER BY i.issue_date, i.source_id) AS fb_copy
    FROM __INVOICES__ i
    LEFT JOIN (
        SELECT invoice_source_id, sum(line_amount) AS net FROM __LINES__
        WHERE source = 'freshbooks' GROUP BY invoice_source_id
    ) l ON l.invoice_source_id = i.source_id
    WHERE i.source = 'freshbooks' AND coalesce(i.status, '') NOT IN ('draft', 'void')
"""

_DIFFERENCES = difference_list(
    text_difference("currency_code", "f.currency_code", "coalesce(i.order_currency, i.ar_currency)"),
    money_difference("order_total", "f.total_amount", "i.order_total", "f.currency_code"),
    money_difference("invoice_total", "f.total_amount", "i.ar_total", "f.currency_code"),
    money_difference("tax_amount", "f.tax_amount", "coalesce(i.ar_tax, i.order_tax)", "f.currency_code"),
    date_difference("issue_date", "f.issue_date", "coalesce(i.ar_date, i.order_date)"),
    date_difference("due_date", "f.due_date", "i.ar_due"),
    "CASE WHEN c.infor_id IS NOT NULL AND c.infor_id <> coalesce(i.order_customer, i.ar_customer) THEN "
    "{'field': 'customer', 'freshbooks': f.customer_source_id || ' (Infor ' || c.infor_id || ')', "
    "'infor': coalesce(i.order_customer, i.ar_customer), 'difference': NULL, 'currency': NULL} END",
)

_MATCH = """
WITH fb AS (__FRESHBOOKS__),
inf AS (__INFOR__),
links AS (__LINKS__),
joined AS (
    SELECT f.*, i.*, c.infor_id AS linked_customer,
           CASE WHEN f.source_id IS NOT NULL AND i.ref IS NOT NULL THEN __DIFFERENCES__ END AS diffs,
           first_fb.source_id AS twin_fb, first_fb.invoice_number AS twin_number
    FROM fb f
    FULL JOIN inf i ON f.invoice_number = i.ref AND f.fb_copy = 1 AND i.inf_copy = 1
    LEFT JOIN links c ON c.freshbooks_id = f.customer_source_id
    LEFT JOIN fb first_fb ON first_fb.invoice_number = i.ref AND first_fb.fb_copy = 1 AND i.inf_copy > 1 AND f.source_id IS NULL
),
classified AS (
    SELECT *,
        CASE
            WHEN fb_copy > 1 OR inf_copy > 1 THEN 'duplicate_suspected'
            WHEN source_id IS NULL THEN 'missing_in_freshbooks'
            WHEN order_id IS NULL AND ar_id IS NULL THEN 'missing_in_infor'
            WHEN len(diffs) > 0 THEN 'matched_with_differences'
            ELSE 'matched'
        END AS status
    FROM joined
)
SELECT
    coalesce(source_id, twin_fb) AS freshbooks_id,
    coalesce(order_id, ar_id) AS infor_id,
    status,
    CAST(CASE
        WHEN status IN ('missing_in_infor', 'missing_in_freshbooks') THEN 1.0
        WHEN status = 'duplicate_suspected' THEN 0.9
        WHEN list_contains(list_transform(diffs, lambda d: d.field), 'customer') THEN 0.7
        ELSE 1.0 END AS DOUBLE) AS confidence,
    CASE WHEN source_id IS NOT NULL AND ref IS NOT NULL THEN 'invoice_number' END AS rule,
    false AS suggestion,
    CASE WHEN status = 'matched_with_differences' THEN to_json(diffs) ELSE '[]' END AS differences,
    coalesce(invoice_number, ref, ar_number) AS reference,
    coalesce(fb_customer.name, infor_customer.name) AS customer,
    coalesce(currency_code, order_currency, ar_currency) AS currency_code,
    total_amount AS freshbooks_amount,
    coalesce(order_total, ar_total) AS infor_amount,
    CAST(CASE
        WHEN status = 'matched' THEN 0
        WHEN status <> 'matched_with_differences' THEN coalesce(total_amount, order_total, ar_total)
        WHEN currency_code IS DISTINCT FROM coalesce(order_currency, ar_currency) THEN total_amount
        ELSE greatest(abs(total_amount - order_total), abs(total_amount - ar_total), abs(tax_amount - coalesce(ar_tax, order_tax)), 0)
    END AS DECIMAL(18,2)) AS amount_at_stake,
    coalesce(issue_date, ar_date, order_date) AS item_date,
    CASE
        WHEN status = 'missing_in_infor' THEN 'No M3 customer order carries this invoice number as its customer reference.'
        WHEN status = 'missing_in_freshbooks' AND order_id IS NOT NULL
            THEN 'M3 order ' || order_number || ' (' || coalesce(order_status, '?') || ') has no FreshBooks invoice.'
        WHEN status = 'missing_in_freshbooks' THEN 'M3 AR invoice ' || ar_number || ' has no order link and no FreshBooks invoice.'
        WHEN status = 'duplicate_suspected' THEN 'The invoice number appears more than once in one system.'
        WHEN status = 'matched_with_differences'
            THEN 'Differs in ' || array_to_string(list_transform(diffs, lambda d: d.field), ', ') || '.'
        WHEN ar_id IS NULL THEN 'M3 order ' || order_number || ' is ' || coalesce(order_status, 'open') || ', not invoiced yet (expected for a recent invoice).'
    END AS note,
    order_id AS infor_order_id,
    ar_id AS infor_invoice_id,
    order_number AS infor_order_number,
    ar_number AS infor_invoice_number,
    fb_status AS freshbooks_status,
    coalesce(CASE WHEN ar_id IS NOT NULL THEN 'invoiced, ' || ar_status END, order_status) AS infor_status,
    due_date AS due_date
FROM classified
LEFT JOIN (SELECT source_id AS fb_cid, name FROM __CUSTOMERS__ WHERE source = 'freshbooks') fb_customer
    ON fb_customer.fb_cid = classified.customer_source_id
LEFT JOIN (SELECT source_id AS inf_cid, name FROM __CUSTOMERS__ WHERE source = 'infor') infor_customer
    ON infor_customer.inf_cid = coalesce(order_customer, ar_customer)
ORDER BY reference, freshbooks_id, infor_id
"""


def match_invoices(con: duckdb.DuckDBPyConnection, tolerances: Tolerances = DEFAULT_TOLERANCES) -> pa.Table:
    """``recon.invoice_matches`` rows for the ``core`` tables in ``con``."""
    sql = fill(
        _MATCH,
        FRESHBOOKS=_FRESHBOOKS,
        INFOR=_INFOR_DOCUMENTS,
        DIFFERENCES=_DIFFERENCES,
        INVOICES=relation(con, "core.invoices"),
        LINES=relation(con, "core.invoice_lines"),
        ORDERS=relation(con, "core.orders"),
        CUSTOMERS=relation(con, "core.customers"),
        LINKS=customer_links(con),
    )
    params = {"amount_tolerance": tolerances.amount, "days": tolerances.days}
    return con.sql(sql, params=params).to_arrow_table()
