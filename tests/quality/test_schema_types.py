"""A staging column whose type drifted breaks the batch: money must stay exact DECIMAL(18,2), ids BIGINT,
dates DATE and text text, so a float amount or a text date never reaches the rules or the core."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from finsync_dagster.quality import validate_table
from tests.quality.builders import FRESHBOOKS, invoice, stage_invoices


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_staged_types_pass(con: duckdb.DuckDBPyConnection) -> None:
    stage_invoices(con, [invoice(1), invoice(2)])
    assert validate_table(con, FRESHBOOKS["freshbooks_invoices"], threshold=0.0).integrity == ()


@pytest.mark.parametrize(
    ("column", "drifted", "expected"),
    [
        ("amount", "DOUBLE", "double[pyarrow], expected 'decimal128(18, 2)[pyarrow]'"),  # money as float
        ("amount", "DECIMAL(18,4)", "decimal128(18, 4)[pyarrow], expected 'decimal128(18, 2)[pyarrow]'"),
        (
            "discount_value",
            "DECIMAL(18,2)",
            "decimal128(18, 2)[pyarrow], expected 'decimal128(18, 4)[pyarrow]'",
        ),
        ("customerid", "VARCHAR", "str, expected 'int64[pyarrow]'"),
        ("create_date", "VARCHAR", "str, expected 'date32[day][pyarrow]'"),
        ("customerid", "DOUBLE", "double[pyarrow], expected 'int64[pyarrow]'"),
    ],
)
def test_a_drifted_column_type_breaks_the_batch(
    con: duckdb.DuckDBPyConnection, column: str, drifted: str, expected: str
) -> None:
    stage_invoices(con, [invoice(1), invoice(2)])
    con.execute(f"ALTER TABLE staging.freshbooks_invoices ALTER COLUMN {column} TYPE {drifted}")
    result = validate_table(con, FRESHBOOKS["freshbooks_invoices"], threshold=1.0)
    assert not result.passed
    assert f"column {column} has type {expected}" in result.integrity
