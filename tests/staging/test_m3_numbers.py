"""M3 numbers stage exactly: a price keeps its decimals, a value that would be rounded is not invented."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest

from finsync_dagster.errors import DataQualityError
from finsync_dagster.resources.infor.fields import format_value, parse_value
from finsync_dagster.staging.infor_tables import ORDER_LINES
from finsync_dagster.staging.writer import ensure_table, merge_batch
from finsync_dagster.warehouse import one_row

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _line(sapr: str, nlam: str = "20.01") -> dict[str, str]:
    return {
        "ORNO": "1000001",
        "PONR": "1",
        "POSX": "0",
        "ITNO": "W1",
        "ORQT": "2",
        "SAPR": sapr,
        "NLAM": nlam,
    }


def test_m3_price_keeps_all_its_decimals() -> None:
    con = duckdb.connect()
    ensure_table(con, ORDER_LINES)
    merge_batch(con, ORDER_LINES, [_line("10.005")], extracted_at=T0, pair="p1")
    assert con.execute("SELECT SAPR FROM staging.infor_order_lines").fetchone() == (Decimal("10.005000"),)


def test_an_amount_with_more_decimals_than_money_is_not_rounded() -> None:
    con = duckdb.connect()
    ensure_table(con, ORDER_LINES)
    merge_batch(con, ORDER_LINES, [_line("10.005", nlam="20.005")], extracted_at=T0, pair="p1")
    (nlam,) = one_row(con.execute("SELECT NLAM FROM staging.infor_order_lines"))
    assert nlam is None  # never 20.01; the sent value stays in _raw for the quality rules to report


def test_a_table_from_an_older_finsync_is_widened() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging")
    old = ORDER_LINES.ddl("staging").replace("SAPR DECIMAL(18,6)", "SAPR DECIMAL(18,2)")
    con.execute(old)
    ensure_table(con, ORDER_LINES)
    merge_batch(con, ORDER_LINES, [_line("10.005")], extracted_at=T0, pair="p1")
    assert con.execute("SELECT SAPR FROM staging.infor_order_lines").fetchone() == (Decimal("10.005000"),)


@pytest.mark.parametrize("raw", ["NaN", "nan", "Infinity", "-Infinity", "inf", "sNaN"])
def test_nan_and_infinity_are_not_m3_decimals(raw: str) -> None:
    with pytest.raises(DataQualityError, match="not a valid decimal"):
        parse_value("SAPR", raw)
    with pytest.raises(ValueError):
        format_value(Decimal(raw))
