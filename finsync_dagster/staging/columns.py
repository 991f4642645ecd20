"""Declarative staging table specs, turned into DuckDB SQL that types raw JSON records in bulk.

A record arrives as JSON; every typed column is one SQL expression over it, so a batch of thousands of
records is typed by DuckDB in one statement, not by Python row by row. Casts use ``TRY_CAST``: a value of
the wrong type becomes NULL in its column (and stays visible in ``_raw``) instead of crashing the run.
Identifiers here come only from these specs, never from data or user input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from finsync_dagster.warehouse import qualified
from finsync_dagster.warehouse.schemas import STAGING


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    DATE = "date"
    DECIMAL = "decimal"  # a decimal string that is not money (quantities, percentages)
    MONEY = "money"  # FreshBooks {amount, code}: two columns, NAME and NAME_code
    EASTERN_TS = "eastern_ts"  # FreshBooks accounting timestamp: US/Eastern wall clock, no zone
    UTC_TS = "utc_ts"  # a timestamp already in UTC, with or without a trailing Z
    M3_DATE = "m3_date"  # yyyyMMdd string, "0" or "" for none
    M3_DECIMAL = "m3_decimal"  # M3 number as a string, money to the cent
    M3_QUANTITY = "m3_quantity"  # M3 number as a string, quantities (4 decimals)
    M3_PRICE = "m3_price"  # M3 unit price as a string: up to 6 decimals, kept exactly
    M3_INT = "m3_int"
    AMOUNT = "amount"  # a decimal string amount to the cent, exact (Shopify's money: "67.52")
    ISO_TS = "iso_ts"  # ISO 8601 with a UTC offset (Shopify: 2025-11-03T14:22:05-05:00)


SQL_TYPES = {
    Kind.TEXT: "VARCHAR",
    Kind.INT: "BIGINT",
    Kind.BOOL: "BOOLEAN",
    Kind.DATE: "DATE",
    Kind.DECIMAL: "DECIMAL(18,4)",
    Kind.MONEY: "DECIMAL(18,2)",
    Kind.EASTERN_TS: "TIMESTAMPTZ",
    Kind.UTC_TS: "TIMESTAMPTZ",
    Kind.M3_DATE: "DATE",
    Kind.M3_DECIMAL: "DECIMAL(18,2)",
    Kind.M3_QUANTITY: "DECIMAL(18,4)",
    Kind.M3_PRICE: "DECIMAL(18,6)",
    Kind.M3_INT: "BIGINT",
    Kind.AMOUNT: "DECIMAL(18,2)",
    Kind.ISO_TS: "TIMESTAMPTZ",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT
    path: str | None = None  # JSON path inside the record, dotted; defaults to the name
    description: str = ""

    def json_path(self) -> str:
        return "$." + (self.path or self.name)


def _leaf(path: str) -> str:
    """The VARCHAR value at ``path`` of the record, already parsed into the struct ``r``."""
    return "r." + ".".join(f'"{part}"' for part in path.split("."))


def _blank_to_null(expression: str) -> str:
    return f"NULLIF(trim({expression}), '')"


def column_sql(column: Column) -> list[tuple[str, str, str]]:
    """``(name, sql type, expression)`` for each staging column this spec column produces."""
    path = column.path or column.name
    text = _leaf(path)
    kind = column.kind
    if kind is Kind.MONEY:
        return [
            (column.name, SQL_TYPES[kind], f"TRY_CAST({_leaf(path + '.amount')} AS DECIMAL(18,2))"),
            (f"{column.name}_code", "VARCHAR", _leaf(path + ".code")),
        ]
    if kind is Kind.TEXT:
        expression = text
    elif kind is Kind.EASTERN_TS:
        expression = f"timezone('America/New_York', TRY_STRPTIME({text}, '%Y-%m-%d %H:%M:%S'))"
    elif kind is Kind.UTC_TS:
        expression = f"timezone('UTC', TRY_CAST(replace(replace({text}, 'T', ' '), 'Z', '') AS TIMESTAMP))"
    elif kind is Kind.ISO_TS:
        expression = f"TRY_CAST({text} AS TIMESTAMPTZ)"
    elif kind is Kind.AMOUNT:
        expression = _exact_number(_blank_to_null(text), SQL_TYPES[kind])
    elif kind is Kind.M3_DATE:
        expression = f"TRY_STRPTIME(NULLIF({_blank_to_null(text)}, '0'), '%Y%m%d')::DATE"
    elif kind.value.startswith("m3_"):
        expression = _exact_number(_blank_to_null(text), SQL_TYPES[kind])
    else:
        expression = f"TRY_CAST({text} AS {SQL_TYPES[kind]})"
    return [(column.name, SQL_TYPES[kind], expression)]


def _exact_number(value: str, target: str) -> str:
    """A number cast to ``target`` only when that loses nothing: 10.005 never becomes 10.01.

    A value with more decimals than its column holds becomes NULL (and stays in ``_raw``), so quality
    rules see it instead of a silently rounded amount.
    """
    if target == "BIGINT":
        return f"TRY_CAST({value} AS BIGINT)"
    wide = f"TRY_CAST({value} AS DECIMAL(38,10))"
    return f"CASE WHEN TRY_CAST({value} AS {target}) = {wide} THEN TRY_CAST({value} AS {target}) END"


def _structure(columns: tuple[Column, ...]) -> str:
    """The json_transform structure that extracts every leaf the columns read, as text, in one parse."""
    tree: dict[str, Any] = {}
    for column in columns:
        parts = (column.path or column.name).split(".")
        if column.kind is Kind.MONEY:
            parts = [*parts, "amount"]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = "VARCHAR"
        if column.kind is Kind.MONEY:
            node["code"] = "VARCHAR"
    return json.dumps(tree)


@dataclass(frozen=True)
class TableSpec:
    """One staging table: where its records come from and how each column is typed."""

    name: str  # staging table name, e.g. freshbooks_invoices
    system: str  # freshbooks | infor
    description: str
    id_expression: str  # SQL over ``raw`` giving the record's id as text
    updated_expression: str | None  # SQL over ``raw`` giving the source update time (TIMESTAMPTZ)
    deleted_expression: str = "FALSE"  # SQL over ``raw``: is this record deleted at the source?
    columns: tuple[Column, ...] = ()
    parent_column: str | None = None  # line tables: invoice_id / order_id
    parent_expression: str | None = None

    @property
    def qualified_name(self) -> str:
        """``staging.<name>``, through the warehouse's identifier rule."""
        return qualified(STAGING, self.name)

    def select_sql(self, source_table: str, extracted_at_param: str = "$extracted_at") -> str:
        """SQL typing every record of ``source_table`` (one JSON column ``raw``) into this table's shape."""
        parts = [f"CAST({self.id_expression} AS VARCHAR) AS id"]
        if self.parent_column:
            parts.append(f"CAST({self.parent_expression} AS VARCHAR) AS {self.parent_column}")
        for column in self.columns:
            parts.extend(f"{expression} AS {name}" for name, _type, expression in column_sql(column))
        parts.append("CAST(raw AS JSON) AS _raw")
        parts.append(f"CAST({extracted_at_param} AS TIMESTAMPTZ) AS _extracted_at")
        updated = self.updated_expression or "NULL"
        parts.append(f"CAST({updated} AS TIMESTAMPTZ) AS _source_updated_at")
        parts.append(f"COALESCE(CAST({self.deleted_expression} AS BOOLEAN), FALSE) AS _deleted")
        # Parse each record once into a struct of text leaves; every column reads from it.
        parsed = f"(SELECT *, json_transform(raw, '{_structure(self.columns)}') AS r FROM {source_table})"
        return "SELECT\n  " + ",\n  ".join(parts) + f"\nFROM {parsed}"

    def ddl(self, schema: str = STAGING) -> str:
        # No PRIMARY KEY: DuckDB keeps such an index in memory, which grows with the table. The writer
        # merges by id with a hash join instead (delete the changed ids, insert their new versions).
        lines = ["id VARCHAR NOT NULL"]
        if self.parent_column:
            lines.append(f"{self.parent_column} VARCHAR")
        for column in self.columns:
            lines.extend(f"{name} {sql_type}" for name, sql_type, _ in column_sql(column))
        lines += [
            "_raw JSON",
            "_extracted_at TIMESTAMPTZ NOT NULL",
            "_source_updated_at TIMESTAMPTZ",
            "_deleted BOOLEAN NOT NULL DEFAULT FALSE",
        ]
        return (
            f"CREATE TABLE IF NOT EXISTS {qualified(schema, self.name)} (\n  " + ",\n  ".join(lines) + "\n)"
        )

    def column_names(self) -> list[str]:
        names = ["id"] + ([self.parent_column] if self.parent_column else [])
        for column in self.columns:
            names.extend(name for name, _, _ in column_sql(column))
        return [*names, "_raw", "_extracted_at", "_source_updated_at", "_deleted"]

    def column_types(self) -> dict[str, str]:
        types = {"id": "VARCHAR"}
        if self.parent_column:
            types[self.parent_column] = "VARCHAR"
        for column in self.columns:
            types.update({name: sql_type for name, sql_type, _ in column_sql(column)})
        types.update(
            {
                "_raw": "JSON",
                "_extracted_at": "TIMESTAMPTZ",
                "_source_updated_at": "TIMESTAMPTZ",
                "_deleted": "BOOLEAN",
            }
        )
        return types

    def descriptions(self) -> dict[str, str]:
        described = {
            "id": f"{self.system} record id",
            "_raw": "the source record as received",
            "_extracted_at": "when finsync last wrote this row (UTC)",
            "_source_updated_at": "when the source last changed the record (UTC)",
            "_deleted": "deleted at the source (kept, flagged)",
        }
        for column in self.columns:
            for name, _, _ in column_sql(column):
                described[name] = column.description or (
                    "currency of " + column.name
                    if name.endswith("_code") and column.kind is Kind.MONEY
                    else ""
                )
        return described


@dataclass(frozen=True)
class ChildSpec:
    """A table of line records nested inside a parent record (invoice lines inside an invoice)."""

    table: TableSpec
    list_path: str  # JSON path of the list inside the parent, e.g. $.lines
