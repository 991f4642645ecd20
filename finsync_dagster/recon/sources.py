"""Where the matchers read from: ``core.*`` tables (or an empty stand-in when one is not built yet).

Identifiers come from the core model and the constants here, never from input.
"""

from __future__ import annotations

import duckdb

from finsync_dagster.core import model as core_model
from finsync_dagster.recon.model import MATCH_TABLES
from finsync_dagster.warehouse import table_exists


def relation(con: duckdb.DuckDBPyConnection, qualified: str) -> str:
    """``qualified`` when the table exists; otherwise an empty relation with the core entity's columns."""
    if table_exists(con, qualified):
        return qualified
    entity = core_model.entity(qualified.removeprefix("core."))
    columns = ", ".join(f"CAST(NULL AS {f.sql_type}) AS {f.name}" for f in entity.fields.values())
    return f"(SELECT {columns} WHERE false)"


def customer_links(con: duckdb.DuckDBPyConnection) -> str:
    """FreshBooks client id -> Infor customer number, for the customers reconciliation has paired."""
    name = MATCH_TABLES["customers"]
    if not table_exists(con, name):
        return "SELECT CAST(NULL AS VARCHAR) AS freshbooks_id, CAST(NULL AS VARCHAR) AS infor_id WHERE false"
    return (
        f"SELECT freshbooks_id, infor_id FROM {name} "
        "WHERE status IN ('matched', 'matched_with_differences') "
        "AND freshbooks_id IS NOT NULL AND infor_id IS NOT NULL"
    )


def fill(template: str, **parts: str) -> str:
    """Replace ``__NAME__`` placeholders in order (a part may itself hold later placeholders)."""
    for name, text in parts.items():
        template = template.replace(f"__{name}__", text)
    return template
