"""Row rules that need SQL: exact money sums, other tables, and the raw record beside its typed columns.

Each rule is one DuckDB query returning ``(record_id, reason)`` for the live rows that break it, so a
million rows are checked in one pass with exact DECIMAL arithmetic (DuckDB's ``/`` turns decimals into
doubles, so percentages are multiplied by ``0.01`` instead). A record breaking a rule is quarantined.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from finsync_dagster.staging.columns import Kind, TableSpec
from finsync_dagster.warehouse import qualified
from finsync_dagster.warehouse.schemas import STAGING

_TYPED_AS_TEXT = (Kind.TEXT,)


@dataclass(frozen=True)
class RowRule:
    """A named rule over one staging table; ``sql`` selects ``record_id, reason`` of the rows breaking it."""

    name: str
    table: str
    description: str
    sql: str
    needs: tuple[str, ...] = ()  # other staging tables it reads; skipped until they exist


_INVOICE_TOTAL = """
WITH lines AS (
  SELECT l.invoice_id,
         sum(l.amount) AS subtotal,
         sum(round((l.amount - round(l.amount * coalesce(i.discount_value, 0) * 0.01, 2))
                   * coalesce(l."taxAmount1", 0) * 0.01, 2)
           + round((l.amount - round(l.amount * coalesce(i.discount_value, 0) * 0.01, 2))
                   * coalesce(l."taxAmount2", 0) * 0.01, 2)) AS tax
  FROM staging.freshbooks_invoice_lines l JOIN staging.freshbooks_invoices i ON i.id = l.invoice_id
  WHERE NOT l._deleted
  GROUP BY l.invoice_id
)
SELECT i.id, 'amount ' || i.amount || ' is not lines ' || coalesce(lines.subtotal, 0)
       || ' + tax ' || coalesce(lines.tax, 0) || ' - discount ' || abs(coalesce(i.discount_total, 0))
       || ' = ' || (coalesce(lines.subtotal, 0) + coalesce(lines.tax, 0) - abs(coalesce(i.discount_total, 0)))
FROM staging.freshbooks_invoices i LEFT JOIN lines ON lines.invoice_id = i.id
WHERE NOT i._deleted AND i.amount IS NOT NULL
  AND i.amount <> coalesce(lines.subtotal, 0) + coalesce(lines.tax, 0) - abs(coalesce(i.discount_total, 0))
"""

_PAID_PLUS_OUTSTANDING = """
SELECT id, 'paid ' || paid || ' + outstanding ' || outstanding || ' = ' || (paid + outstanding)
           || ', not the amount ' || amount
FROM staging.freshbooks_invoices
WHERE NOT _deleted AND paid + outstanding <> amount
"""

_FRESHBOOKS_PAYMENT_INVOICE = """
SELECT p.id, 'invoice ' || p.invoiceid || ' is not in FreshBooks'
FROM staging.freshbooks_payments p
WHERE NOT p._deleted AND p.invoiceid IS NOT NULL
  AND CAST(p.invoiceid AS VARCHAR) NOT IN (SELECT id FROM staging.freshbooks_invoices)
"""

_INFOR_PAYMENT_INVOICE = """
SELECT p.id, 'invoice ' || p."CINO" || ' (' || coalesce(CAST(p."INYR" AS VARCHAR), '?')
             || ') is not in the M3 AR ledger'
FROM staging.infor_payments p
WHERE NOT p._deleted AND p."CINO" IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM staging.infor_invoices i
                  WHERE i."CINO" = p."CINO" AND i."INYR" IS NOT DISTINCT FROM p."INYR")
"""

_ORDER_LINE_ITEM = """
SELECT l.id, 'item ' || l."ITNO" || ' is not in M3 (MITMAS)'
FROM staging.infor_order_lines l
WHERE NOT l._deleted AND l."ITNO" IS NOT NULL
  AND l."ITNO" NOT IN (SELECT "ITNO" FROM staging.infor_items WHERE "ITNO" IS NOT NULL)
"""

_ORDER_LINE_ORDER = """
SELECT l.id, 'order ' || l.order_id || ' is not in M3 (OOHEAD)'
FROM staging.infor_order_lines l
WHERE NOT l._deleted AND l.order_id NOT IN (SELECT id FROM staging.infor_orders)
"""

_SHOP_ORDER_TOTALS = """
SELECT id, CASE
  WHEN subtotal_price <> total_line_items_price - total_discounts
    THEN 'subtotal ' || subtotal_price || ' is not line items ' || total_line_items_price
         || ' - discounts ' || total_discounts
  ELSE 'total ' || total_price || ' is not subtotal ' || subtotal_price || ' + shipping '
       || total_shipping || ' + tax ' || total_tax END
FROM staging.shop_orders
WHERE NOT _deleted AND NOT coalesce(taxes_included, FALSE)
  AND (subtotal_price <> total_line_items_price - total_discounts
       OR total_price <> subtotal_price + coalesce(total_shipping, 0) + total_tax)
"""

_SHOP_ORDER_LINES_SUM = """
WITH lines AS (
  SELECT order_id, sum(price * quantity) AS items FROM staging.shop_order_lines
  WHERE NOT _deleted GROUP BY order_id
)
SELECT o.id, 'line items ' || o.total_line_items_price || ' are not the lines'' price x quantity '
             || coalesce(lines.items, 0)
FROM staging.shop_orders o LEFT JOIN lines ON lines.order_id = o.id
WHERE NOT o._deleted AND o.total_line_items_price <> coalesce(lines.items, 0)
"""

_SHOP_LINE_ORDER = """
SELECT l.id, 'order ' || l.order_id || ' is not in the shop''s orders'
FROM staging.shop_order_lines l
WHERE NOT l._deleted AND l.order_id NOT IN (SELECT id FROM staging.shop_orders)
"""

ROW_RULES: tuple[RowRule, ...] = (
    RowRule(
        "invoice_total_matches_lines",
        "freshbooks_invoices",
        "An invoice's amount equals its lines plus their taxes less the discount, to the cent.",
        _INVOICE_TOTAL,
        ("freshbooks_invoice_lines",),
    ),
    RowRule(
        "paid_plus_outstanding_is_amount",
        "freshbooks_invoices",
        "What is paid plus what is outstanding equals the invoice amount.",
        _PAID_PLUS_OUTSTANDING,
    ),
    RowRule(
        "payment_invoice_exists",
        "freshbooks_payments",
        "A payment is applied to an invoice that FreshBooks has.",
        _FRESHBOOKS_PAYMENT_INVOICE,
        ("freshbooks_invoices",),
    ),
    RowRule(
        "payment_invoice_exists",
        "infor_payments",
        "A cash receipt is applied to an invoice in the M3 AR ledger.",
        _INFOR_PAYMENT_INVOICE,
        ("infor_invoices",),
    ),
    RowRule(
        "order_line_item_exists",
        "infor_order_lines",
        "An order line's item is in the M3 item master.",
        _ORDER_LINE_ITEM,
        ("infor_items",),
    ),
    RowRule(
        "order_line_order_exists",
        "infor_order_lines",
        "An order line belongs to an order head M3 has.",
        _ORDER_LINE_ORDER,
        ("infor_orders",),
    ),
    RowRule(
        "order_totals_add_up",
        "shop_orders",
        "Subtotal is line items less discounts, and the total is subtotal plus shipping plus tax, to the cent.",
        _SHOP_ORDER_TOTALS,
    ),
    RowRule(
        "order_total_matches_lines",
        "shop_orders",
        "An order's line items total is its lines' price times quantity, to the cent.",
        _SHOP_ORDER_LINES_SUM,
        ("shop_order_lines",),
    ),
    RowRule(
        "order_line_order_exists",
        "shop_order_lines",
        "An order line belongs to an order the shop has.",
        _SHOP_LINE_ORDER,
        ("shop_orders",),
    ),
)

TYPED_VALUE_RULE = "value_has_its_type"


def typed_value_sql(spec: TableSpec) -> str | None:
    """Rows where a typed column is NULL although the raw record holds a value: the value had the wrong
    type (``TRY_CAST`` gave up on it). ``_raw`` keeps it; this names the columns."""
    cases = []
    for column in spec.columns:
        if column.kind in _TYPED_AS_TEXT:
            continue
        path = column.json_path() + (".amount" if column.kind is Kind.MONEY else "")
        raw = f"NULLIF(trim(json_extract_string(_raw, '{path}')), '')"
        if column.kind is Kind.M3_DATE:
            raw = f"NULLIF({raw}, '0')"
        cases.append((column.name, f"{_quote(column.name)} IS NULL AND {raw} IS NOT NULL"))
    if not cases:
        return None
    # Only rows with some NULL typed column can break the rule: filter on those first, then read JSON.
    any_null = " OR ".join(f"{_quote(name)} IS NULL" for name, _ in cases)
    named = ", ".join(f"CASE WHEN {condition} THEN '{name}' END" for name, condition in cases)
    return f"""
    SELECT id, 'wrong type in ' || bad || ' (the raw record keeps the value)'
    FROM (SELECT id, concat_ws(', ', {named}) AS bad
          FROM {spec.qualified_name} WHERE NOT _deleted AND ({any_null}))
    WHERE bad <> ''
    """


def _quote(name: str) -> str:
    return '"' + name + '"'


def rules_for(table: str) -> list[RowRule]:
    return [rule for rule in ROW_RULES if rule.table == table]


def unevaluated_rules(
    connection: duckdb.DuckDBPyConnection, table: str, existing: set[str]
) -> dict[str, str]:
    """Cross-table rules of ``table`` that cannot be judged now, with why: a table they read is missing or
    holds no live rows (its load failed or has not run), so every record would look orphaned."""
    skipped = {}
    for rule in rules_for(table):
        for needed in rule.needs:
            if needed not in existing:
                skipped[rule.name] = f"not evaluated: staging.{needed} does not exist"
                break
            live = connection.sql(
                f"SELECT count(*) FROM {qualified(STAGING, needed)} WHERE NOT _deleted"
            ).fetchall()[0][0]
            if not live:
                skipped[rule.name] = f"not evaluated: staging.{needed} has no rows (did its load fail?)"
                break
    return skipped


def row_violations(
    connection: duckdb.DuckDBPyConnection, spec: TableSpec, existing: set[str], skipped: Iterable[str] = ()
) -> pa.Table:
    """``record_id, rule, column, reason`` for every row rule of the table, except those in ``skipped``."""
    left_out = set(skipped)
    queries = [(TYPED_VALUE_RULE, typed_value_sql(spec))]
    queries += [
        (rule.name, rule.sql)
        for rule in rules_for(spec.name)
        if set(rule.needs) <= existing and rule.name not in left_out
    ]
    found = [
        connection.sql(
            f"SELECT CAST(v.id AS VARCHAR) AS record_id, $rule AS rule, '' AS column, v.reason "
            f"FROM ({sql}) AS v(id, reason)",
            params={"rule": name},
        ).to_arrow_table()
        for name, sql in queries
        if sql is not None
    ]
    return pa.concat_tables(found) if found else VIOLATIONS.empty_table()


VIOLATIONS = pa.schema(
    [("record_id", pa.string()), ("rule", pa.string()), ("column", pa.string()), ("reason", pa.string())]
)
