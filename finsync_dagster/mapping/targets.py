"""What a spec may map from and to, by the names people type: ``CRS610MI/Add``, ``core.customers``,
``freshbooks.clients``, ``staging.freshbooks_clients``. Shared by ``finsync mapping suggest`` and the
console's mapping studio, so both offer the same targets and read a source's fields the same way.
"""

from __future__ import annotations

import duckdb

from finsync_dagster.contracts import freshbooks_fields, m3_catalog
from finsync_dagster.contracts.fields import TableSchema
from finsync_dagster.core import model as core_model
from finsync_dagster.errors import MappingError
from finsync_dagster.mapping import staging_schemas
from finsync_dagster.mapping.validate import _live_core


def target_schema_of(text: str) -> tuple[dict[str, str], TableSchema]:
    """``CRS610MI/Add``, ``core.customers`` (or a bare core entity) or ``freshbooks.clients``: the spec's
    ``target:`` mapping and the fields it takes."""
    if "/" in text:
        return {"m3": text}, m3_catalog.transaction(text).inputs
    kind, _, name = text.replace(":", ".", 1).partition(".")
    if not name:
        kind, name = ("core", text) if text in core_model.ENTITIES else ("freshbooks", text)
    if kind == "core" and name in core_model.ENTITIES:
        return {"core": name}, core_model.entity(name)
    if kind == "freshbooks" and name in freshbooks_fields.RESOURCES:
        return {"freshbooks": name}, freshbooks_fields.payload_schema(name)
    if kind == "m3":
        return target_schema_of(name)
    raise MappingError(
        f"unknown target {text!r}: use PROGRAM/TRANSACTION (e.g. CRS610MI/Add), core.ENTITY or freshbooks.RESOURCE"
    )


def targets() -> dict[str, list[str]]:
    """Every target a spec may name, by kind, as :func:`target_schema_of` reads them."""
    return {
        "m3": [f"{p}/{t}" for p, names in m3_catalog.programs().items() for t in names],
        "freshbooks": [f"freshbooks.{name}" for name in freshbooks_fields.RESOURCES],
        "core": [f"core.{name}" for name in core_model.ENTITIES],
    }


def sources() -> list[str]:
    """Every table a spec may read: the staging tables of both systems and the core tables."""
    return [*staging_schemas.tables(), *core_model.TABLES.values()]


def source_schema_of(con: duckdb.DuckDBPyConnection | None, table: str) -> tuple[TableSchema, bool]:
    """The source table's fields, and whether they were read from data (else from the declarations)."""
    live = _live_core(con, table) if con is not None else None
    if live is not None:
        declared = staging_schemas.declared_schema(table) if table in staging_schemas.tables() else None
        if declared is not None:
            live = TableSchema.of(table, (declared.get(f.name) or f for f in live.fields.values()))
        return live, True
    core_table = core_model.table_schema(table)
    if core_table is not None:
        return core_table, False
    return staging_schemas.declared_schema(table), False
