"""The two files of a report folder the console reads, so it never opens a pair's DuckDB file.

- ``review.parquet``: every exception row of the four match tables (the columns of ``MATCH_COLUMNS`` plus
  ``entity``): the review queue and the "at a glance" figures.
- ``records.parquet``: every core record of both systems that the match tables pair (``entity``,
  ``source``, ``kind``, ``source_id``, ``record``: the record's fields as a JSON object of strings, money
  exact). The review queue shows both sides of a row from it, and re-matching searches it.

Parquet, because DuckDB writes and reads it in one statement with the exact DECIMAL types, and a report
folder is immutable once renamed into place, so any number of readers may open it while a sync runs.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from finsync_dagster.core import model as core_model
from finsync_dagster.recon.model import EXCEPTION_STATUSES, MATCH_COLUMNS, MATCH_TABLES
from finsync_dagster.warehouse import table_exists

REVIEW_FILE = "review.parquet"
RECORDS_FILE = "records.parquet"

# entity of a match table -> (core table, kind of record, sources) whose rows its ids name. An M3 invoice
# match names the customer order when there is one, else the AR invoice: both are listed.
RECORD_SOURCES: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "customers": (("customers", "customer", ("freshbooks", "infor")),),
    "invoices": (
        ("invoices", "invoice", ("freshbooks", "infor")),
        ("orders", "order", ("infor",)),
    ),
    "payments": (("payments", "payment", ("freshbooks", "infor")),),
    "expenses": (("expenses", "expense", ("freshbooks", "infor")),),
    "suppliers": (("suppliers", "supplier", ("freshbooks", "infor")),),
    "bills": (("bills", "bill", ("freshbooks", "infor")),),
}

_EMPTY_REVIEW = (
    "SELECT CAST(NULL AS VARCHAR) AS entity, "
    + ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in MATCH_COLUMNS)
    + " WHERE false"
)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def write_review_files(con: duckdb.DuckDBPyConnection, folder: Path) -> list[Path]:
    """Write both files into ``folder`` (a report being written); identifiers come from code constants."""
    statuses = ", ".join(f"'{s}'" for s in EXCEPTION_STATUSES)
    columns = ", ".join(MATCH_COLUMNS)
    parts = [
        f"SELECT '{entity}' AS entity, {columns} FROM {table} WHERE status IN ({statuses})"
        for entity, table in MATCH_TABLES.items()
        if table_exists(con, table)
    ]
    review = folder / REVIEW_FILE
    con.execute(
        f"COPY ({' UNION ALL BY NAME '.join(parts) or _EMPTY_REVIEW}) TO '{_quoted(review)}' (FORMAT parquet)"
    )
    records = folder / RECORDS_FILE
    selects = []
    for entity, sources in RECORD_SOURCES.items():
        for name, kind, systems in sources:
            table = core_model.TABLES[name]
            if not table_exists(con, table):
                continue
            fields = ", ".join(
                f"{field} := CAST({field} AS VARCHAR)"
                for field in core_model.entity(name).fields
                if field not in ("source", "source_id")
            )
            where = ", ".join(f"'{s}'" for s in systems)
            selects.append(
                f"SELECT '{entity}' AS entity, source, '{kind}' AS kind, source_id, "
                f"CAST(to_json(struct_pack({fields})) AS VARCHAR) AS record FROM {table} WHERE source IN ({where})"
            )
    empty = (
        "SELECT CAST(NULL AS VARCHAR) AS entity, CAST(NULL AS VARCHAR) AS source, CAST(NULL AS VARCHAR) AS kind, "
        "CAST(NULL AS VARCHAR) AS source_id, CAST(NULL AS VARCHAR) AS record WHERE false"
    )
    con.execute(
        f"COPY ({' UNION ALL '.join(selects) or empty} ORDER BY 1, 2, 4) TO '{_quoted(records)}' (FORMAT parquet)"
    )
    return [review, records]
