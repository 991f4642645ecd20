"""Anomaly rules: records that are valid but look wrong, each with a score and a plain-language reason.

Every rule is one DuckDB query over a staging table returning ``record_id, score, explanation`` (score in
0..1, higher is more suspicious). Anomalies never hold a record back; they are rebuilt on every run into
``quality.anomalies`` for people to look at (WARN checks, the reconciliation report). Statistics (the
outlier rule's median and MAD) are computed on doubles; amounts shown in explanations are the exact
DECIMALs. ``$today`` is the run date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pyarrow as pa
import pyarrow.csv

from finsync_dagster.mapping.registry import SPECS_DIR
from finsync_dagster.quality.store import existing_tables
from finsync_dagster.warehouse import one_row, qualified, registered, table_exists, transaction
from finsync_dagster.warehouse.schemas import ANOMALIES as ANOMALIES_TABLE
from finsync_dagster.warehouse.schemas import ROW_COUNT_HISTORY as HISTORY_TABLE
from finsync_dagster.warehouse.schemas import STAGING, ensure_quality_tables

DUPLICATE_WINDOW_DAYS = 3
OUTLIER_MIN_HISTORY = 6  # a customer needs this many records before "unusual for them" means anything
OUTLIER_MIN_RATIO = 10  # and at least ten times the customer's median amount
OUTLIER_ROBUST_Z = 4.5  # |0.6745 (ln x - median) / MAD| above this is far outside the customer's own range
STALE_DAYS = 365
FUTURE_GRACE_DAYS = 1  # time zones: "tomorrow" somewhere is today here
ROW_COUNT_HISTORY = 10  # runs the row-count rule compares against
ROW_COUNT_MIN_RUNS = 3
ROW_COUNT_DROP = 0.5  # fewer than half the usual rows
ROW_COUNT_SPIKE = 3.0  # more than three times the usual rows ...
ROW_COUNT_SPIKE_MIN = 20  # ... and at least this many more
EXPENSE_GL_LOOKUP = SPECS_DIR / "lookups" / "expense_category_gl.csv"


@dataclass(frozen=True)
class AnomalyRule:
    name: str
    entity: str
    summary: str  # what the rule looks for, for the README and the report
    sql: str
    needs: tuple[str, ...] = ()


def _duplicates(entity: str, key: str, amount: str, day: str, label: str) -> AnomalyRule:
    sql = f"""
    SELECT a.id,
           round(1 - abs(date_diff('day', a.{day}, b.{day})) / {DUPLICATE_WINDOW_DAYS + 1}.0, 3),
           '{label} ' || a.id || ' looks like a duplicate of ' || b.id || ': same {key.strip('"')} '
             || a.{key} || ', same amount ' || a.{amount} || ', dated ' || a.{day} || ' and ' || b.{day}
    FROM {qualified(STAGING, entity)} a JOIN {qualified(STAGING, entity)} b
      ON a.{key} = b.{key} AND a.{amount} = b.{amount} AND a.id <> b.id
     AND abs(date_diff('day', a.{day}, b.{day})) <= {DUPLICATE_WINDOW_DAYS}
    WHERE NOT a._deleted AND NOT b._deleted
    QUALIFY row_number() OVER (PARTITION BY a.id ORDER BY abs(date_diff('day', a.{day}, b.{day})), b.id) = 1
    """
    return AnomalyRule(
        "duplicate_suspected",
        entity,
        f"Two records with the same customer (or invoice, vendor) and amount within {DUPLICATE_WINDOW_DAYS} days.",
        sql,
    )


def _outliers(entity: str, key: str, amount: str, currency: str, label: str) -> AnomalyRule:
    sql = f"""
    WITH live AS (SELECT id, {key} AS k, {currency} AS cur, {amount} AS amount, ln(CAST({amount} AS DOUBLE)) AS x
                  FROM {qualified(STAGING, entity)} WHERE NOT _deleted AND {amount} > 0),
    stats AS (SELECT k, cur, count(*) AS n, median(x) AS med, mad(x) AS mad FROM live GROUP BY k, cur)
    SELECT live.id,
           round(least(1.0, abs(0.6745 * (live.x - med) / mad) / ({OUTLIER_ROBUST_Z} * 4)), 3),
           '{label} ' || live.id || ' for ' || live.amount || ' ' || coalesce(live.cur, '') || ' is '
             || printf('%.1f', exp(live.x - med)) || 'x the median of this customer''s ' || n || ' records ('
             || printf('%.2f', exp(med)) || ', usually within ' || printf('%.0f', 100 * (exp(mad) - 1)) || '% of it)'
    FROM live JOIN stats USING (k, cur)
    WHERE n >= {OUTLIER_MIN_HISTORY} AND mad > 0 AND 0.6745 * (live.x - med) / mad > {OUTLIER_ROBUST_Z}
      AND live.x - med >= ln({OUTLIER_MIN_RATIO})
    """
    return AnomalyRule(
        "amount_outlier",
        entity,
        f"An amount far above the customer's own history: at least {OUTLIER_MIN_RATIO}x their median and a robust z-score (median and MAD of the logarithm of "
        f"the customer's amounts in that currency; finance amounts spread by ratios) above {OUTLIER_ROBUST_Z:g}, "
        f"with at least {OUTLIER_MIN_HISTORY} records.",
        sql,
    )


def _non_positive(entity: str, amount: str, label: str, negative_expected: bool = False) -> AnomalyRule:
    wrong = f"{amount} >= 0" if negative_expected else f"{amount} <= 0"
    sign = "not negative (a receipt reduces the receivable)" if negative_expected else "zero or negative"
    sql = f"""
    SELECT id, CASE WHEN {amount} = 0 THEN 0.6 ELSE 0.9 END,
           '{label} ' || id || ' has amount ' || {amount} || ', {sign}'
    FROM {qualified(STAGING, entity)} WHERE NOT _deleted AND {wrong}
    """
    return AnomalyRule(
        "amount_not_positive", entity, f"An amount that is {sign} where that makes no sense.", sql
    )


def _future(entity: str, day: str, label: str) -> AnomalyRule:
    sql = f"""
    SELECT id, round(least(1.0, 0.5 + date_diff('day', $today, {day}) / 60.0), 3),
           '{label} ' || id || ' is dated ' || {day} || ', ' || date_diff('day', $today, {day})
             || ' days after the run date ' || $today
    FROM {qualified(STAGING, entity)}
    WHERE NOT _deleted AND {day} > $today + INTERVAL {FUTURE_GRACE_DAYS} DAY
    """
    return AnomalyRule("future_dated", entity, "A record dated after the run date (a day of grace).", sql)


def _stale(entity: str, open_condition: str, touched: str, label: str) -> AnomalyRule:
    sql = f"""
    SELECT id, round(least(1.0, date_diff('day', CAST({touched} AS DATE), $today) / ({STALE_DAYS} * 3.0)), 3),
           '{label} ' || id || ' is still open and has not changed since ' || CAST({touched} AS DATE)
             || ' (' || date_diff('day', CAST({touched} AS DATE), $today) || ' days)'
    FROM {qualified(STAGING, entity)}
    WHERE NOT _deleted AND {open_condition}
      AND date_diff('day', CAST({touched} AS DATE), $today) > {STALE_DAYS}
    """
    return AnomalyRule(
        "stale_open",
        entity,
        f"An open record untouched for more than {STALE_DAYS} days before the run date.",
        sql,
    )


def _currency(
    entity: str,
    customer_key: str,
    currency: str,
    customers: str,
    customers_key: str,
    customers_currency: str,
    label: str,
) -> AnomalyRule:
    sql = f"""
    SELECT r.id, 0.7,
           '{label} ' || r.id || ' is in ' || r.{currency} || ' but customer ' || r.{customer_key}
             || ' deals in ' || c.{customers_currency}
    FROM {qualified(STAGING, entity)} r JOIN {qualified(STAGING, customers)} c ON CAST(c.{customers_key} AS VARCHAR) = CAST(r.{customer_key} AS VARCHAR)
    WHERE NOT r._deleted AND NOT c._deleted AND r.{currency} <> c.{customers_currency}
    """
    return AnomalyRule(
        "currency_differs_from_customer",
        entity,
        "A record in another currency than its customer's.",
        sql,
        (customers,),
    )


_FB_PAYMENT_OVER = """
SELECT p.id, round(least(1.0, 0.5 + (p.amount - i.amount) / i.amount / 2), 3),
       'payment ' || p.id || ' of ' || p.amount || ' ' || p.amount_code || ' is larger than its invoice '
         || i.invoice_number || ' (' || i.amount || ')'
FROM staging.freshbooks_payments p JOIN staging.freshbooks_invoices i ON i.id = CAST(p.invoiceid AS VARCHAR)
WHERE NOT p._deleted AND NOT i._deleted AND i.amount > 0 AND p.amount > i.amount
"""

_INFOR_PAYMENT_OVER = """
SELECT p.id, round(least(1.0, 0.5 + (-p."CUAM" - i."CUAM") / i."CUAM" / 2), 3),
       'receipt ' || p.id || ' of ' || -p."CUAM" || ' ' || p."CUCD" || ' is larger than its invoice '
         || i."CINO" || ' (' || i."CUAM" || ')'
FROM staging.infor_payments p JOIN staging.infor_invoices i ON i."CINO" = p."CINO" AND i."INYR" = p."INYR"
WHERE NOT p._deleted AND NOT i._deleted AND i."CUAM" > 0 AND -p."CUAM" > i."CUAM"
"""

_EXPENSE_GL = """
SELECT e.id, 0.8,
       'expense ' || e.id || ' is in category ' || coalesce(c.category, '#' || e.categoryid)
         || CASE WHEN g.gl_account IS NULL THEN ', which has no GL account in the mapping lookup'
                 ELSE ', mapped to GL account ' || g.gl_account || ', which is not in the Infor chart' END
FROM staging.freshbooks_expenses e
LEFT JOIN staging.freshbooks_expense_categories c ON c.id = CAST(e.categoryid AS VARCHAR)
LEFT JOIN _expense_category_gl g ON lower(trim(g.category)) = lower(trim(c.category))
WHERE NOT e._deleted
  AND (g.gl_account IS NULL OR g.gl_account NOT IN (SELECT "AITM" FROM staging.infor_gl_accounts WHERE NOT _deleted))
"""

ANOMALY_RULES: tuple[AnomalyRule, ...] = (
    _duplicates("freshbooks_invoices", "customerid", "amount", "create_date", "invoice"),
    _duplicates("freshbooks_payments", "invoiceid", "amount", "date", "payment"),
    _duplicates("freshbooks_expenses", "vendor", "amount", "date", "expense"),
    _duplicates("infor_invoices", '"CUNO"', '"CUAM"', '"IVDT"', "invoice"),
    _duplicates("infor_payments", '"CINO"', '"CUAM"', '"ACDT"', "receipt"),
    _duplicates("shop_orders", "email", "total_price", "processed_at", "order"),
    _outliers("freshbooks_invoices", "customerid", "amount", "currency_code", "invoice"),
    _outliers("infor_invoices", '"CUNO"', '"CUAM"', '"CUCD"', "invoice"),
    AnomalyRule(
        "payment_exceeds_invoice",
        "freshbooks_payments",
        "A payment larger than the invoice it is applied to.",
        _FB_PAYMENT_OVER,
        ("freshbooks_invoices",),
    ),
    AnomalyRule(
        "payment_exceeds_invoice",
        "infor_payments",
        "A cash receipt larger than the invoice it is applied to.",
        _INFOR_PAYMENT_OVER,
        ("infor_invoices",),
    ),
    _non_positive("freshbooks_invoices", "amount", "invoice"),
    _non_positive("freshbooks_payments", "amount", "payment"),
    _non_positive("freshbooks_expenses", "amount", "expense"),
    _non_positive("infor_invoices", '"CUAM"', "invoice"),
    _non_positive("infor_payments", '"CUAM"', "receipt", negative_expected=True),
    _currency(
        "freshbooks_invoices",
        "customerid",
        "currency_code",
        "freshbooks_clients",
        "id",
        "currency_code",
        "invoice",
    ),
    _currency("infor_invoices", '"CUNO"', '"CUCD"', "infor_customers", '"CUNO"', '"CUCD"', "invoice"),
    _currency("infor_orders", '"CUNO"', '"CUCD"', "infor_customers", '"CUNO"', '"CUCD"', "order"),
    _future("freshbooks_invoices", "create_date", "invoice"),
    _future("freshbooks_payments", "date", "payment"),
    _future("freshbooks_expenses", "date", "expense"),
    _future("infor_invoices", '"IVDT"', "invoice"),
    _future("infor_payments", '"ACDT"', "receipt"),
    _future("infor_orders", '"ORDT"', "order"),
    _future("shop_orders", "CAST(processed_at AS DATE)", "order"),
    _stale("freshbooks_invoices", "outstanding > 0", "coalesce(_source_updated_at, create_date)", "invoice"),
    _stale(
        "infor_invoices", "coalesce(\"RECO\", '') <> '9'", 'coalesce(_source_updated_at, "IVDT")', "invoice"
    ),
    AnomalyRule(
        "expense_category_without_gl",
        "freshbooks_expenses",
        "An expense whose category has no GL account in the mapping lookup, or one the Infor chart lacks.",
        _EXPENSE_GL,
        ("freshbooks_expense_categories", "infor_gl_accounts"),
    ),
)

ROW_COUNT_RULE = "row_count_change"
ROW_COUNT_SUMMARY = (
    f"A table's live row count below {ROW_COUNT_DROP:.0%} or above {ROW_COUNT_SPIKE:g}x the median of its "
    f"last {ROW_COUNT_HISTORY} runs (at least {ROW_COUNT_MIN_RUNS} runs of history)."
)

ANOMALIES = pa.schema(
    [
        ("record_id", pa.string()),
        ("rule", pa.string()),
        ("score", pa.float64()),
        ("explanation", pa.string()),
    ]
)


def rules_for(entity: str) -> list[AnomalyRule]:
    return [rule for rule in ANOMALY_RULES if rule.entity == entity]


def rule_summaries() -> dict[str, str]:
    """One line per rule name, for documentation and reports."""
    summaries: dict[str, str] = {}
    for rule in ANOMALY_RULES:
        summaries.setdefault(rule.name, rule.summary)
    return summaries | {ROW_COUNT_RULE: ROW_COUNT_SUMMARY}


def find_anomalies(connection: duckdb.DuckDBPyConnection, entity: str, *, today: date) -> pa.Table:
    """Every record-level anomaly of the table (nothing is written)."""
    staged = existing_tables(connection)
    found = []
    for rule in rules_for(entity):
        if entity not in staged or not set(rule.needs) <= staged:
            continue
        sql = f"SELECT CAST(a.id AS VARCHAR), $rule, CAST(a.score AS DOUBLE), a.explanation FROM ({rule.sql}) AS a(id, score, explanation)"
        params = {"rule": rule.name} | ({"today": today} if "$today" in rule.sql else {})
        with registered(connection, **_lookups(rule)):
            found.append(connection.sql(sql, params=params).to_arrow_table().rename_columns(ANOMALIES.names))
    return pa.concat_tables(found) if found else ANOMALIES.empty_table()


def _lookups(rule: AnomalyRule) -> dict[str, pa.Table]:
    """The expense-category lookup CSV as a relation, for the one rule that reads it."""
    if "_expense_category_gl" not in rule.sql:
        return {}
    table = pa.csv.read_csv(
        EXPENSE_GL_LOOKUP, convert_options=pa.csv.ConvertOptions(column_types={"gl_account": pa.string()})
    )
    return {"_expense_category_gl": table}


def row_count_change(
    connection: duckdb.DuckDBPyConnection, entity: str, *, pair: str, now: datetime
) -> pa.Table:
    """Record the table's live row count and compare it with its recent history."""
    ensure_quality_tables(connection)
    (rows,) = one_row(
        connection.execute(f"SELECT count(*) FROM {qualified(STAGING, entity)} WHERE NOT _deleted")
    )
    (usual, runs) = one_row(
        connection.execute(
            f"""
        SELECT median(row_count), count(*) FROM (
          SELECT row_count FROM {HISTORY_TABLE} WHERE entity = $entity AND pair = $pair
          ORDER BY counted_at DESC LIMIT {ROW_COUNT_HISTORY})
        """,
            {"entity": entity, "pair": pair},
        )
    )
    connection.execute(
        f"INSERT INTO {HISTORY_TABLE} VALUES ($entity, $pair, $now, $rows)",
        {"entity": entity, "pair": pair, "now": now, "rows": rows},
    )
    if runs < ROW_COUNT_MIN_RUNS or usual is None:
        return ANOMALIES.empty_table()
    usual = float(usual)
    if rows < ROW_COUNT_DROP * usual:
        score, what = min(1.0, 1 - rows / usual if usual else 1.0), "dropped"
    elif rows > ROW_COUNT_SPIKE * usual and rows - usual >= ROW_COUNT_SPIKE_MIN:
        score, what = min(1.0, rows / usual / (ROW_COUNT_SPIKE * 2)), "jumped"
    else:
        return ANOMALIES.empty_table()
    explanation = f"{qualified(STAGING, entity)} {what} to {rows} live rows; its last {runs} runs had a median of {usual:g}"
    return pa.table(
        {
            "record_id": [None],
            "rule": [ROW_COUNT_RULE],
            "score": [round(score, 3)],
            "explanation": [explanation],
        },
        schema=ANOMALIES,
    )


def refresh_anomalies(
    connection: duckdb.DuckDBPyConnection, entity: str, *, pair: str, today: date, now: datetime
) -> pa.Table:
    """Rebuild the table's rows of ``quality.anomalies`` for this run and return them."""
    found = pa.concat_tables(
        [
            find_anomalies(connection, entity, today=today),
            row_count_change(connection, entity, pair=pair, now=now),
        ]
    )
    with transaction(connection, _found_anomalies=found):
        connection.execute(
            f"DELETE FROM {ANOMALIES_TABLE} WHERE entity = $entity AND pair = $pair",
            {"entity": entity, "pair": pair},
        )
        connection.execute(
            f"""
            INSERT INTO {ANOMALIES_TABLE}
            SELECT $entity, $pair, record_id, rule, score, explanation, 'warn', $now,
                   json_object('rule', rule, 'score', score)
            FROM _found_anomalies
            """,
            {"entity": entity, "pair": pair, "now": now},
        )
    return found


def anomaly_counts(connection: duckdb.DuckDBPyConnection, pair: str) -> dict[str, int]:
    """Anomalies per rule in the pair's warehouse, most first (empty before the first checked run)."""
    if not table_exists(connection, ANOMALIES_TABLE):
        return {}
    rows = connection.execute(
        f"SELECT rule, count(*) FROM {ANOMALIES_TABLE} WHERE pair = ? GROUP BY rule ORDER BY 2 DESC, 1",
        [pair],
    ).fetchall()
    return {rule: int(n) for rule, n in rows}
