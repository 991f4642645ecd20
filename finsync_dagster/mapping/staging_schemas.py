"""What the staging tables hold, so specs can be checked before any data is staged.

The staging layer's own table specs (``finsync_dagster.staging``) are the source of truth for column
names and types; M3 columns borrow their descriptions from the MI catalog, which the suggestion engine
reads. When a warehouse is at hand, the live table's columns replace these (``live_schema``).
"""

from __future__ import annotations

import re
from functools import cache

import duckdb

from finsync_dagster.contracts import freshbooks_fields, m3_catalog
from finsync_dagster.contracts.fields import Field, TableSchema, family_of
from finsync_dagster.errors import MappingError
from finsync_dagster.staging.columns import TableSpec
from finsync_dagster.staging.freshbooks_tables import FRESHBOOKS_TABLES
from finsync_dagster.staging.infor_tables import INFOR_TABLES
from finsync_dagster.staging.shop_tables import SHOP_TABLES
from finsync_dagster.warehouse import columns_of
from finsync_dagster.warehouse.schemas import STAGING

_TABLE = re.compile(r"^staging\.[a-z][a-z0-9_]*$")


@cache
def _specs() -> dict[str, TableSpec]:
    specs: dict[str, TableSpec] = {}
    with_lines = [(spec, source.child) for spec, source in FRESHBOOKS_TABLES.values()]
    with_lines += [(spec, source.child) for spec, source in SHOP_TABLES.values()]
    for spec, child in with_lines:
        specs[spec.name] = spec
        if child is not None:
            specs[child.table.name] = child.table
    for value in INFOR_TABLES.values():
        spec = value[0] if isinstance(value, tuple) else value
        specs[spec.name] = spec
    return specs


@cache
def _m3_descriptions() -> dict[str, str]:
    """Field name -> description over every transaction we keep: M3 names mean the same everywhere."""
    found: dict[str, str] = {}
    for program, transactions in m3_catalog.programs().items():
        for name in transactions:
            transaction = m3_catalog.transaction(f"{program}/{name}")
            for schema in (transaction.outputs, transaction.inputs):
                for field in schema.fields.values():
                    found.setdefault(field.name, field.description)
    return found


def _freshbooks_descriptions(table: str) -> dict[str, str]:
    resource = table.removeprefix("freshbooks_")
    if resource not in freshbooks_fields.RESOURCES:
        return {}
    return {f.name: f.description for f in freshbooks_fields.staged_fields(resource)}


def tables() -> list[str]:
    return [spec.qualified_name for spec in _specs().values()]


def declared_schema(table: str) -> TableSchema:
    """The columns and types the staging layer writes for ``staging.<system>_<entity>``."""
    spec = _specs().get(table.removeprefix(f"{STAGING}."))
    if spec is None:
        raise MappingError(f"unknown staging table {table!r} (known: {', '.join(tables())})")
    descriptions = spec.descriptions()
    borrowed = _m3_descriptions() if spec.system == "infor" else _freshbooks_descriptions(spec.name)
    return TableSchema.of(
        table,
        (
            Field(
                name,
                family_of(sql_type),
                sql_type,
                description=descriptions.get(name) or borrowed.get(name, ""),
            )
            for name, sql_type in spec.column_types().items()
        ),
        spec.description,
    )


def check_table_name(table: str) -> str:
    """Only ``staging.<lower_snake>`` names reach SQL, so a spec cannot smuggle SQL in a table name."""
    if not _TABLE.match(table):
        raise MappingError(f"source table {table!r} must look like staging.<system>_<entity>")
    return table


def live_schema(con: duckdb.DuckDBPyConnection, table: str) -> TableSchema | None:
    """The table's real columns in the warehouse, or None when it does not exist (yet)."""
    rows = columns_of(con, check_table_name(table))
    if not rows:
        return None
    declared = declared_schema(table) if table in tables() else TableSchema(table)
    return TableSchema.of(
        table,
        (
            Field(
                column,
                family_of(sql_type),
                sql_type,
                description=getattr(declared.get(column), "description", ""),
            )
            for column, sql_type in rows
        ),
    )
