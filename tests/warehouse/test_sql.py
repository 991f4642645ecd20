"""The warehouse's shared SQL idioms: a replace is all or nothing, and only plain identifiers reach SQL.

Every writer (staging merge, quarantine, anomalies, core and recon tables) goes through ``transaction``, so
a failure half way must leave the table exactly as readers last saw it.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from finsync_dagster.warehouse import qualified, table_exists, tables_in, transaction
from finsync_dagster.warehouse.schemas import QUARANTINE, ensure_quality_tables


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core; CREATE TABLE core.t AS SELECT 1 AS n")
    return con


def test_a_committed_block_replaces_the_rows(con: duckdb.DuckDBPyConnection) -> None:
    with transaction(con, new_rows=pa.table({"n": [7, 8]})):
        con.execute("DELETE FROM core.t")
        con.execute("INSERT INTO core.t SELECT n FROM new_rows")
    assert con.execute("SELECT n FROM core.t ORDER BY n").fetchall() == [(7,), (8,)]


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()], ids=["error", "interrupt"])
def test_a_failed_block_leaves_the_table_as_it_was(
    con: duckdb.DuckDBPyConnection, error: BaseException
) -> None:
    with pytest.raises(type(error)), transaction(con, new_rows=pa.table({"n": [7]})):
        con.execute("DELETE FROM core.t")
        raise error
    assert con.execute("SELECT n FROM core.t").fetchall() == [(1,)]
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT * FROM new_rows")  # unregistered after the block


def test_a_failing_statement_is_the_error_raised(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.CatalogException, match="no_such_table"), transaction(con):
        con.execute("DELETE FROM core.t")
        con.execute("SELECT * FROM core.no_such_table")
    assert con.execute("SELECT count(*) FROM core.t").fetchone() == (1,)


@pytest.mark.parametrize("name", ["t; DROP TABLE core.t", "T", "a.b", "", "1st"])
def test_only_plain_identifiers_reach_sql(name: str) -> None:
    with pytest.raises(ValueError, match="not a warehouse identifier"):
        qualified("core", name)


def test_table_exists_and_the_quality_tables(con: duckdb.DuckDBPyConnection) -> None:
    assert table_exists(con, "core.t") and not table_exists(con, QUARANTINE)
    ensure_quality_tables(con)
    assert tables_in(con, "quality") == {"quarantine", "held", "anomalies", "row_count_history"}
    assert table_exists(con, QUARANTINE)
