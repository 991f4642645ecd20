"""Check a parsed spec against its source and target schemas: fields exist, types fit, nothing required
is left unmapped, M3 lengths are respected. Data-dependent checks (lookup keys the data uses) live in
``engine.check_data`` because they run SQL.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import duckdb

from finsync_dagster.contracts import freshbooks_fields, m3_catalog
from finsync_dagster.contracts.fields import (
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    NUMBER,
    TEXT,
    TIMESTAMP,
    Field,
    TableSchema,
    accepts,
    family_of,
)
from finsync_dagster.core import model as core_model
from finsync_dagster.errors import MappingError
from finsync_dagster.mapping import staging_schemas
from finsync_dagster.mapping.spec import (
    AllOf,
    AnyOf,
    Coalesce,
    Column,
    Compare,
    Concat,
    Condition,
    Const,
    Fail,
    Loc,
    LookupRef,
    Not,
    Problem,
    Rule,
    Spec,
    Split,
    When,
)
from finsync_dagster.warehouse import columns_of
from finsync_dagster.warehouse.schemas import CORE, STAGING

_CONVERTIBLE = {
    DATE: (TEXT, DATE, TIMESTAMP),
    TIMESTAMP: (TEXT, DATE, TIMESTAMP),
    DECIMAL: (TEXT, INTEGER, DECIMAL),
    INTEGER: (TEXT, INTEGER, DECIMAL, DATE, TIMESTAMP),  # from a date: a part of it, by `format`
    BOOLEAN: (TEXT, INTEGER, BOOLEAN),
    TEXT: (TEXT, INTEGER, DECIMAL, DATE, TIMESTAMP, BOOLEAN),
}


def literal_family(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, Decimal):
        return DECIMAL
    if isinstance(value, datetime):
        return TIMESTAMP
    if isinstance(value, date):
        return DATE
    return TEXT


def target_schema(spec: Spec) -> TableSchema:
    kind, name = spec.target.kind, spec.target.name
    if kind == "core":
        return core_model.entity(name)
    if kind == "m3":
        return m3_catalog.transaction(name).inputs
    return freshbooks_fields.payload_schema(name)


def source_schema(spec: Spec, con: duckdb.DuckDBPyConnection | None = None) -> TableSchema:
    """The live table when the warehouse has it, else what the conventions promise."""
    if con is not None:
        live = (
            staging_schemas.live_schema(con, spec.source) if spec.source.startswith(f"{STAGING}.") else None
        )
        if live is None and spec.source.startswith(f"{CORE}."):
            live = _live_core(con, spec.source)
        if live is not None:
            return live
    if spec.source.startswith(f"{CORE}."):
        return core_model.entity(spec.source.removeprefix(f"{CORE}."))
    return staging_schemas.declared_schema(spec.source)


def _live_core(con: duckdb.DuckDBPyConnection, table: str) -> TableSchema | None:
    rows = columns_of(con, table)
    return TableSchema.of(table, (Field(c, family_of(t), t) for c, t in rows)) if rows else None


def enrichment_columns(spec: Spec, con: duckdb.DuckDBPyConnection | None) -> dict[str, TableSchema | None]:
    """Columns of each enrichment source; None for a table that is neither in the warehouse nor known."""
    result: dict[str, TableSchema | None] = {}
    for alias, enrichment in spec.enrichments.items():
        if enrichment.csv is not None:
            result[alias] = TableSchema.of(alias, (Field(c, TEXT) for c in enrichment.columns))
        else:
            live = _live_core(con, enrichment.table or "") if con is not None else None
            result[alias] = live or _declared(enrichment.table or "")
    return result


def _declared(table: str) -> TableSchema | None:
    """Offline, staging and core tables are known by convention; anything else is taken on trust."""
    core_table = core_model.table_schema(table)
    if core_table is not None:
        return core_table
    if table in staging_schemas.tables():
        return staging_schemas.declared_schema(table)
    return None


class _Checker:
    def __init__(
        self,
        spec: Spec,
        source: TableSchema,
        target: TableSchema,
        enrich: dict[str, TableSchema | None],
        live: bool,
    ) -> None:
        self.live = live
        self.spec = spec
        self.source = source
        self.target = target
        self.enrich = enrich
        self.problems: list[Problem] = []

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(loc, message))

    def column(self, column: Column) -> Field | None:
        if column.alias is not None:
            alias, _, name = column.name.partition(".")
            if alias not in self.spec.enrichments:
                self.problem(
                    column.loc,
                    f"unknown enrichment {alias!r} in {column.name!r} (declared: {', '.join(self.spec.enrichments) or 'none'})",
                )
                return None
            schema = self.enrich.get(alias)
            if schema is None:
                return Field(name, TEXT)
            found = schema.get(name)
            if found is None:
                self.problem(
                    column.loc,
                    f"enrichment {alias!r} has no column {name!r} (columns: {', '.join(schema.names)})",
                )
            return found
        found = self.source.get(column.name)
        if found is None:
            self.problem(
                column.loc,
                f"unknown source field {column.name!r}: {self.spec.source} has no such column{_hint(column.name, self.source.names)}",
            )
        return found

    def family(self, rule: Rule) -> str | None:
        """The family a rule produces, reporting problems on the way; None when unknown or any."""
        family = self.producer_family(rule)
        conversion = rule.conversion
        if conversion is not None:
            if family is not None and family not in _CONVERTIBLE[conversion.to]:
                self.problem(rule.loc, f"type mismatch: cannot convert {family} to {conversion.to}")
            if conversion.to == INTEGER and family in (DATE, TIMESTAMP) and not conversion.format:
                self.problem(
                    rule.loc, f"type mismatch: a {family} becomes a number only through `format`, e.g. '%Y'"
                )
            if (
                conversion.format
                and conversion.to in (TEXT, INTEGER)
                and family not in (DATE, TIMESTAMP, None)
            ):
                self.problem(rule.loc, f"'format' formats dates and timestamps, not {family}")
            if conversion.format and conversion.to in (DATE, TIMESTAMP) and family not in (TEXT, None):
                self.problem(rule.loc, f"'format' parses text; the value is already a {family}")
            family = conversion.to
        if rule.negate and family not in (INTEGER, DECIMAL, None):
            self.problem(rule.loc, f"type mismatch: 'negate' flips numbers, not {family}")
        if (rule.trim or rule.case or rule.max_length) and family not in (TEXT, None):
            self.problem(rule.loc, f"type mismatch: trim, case and max_length apply to text, not {family}")
        if rule.value_map is not None:
            results = {f for _, v in rule.value_map if (f := literal_family(v)) is not None}
            keys = {f for k, _ in rule.value_map if (f := literal_family(k)) is not None}
            if family is not None and any(not (k == family or accepts(family, k)) for k in keys):
                self.problem(
                    rule.loc,
                    f"type mismatch: 'map' keys are {', '.join(sorted(keys))} but the value is {family}",
                )
            if len(results) > 1:
                self.problem(rule.loc, f"'map' values mix types: {', '.join(sorted(results))}")
            family = results.pop() if len(results) == 1 else family
        default_family = literal_family(rule.default)
        if default_family and family and not (default_family == family or accepts(family, default_family)):
            self.problem(
                rule.loc,
                f"type mismatch: default {rule.default!r} is {default_family}, the value is {family}",
            )
        return family

    def producer_family(self, rule: Rule) -> str | None:
        producer = rule.producer
        if isinstance(producer, Column):
            found = self.column(producer)
            return found.family if found else None
        if isinstance(producer, Const):
            return literal_family(producer.value)
        if isinstance(producer, Concat):
            for item in producer.items:
                self.family(item)
            return TEXT
        if isinstance(producer, Split):
            inner = self.family(producer.item)
            if inner not in (TEXT, None):
                self.problem(producer.loc, f"type mismatch: 'split' cuts text, not {inner}")
            return TEXT
        if isinstance(producer, Coalesce):
            return self.common([self.family(item) for item in producer.items], producer.loc, "coalesce")
        if isinstance(producer, LookupRef):
            if producer.table not in self.spec.lookups:
                self.problem(
                    producer.loc,
                    f"unknown lookup table {producer.table!r} (declared: {', '.join(self.spec.lookups) or 'none'})",
                )
            self.family(producer.item)
            return TEXT
        if isinstance(producer, When):
            for condition, _ in producer.branches:
                self.condition(condition)
            results = [self.family(then) for _, then in producer.branches]
            if producer.otherwise is not None:
                results.append(self.family(producer.otherwise))
            return self.common(results, producer.loc, "when")
        if isinstance(producer, Fail):
            return None
        raise AssertionError(producer)

    def common(self, families: list[str | None], loc: Loc, what: str) -> str | None:
        known = {f for f in families if f is not None}
        if known == {INTEGER, DECIMAL}:
            return DECIMAL
        if len(known) > 1:
            self.problem(loc, f"type mismatch: the branches of '{what}' produce {', '.join(sorted(known))}")
            return None
        return known.pop() if known else None

    def condition(self, condition: Condition) -> None:
        if isinstance(condition, (AllOf, AnyOf)):
            for item in condition.items:
                self.condition(item)
        elif isinstance(condition, Not):
            self.condition(condition.item)
        elif isinstance(condition, Compare):
            family = self.family(condition.item)
            values = condition.value if isinstance(condition.value, list) else [condition.value]
            if condition.op in ("matches", "starts_with") and family not in (TEXT, None):
                self.problem(condition.loc, f"type mismatch: '{condition.op}' tests text, not {family}")
            if condition.op not in ("is_null", "matches", "starts_with") and family is not None:
                for value in values:
                    value_family = literal_family(value)
                    if value_family and not (value_family == family or accepts(family, value_family)):
                        self.problem(
                            condition.loc, f"type mismatch: compares {family} with {value!r} ({value_family})"
                        )

    def check(self) -> list[Problem]:
        spec = self.spec
        if spec.key not in self.source:
            self.problem(spec.source_loc, f"key column {spec.key!r} is not in {spec.source}")
        if spec.filter is not None:
            self.condition(spec.filter)
        for alias, enrichment in spec.enrichments.items():
            for on in enrichment.on:
                if isinstance(on.producer, Column) and on.producer.alias:
                    self.problem(enrichment.loc, f"enrichment {alias!r} must join on source fields")
                self.family(on)
            schema = self.enrich.get(alias)
            if schema is None and enrichment.table is not None and self.live:
                self.problem(
                    enrichment.loc, f"enrichment table {enrichment.table} does not exist in this warehouse"
                )
            for key in enrichment.key:
                if schema is not None and key not in schema:
                    self.problem(enrichment.loc, f"enrichment {alias!r} has no key column {key!r}")
        for name, rule in spec.fields.items():
            target = self.target.get(name)
            if target is None:
                self.problem(
                    rule.loc,
                    f"unknown target field {name!r}: {spec.target} has no such field{_hint(name, self.target.names)}",
                )
                self.family(rule)
                continue
            family = self.family(rule)
            if family is not None and not accepts(target.family, family):
                self.problem(rule.loc, _mismatch(name, family, target))
            limit = target.length if spec.target.kind != "core" else None
            if rule.max_length and limit and rule.max_length > limit:
                self.problem(
                    rule.loc, f"max_length {rule.max_length} exceeds {spec.target}'s {limit} for {name}"
                )
        for name in () if spec.target.update else self.target.required:
            if name not in spec.fields:
                description = self.target.fields[name].description
                self.problem(
                    spec.fields_loc or spec.source_loc,
                    f"required target field {name!r} ({description}) is left unmapped",
                )
        return self.problems


def _mismatch(name: str, family: str, target: Field) -> str:
    fix = {
        (TEXT, DATE): "add `type: text, format: '%Y%m%d'`",
        (TEXT, TIMESTAMP): "add `type: text, format: ...`",
        (DATE, TEXT): "add `type: date` (and `format:` if it is not ISO)",
        (TIMESTAMP, TEXT): "add `type: timestamp` (and `timezone:` if it is wall-clock time)",
        (DECIMAL, TEXT): "add `type: decimal`",
        (NUMBER, TEXT): "add `type: decimal` or `type: integer`",
        (INTEGER, TEXT): "add `type: integer`",
        (DATE, TIMESTAMP): "add `type: date`",
    }.get((target.family, family), "convert it with `type:`")
    return f"type mismatch: {name} is {target.family} but the rule produces {family}; {fix}"


def _hint(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_spec(spec: Spec, con: duckdb.DuckDBPyConnection | None = None) -> list[Problem]:
    """Every schema-level problem in ``spec``; against the live warehouse when ``con`` is given."""
    try:
        target = target_schema(spec)
        source = source_schema(spec, con)
    except MappingError as exc:
        loc = (
            spec.target.loc
            if "M3 transaction" in str(exc) or "core entity" in str(exc) or "FreshBooks" in str(exc)
            else spec.source_loc
        )
        return [Problem(loc, str(exc))]
    return _Checker(spec, source, target, enrichment_columns(spec, con), con is not None).check()


_SCALE = re.compile(r"DECIMAL\(\s*\d+\s*,\s*(\d+)\s*\)", re.IGNORECASE)


def decimal_scale(sql_type: str) -> int | None:
    match = _SCALE.search(sql_type)
    return int(match.group(1)) if match else None
