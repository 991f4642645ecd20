"""A cross-table rule whose reference table did not load is not run, and the check says so."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from finsync_dagster.quality.validate import validate_table
from finsync_dagster.staging.infor_tables import ITEMS, ORDER_LINES, ORDERS
from finsync_dagster.staging.writer import ensure_table, merge_batch

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _lines(con: duckdb.DuckDBPyConnection, count: int) -> None:
    for spec in (ORDERS, ORDER_LINES, ITEMS):
        ensure_table(con, spec)
    merge_batch(con, ORDERS, [{"ORNO": "1000001", "CUNO": "C1", "CUCD": "USD"}], extracted_at=T0, pair="p1")
    lines = [
        {
            "ORNO": "1000001",
            "PONR": str(n),
            "POSX": "0",
            "ITNO": "W1",
            "ORQT": "1",
            "SAPR": "1",
            "CUCD": "USD",
        }
        for n in range(1, count + 1)
    ]
    merge_batch(con, ORDER_LINES, lines, extracted_at=T0, pair="p1")


def test_an_empty_item_master_quarantines_no_order_line_and_says_so() -> None:
    con = duckdb.connect()
    _lines(con, 466)
    result = validate_table(con, ORDER_LINES, threshold=0.05)
    assert result.quarantined == 0
    assert result.not_evaluated == {
        "order_line_item_exists": "not evaluated: staging.infor_items has no rows (did its load fail?)"
    }
    assert "rule order_line_item_exists not evaluated: staging.infor_items has no rows" in result.summary()


def test_with_items_loaded_the_rule_runs() -> None:
    con = duckdb.connect()
    _lines(con, 3)
    merge_batch(con, ITEMS, [{"ITNO": "OTHER", "ITDS": "x"}], extracted_at=T0, pair="p1")
    result = validate_table(con, ORDER_LINES, threshold=0.05)
    assert result.quarantined == 3 and result.not_evaluated == {}
