"""Procure-to-pay: FreshBooks bill vendors against M3 suppliers, FreshBooks bills against M3 AP invoices.

Suppliers pair, from the surest evidence to the loosest: the crosswalk (suppliers finsync created or a
person confirmed), the M3 supplier number finsync gives a vendor it creates (``FBV`` + vendor id), then
the normalized name where it is unique on both sides. Bills pair through their suppliers: the crosswalk
first, then the same supplier and the supplier's invoice number (M3 ``SINO``); a paired bill whose total,
currency or date differs is ``matched_with_differences``. Nothing here is fuzzy: a supplier invoice is
money owed, and a guess is not evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from finsync_dagster.core import TABLES as CORE_TABLES
from finsync_dagster.recon.model import AT_STAKE_SQL, MATCH_COLUMNS, MATCH_TABLES, Status
from finsync_dagster.recon.sources import fill, relation
from finsync_dagster.warehouse import table_exists

Pairs = Sequence[tuple[str, str]]

_NAME_KEY = "regexp_replace(lower(coalesce(name, '')), '[^a-z0-9]+', '', 'g')"

_SUPPLIERS = """
WITH fb AS (SELECT *, __KEY__ AS k FROM __SUPPLIERS__ WHERE source = 'freshbooks'),
inf AS (SELECT *, __KEY__ AS k FROM __SUPPLIERS__ WHERE source = 'infor'),
known AS (
    SELECT c.freshbooks_id, c.infor_id, 'crosswalk' AS rule FROM __CROSSWALK__ c
    WHERE c.freshbooks_id IN (SELECT source_id FROM fb) AND c.infor_id IN (SELECT source_id FROM inf)
),
by_number AS (
    SELECT fb.source_id AS freshbooks_id, inf.source_id AS infor_id, 'supplier_number' AS rule
    FROM fb JOIN inf ON inf.supplier_number = fb.supplier_number
    WHERE fb.source_id NOT IN (SELECT freshbooks_id FROM known) AND inf.source_id NOT IN (SELECT infor_id FROM known)
),
so_far AS (SELECT * FROM known UNION ALL SELECT * FROM by_number),
fb_left AS (SELECT * FROM fb WHERE source_id NOT IN (SELECT freshbooks_id FROM so_far) AND k <> ''),
inf_left AS (SELECT * FROM inf WHERE source_id NOT IN (SELECT infor_id FROM so_far) AND k <> ''),
by_name AS (
    SELECT f.source_id AS freshbooks_id, i.source_id AS infor_id, 'name' AS rule
    FROM fb_left f JOIN inf_left i ON i.k = f.k
    WHERE f.k IN (SELECT k FROM fb_left GROUP BY k HAVING count(*) = 1)
      AND i.k IN (SELECT k FROM inf_left GROUP BY k HAVING count(*) = 1)
),
pairs AS (SELECT * FROM so_far UNION ALL SELECT * FROM by_name)
SELECT p.freshbooks_id, p.infor_id,
    CASE WHEN lower(f.currency_code) IS DISTINCT FROM lower(i.currency_code) AND i.currency_code IS NOT NULL
         THEN 'matched_with_differences' ELSE 'matched' END AS status,
    CASE p.rule WHEN 'name' THEN 0.95 ELSE 1.0 END AS confidence, p.rule, false AS suggestion,
    CASE WHEN lower(f.currency_code) IS DISTINCT FROM lower(i.currency_code) AND i.currency_code IS NOT NULL
         THEN json_array(json_object('field', 'currency_code', 'freshbooks', f.currency_code, 'infor', i.currency_code))::VARCHAR
         ELSE '[]' END AS differences,
    f.name AS reference, f.name AS customer, f.currency_code,
    NULL AS freshbooks_amount, NULL AS infor_amount, NULL AS amount_at_stake, NULL AS item_date, NULL AS note
FROM pairs p JOIN fb f ON f.source_id = p.freshbooks_id JOIN inf i ON i.source_id = p.infor_id
UNION ALL
SELECT source_id, NULL, 'missing_in_infor', 1.0, NULL, false, '[]', name, name, currency_code, NULL, NULL, NULL,
    NULL, 'No M3 supplier with this number or name.'
FROM fb WHERE source_id NOT IN (SELECT freshbooks_id FROM pairs)
UNION ALL
SELECT NULL, source_id, 'missing_in_freshbooks', 1.0, NULL, false, '[]', name, name, currency_code, NULL, NULL,
    NULL, NULL, 'No FreshBooks bill vendor with this number or name.'
FROM inf WHERE source_id NOT IN (SELECT infor_id FROM pairs)
"""

_BILLS = """
WITH fb AS (SELECT * FROM __BILLS__ WHERE source = 'freshbooks'),
inf AS (SELECT * FROM __BILLS__ WHERE source = 'infor'),
suppliers AS (__SUPPLIER_LINKS__),
known AS (
    SELECT c.freshbooks_id, c.infor_id, 'crosswalk' AS rule FROM __CROSSWALK__ c
    WHERE c.freshbooks_id IN (SELECT source_id FROM fb) AND c.infor_id IN (SELECT source_id FROM inf)
),
fb_left AS (SELECT fb.*, s.infor_id AS suno FROM fb JOIN suppliers s ON s.freshbooks_id = fb.supplier_source_id
            WHERE fb.source_id NOT IN (SELECT freshbooks_id FROM known)),
inf_left AS (SELECT * FROM inf WHERE source_id NOT IN (SELECT infor_id FROM known)),
by_number AS (
    SELECT f.source_id AS freshbooks_id, i.source_id AS infor_id, 'supplier_and_number' AS rule
    FROM fb_left f JOIN inf_left i ON i.supplier_source_id = f.suno AND i.bill_number = f.bill_number
    QUALIFY count(*) OVER (PARTITION BY f.source_id) = 1 AND count(*) OVER (PARTITION BY i.source_id) = 1
),
pairs AS (SELECT * FROM known UNION ALL SELECT * FROM by_number),
compared AS (
    SELECT p.*, f.bill_number, f.currency_code AS fb_cur, i.currency_code AS inf_cur,
        f.total_amount AS fb_amount, i.total_amount AS inf_amount, f.issue_date AS fb_date, i.issue_date AS inf_date,
        list_filter([
            CASE WHEN f.total_amount <> i.total_amount THEN json_object('field', 'total_amount',
                'freshbooks', f.total_amount::VARCHAR, 'infor', i.total_amount::VARCHAR,
                'difference', (f.total_amount - i.total_amount)::VARCHAR, 'currency', f.currency_code) END,
            CASE WHEN f.currency_code IS DISTINCT FROM i.currency_code THEN json_object('field', 'currency_code',
                'freshbooks', f.currency_code, 'infor', i.currency_code) END,
            CASE WHEN f.issue_date IS DISTINCT FROM i.issue_date THEN json_object('field', 'issue_date',
                'freshbooks', f.issue_date::VARCHAR, 'infor', i.issue_date::VARCHAR) END
        ], lambda x: x IS NOT NULL) AS diffs,
        s.customer AS vendor
    FROM pairs p JOIN fb f ON f.source_id = p.freshbooks_id JOIN inf i ON i.source_id = p.infor_id
    LEFT JOIN (SELECT source_id, name AS customer FROM __SUPPLIERS__ WHERE source = 'freshbooks') s
        ON s.source_id = f.supplier_source_id
)
SELECT freshbooks_id, infor_id,
    CASE WHEN len(diffs) = 0 THEN 'matched' ELSE 'matched_with_differences' END, 1.0, rule, false,
    CASE WHEN len(diffs) = 0 THEN '[]' ELSE '[' || array_to_string(diffs, ',') || ']' END,
    bill_number, vendor, fb_cur, fb_amount, inf_amount, CAST(abs(fb_amount - inf_amount) AS __AT_STAKE__), fb_date,
    CASE WHEN len(diffs) = 0 THEN NULL ELSE 'The M3 supplier invoice differs from the FreshBooks bill.' END
FROM compared
UNION ALL
SELECT f.source_id, NULL, 'missing_in_infor', 1.0, NULL, false, '[]', f.bill_number, s.name, f.currency_code,
    f.total_amount, NULL, CAST(f.total_amount AS __AT_STAKE__), f.issue_date,
    'No M3 supplier invoice of this supplier with this number.'
FROM fb f LEFT JOIN (SELECT source_id, name FROM __SUPPLIERS__ WHERE source = 'freshbooks') s
    ON s.source_id = f.supplier_source_id
WHERE f.source_id NOT IN (SELECT freshbooks_id FROM pairs)
UNION ALL
SELECT NULL, i.source_id, 'missing_in_freshbooks', 1.0, NULL, false, '[]', i.bill_number, i.supplier_source_id,
    i.currency_code, NULL, i.total_amount, CAST(i.total_amount AS __AT_STAKE__), i.issue_date,
    'No FreshBooks bill of this supplier with this number.'
FROM inf i WHERE i.source_id NOT IN (SELECT infor_id FROM pairs)
"""


def _crosswalk(con: duckdb.DuckDBPyConnection, name: str, pairs: Pairs | None) -> str:
    table = pa.table(
        {
            "freshbooks_id": pa.array([str(a) for a, _ in pairs or ()], pa.string()),
            "infor_id": pa.array([str(b) for _, b in pairs or ()], pa.string()),
        }
    )
    con.register(name, table)
    return name


def _result(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    relation_ = con.sql(sql)
    table = relation_.to_arrow_table()
    schema = pa.schema(
        [
            ("freshbooks_id", pa.string()), ("infor_id", pa.string()), ("status", pa.string()),
            ("confidence", pa.float64()), ("rule", pa.string()), ("suggestion", pa.bool_()),
            ("differences", pa.string()), ("reference", pa.string()), ("customer", pa.string()),
            ("currency_code", pa.string()), ("freshbooks_amount", pa.decimal128(18, 2)),
            ("infor_amount", pa.decimal128(18, 2)), ("amount_at_stake", pa.decimal128(19, 2)),
            ("item_date", pa.date32()), ("note", pa.string()),
        ]
    )  # fmt: skip
    assert tuple(schema.names) == MATCH_COLUMNS
    return table.rename_columns(list(MATCH_COLUMNS)).cast(schema)


def match_suppliers(con: duckdb.DuckDBPyConnection, *, crosswalk: Pairs | None = None) -> pa.Table:
    """``recon.supplier_matches`` rows for ``core.suppliers`` in ``con``."""
    sql = fill(
        _SUPPLIERS,
        KEY=_NAME_KEY,
        SUPPLIERS=relation(con, CORE_TABLES["suppliers"]),
        CROSSWALK=_crosswalk(con, "__supplier_crosswalk", crosswalk),
    )
    try:
        return _result(con, f"SELECT * FROM ({sql}) ORDER BY 8, 1, 2")
    finally:
        con.unregister("__supplier_crosswalk")


def supplier_links(con: duckdb.DuckDBPyConnection) -> str:
    """FreshBooks vendor id -> M3 supplier number, for the suppliers reconciliation has paired."""
    name = MATCH_TABLES["suppliers"]
    if not table_exists(con, name):
        return "SELECT CAST(NULL AS VARCHAR) AS freshbooks_id, CAST(NULL AS VARCHAR) AS infor_id WHERE false"
    return (
        f"SELECT freshbooks_id, infor_id FROM {name} WHERE status IN ('{Status.MATCHED.value}', "
        f"'{Status.MATCHED_WITH_DIFFERENCES.value}') AND freshbooks_id IS NOT NULL AND infor_id IS NOT NULL"
    )


def match_bills(con: duckdb.DuckDBPyConnection, *, crosswalk: Pairs | None = None) -> pa.Table:
    """``recon.bill_matches`` rows for ``core.bills`` in ``con`` (after the suppliers are matched)."""
    sql = fill(
        _BILLS,
        BILLS=relation(con, CORE_TABLES["bills"]),
        SUPPLIERS=relation(con, CORE_TABLES["suppliers"]),
        SUPPLIER_LINKS=supplier_links(con),
        CROSSWALK=_crosswalk(con, "__bill_crosswalk", crosswalk),
        AT_STAKE=AT_STAKE_SQL,
    )
    try:
        return _result(con, f"SELECT * FROM ({sql}) ORDER BY 8, 1, 2")
    finally:
        con.unregister("__bill_crosswalk")
