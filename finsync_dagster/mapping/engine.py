"""Run mapping specs over a DuckDB warehouse: one vectorised query per spec, rejects kept apart.

``build_core`` is what a thin Dagster asset calls: it runs every spec that targets a core entity, stacks
the results in the entity's Arrow schema, and returns the rows that failed a rule beside them, each with
the spec file, line and field of every rule it broke.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from finsync_dagster.core import model as core_model
from finsync_dagster.errors import MappingError
from finsync_dagster.mapping.compile import Compiler, Query, quote
from finsync_dagster.mapping.spec import Column, Loc, Problem, Spec, SpecError
from finsync_dagster.mapping.validate import check_spec, enrichment_columns, source_schema, target_schema
from finsync_dagster.warehouse import one_row, qualified, registered, table_exists
from finsync_dagster.warehouse.schemas import CORE, HELD, STAGING, ensure_schema

_counter = itertools.count()
REJECT_SCHEMA = pa.schema([("spec", pa.string()), ("source_id", pa.string()), ("errors", pa.string())])


@dataclass(frozen=True)
class MappingResult:
    """What one spec produced: the mapped rows, their source keys, and the rows rejected with reasons."""

    spec: Spec
    table: pa.Table
    keys: pa.Array
    rejects: pa.Table

    @property
    def ok(self) -> bool:
        return bool(self.rejects.num_rows == 0)


@dataclass(frozen=True)
class CoreBuild:
    """A core entity built from every spec that targets it."""

    entity: str
    table: pa.Table
    rejects: pa.Table
    specs: tuple[Spec, ...]


def compile_spec(spec: Spec, con: duckdb.DuckDBPyConnection, *, limit: int | None = None) -> Query:
    problems = check_spec(spec, con)
    if problems:
        raise SpecError(problems)
    source = source_schema(spec, con)
    if not table_exists(con, spec.source):
        raise MappingError(
            f"{spec.source_loc}: table {spec.source} does not exist in this warehouse (run `finsync sync` first)"
        )
    compiler = Compiler(
        spec, source, target_schema(spec), enrichment_columns(spec, con), f"__fs{next(_counter)}"
    )
    if spec.source.startswith(f"{STAGING}.") and table_exists(con, HELD):
        compiler.held = HELD  # records in data-quality quarantine stay out of the core
    return compiler.compile(limit=limit)


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, spec: Spec, query: Query) -> Iterator[None]:
    """Lookup CSVs and CSV enrichments become in-memory views for one query, in UTC."""
    relations: dict[str, object] = {
        name: pa.table({"k": pa.array(keys, pa.string()), "v": pa.array(values, pa.string())})
        for name, (keys, values) in query.lookups.items()
    }
    for name, alias in query.enrichment_csvs.items():
        enrichment = spec.enrichments[alias]
        frame = pd.read_csv(enrichment.csv, dtype=str, keep_default_na=False)  # type: ignore[arg-type]
        relations[name] = pa.Table.from_pandas(frame, preserve_index=False)
    (zone,) = one_row(con.execute("SELECT current_setting('TimeZone')"))
    con.execute("SET TimeZone = 'UTC'")
    try:
        with registered(con, **relations):
            _check_enrichment_keys(con, spec)
            yield
    finally:
        con.execute(f"SET TimeZone = '{_zone(zone)}'")


def _zone(zone: str) -> str:
    from zoneinfo import ZoneInfo

    ZoneInfo(zone)  # only a real zone name goes back into the SET statement
    return zone


def _check_enrichment_keys(con: duckdb.DuckDBPyConnection, spec: Spec) -> None:
    for alias, enrichment in spec.enrichments.items():
        if enrichment.table is None:
            continue
        schema, _, name = enrichment.table.partition(".")
        columns = ", ".join(quote(k) for k in enrichment.key)
        duplicates = con.execute(
            f"SELECT {columns} FROM {quote(schema)}.{quote(name)} GROUP BY ALL HAVING count(*) > 1 LIMIT 5"
        ).fetchall()
        if duplicates:
            keys = ", ".join(repr(row if len(row) > 1 else row[0]) for row in duplicates)
            raise MappingError(f"{enrichment.loc}: enrichment {alias!r} has more than one row for key {keys}")


def run_spec(
    spec: Spec, con: duckdb.DuckDBPyConnection, *, limit: int | None = None, strict: bool = False
) -> MappingResult:
    """Map the spec's source table. With ``strict`` any rejected row raises ``MappingError``."""
    query = compile_spec(spec, con, limit=limit)
    with _registered(con, spec, query):
        table = con.sql(query.sql, params=query.params).to_arrow_table()
    errors = table.column("__errors")
    good = pc.equal(errors, "")
    accepted = table.filter(good)
    rejected = table.filter(pc.invert(good))
    rejects = pa.table(
        {
            "spec": pa.array([spec.name] * rejected.num_rows, pa.string()),
            "source_id": rejected.column("__key"),
            "errors": rejected.column("__errors"),
        },
        schema=REJECT_SCHEMA,
    )
    if strict and rejects.num_rows:
        raise MappingError(_describe_rejects(spec, rejects))
    keys = accepted.column("__key").combine_chunks()
    result = accepted.select(query.columns)
    if spec.target.kind == "core":
        result = result.cast(core_model.arrow_schema(spec.target.name))
    return MappingResult(spec, result, keys, rejects)


def _describe_rejects(spec: Spec, rejects: pa.Table, sample: int = 5) -> str:
    lines = [f"{spec.path}: {rejects.num_rows} row(s) of {spec.source} failed the mapping:"]
    for source_id, errors in zip(
        rejects.column("source_id").to_pylist()[:sample],
        rejects.column("errors").to_pylist()[:sample],
        strict=True,
    ):
        lines.append(f"  {spec.key}={source_id}: {errors}")
    return "\n".join(lines)


def build_core(
    entity: str,
    staging: duckdb.DuckDBPyConnection | Mapping[str, pd.DataFrame | pa.Table],
    specs: Iterable[Spec] | None = None,
    *,
    strict: bool = False,
) -> CoreBuild:
    """Build ``core.<entity>`` from the staging tables by every spec that targets it.

    ``staging`` is a DuckDB connection holding ``staging.*``, or a mapping of staging table names
    (``staging.freshbooks_clients``) to DataFrames or Arrow tables.
    """
    core_model.entity(entity)
    if specs is None:
        from finsync_dagster.mapping.registry import load_specs

        specs = load_specs()
    chosen = tuple(s for s in specs if s.target.kind == "core" and s.target.name == entity)
    if not chosen:
        raise MappingError(f"no mapping spec targets core entity {entity!r}")
    with _connection(staging) as con:
        results = [run_spec(spec, con, strict=strict) for spec in chosen]
    table = (
        pa.concat_tables([r.table for r in results])
        if results
        else core_model.arrow_schema(entity).empty_table()
    )
    rejects = pa.concat_tables([r.rejects for r in results])
    return CoreBuild(entity, table, rejects, chosen)


@contextmanager
def _connection(
    staging: duckdb.DuckDBPyConnection | Mapping[str, pd.DataFrame | pa.Table],
) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(staging, duckdb.DuckDBPyConnection):
        yield staging
        return
    con = staging_from_frames(staging)
    try:
        yield con
    finally:
        con.close()


def staging_from_frames(frames: Mapping[str, pd.DataFrame | pa.Table]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse whose ``staging.*`` tables hold the given frames."""
    con = duckdb.connect()
    for table, frame in frames.items():
        schema, _, name = table.partition(".")
        if schema not in (STAGING, CORE) or not name.replace("_", "").isalnum():
            raise MappingError(f"{table!r} is not a staging.<system>_<entity> table name")
        ensure_schema(con, schema)
        with registered(con, __frame=frame):
            con.execute(f"CREATE TABLE {qualified(schema, name)} AS SELECT * FROM __frame")
    return con


def check_data(spec: Spec, con: duckdb.DuckDBPyConnection, sample: int = 10) -> list[Problem]:
    """Problems only the data can show: lookup keys the staged rows use that the lookup table lacks."""
    problems = check_spec(spec, con)
    if problems or not table_exists(con, spec.source):
        return problems
    query = compile_spec(spec, con)
    with _registered(con, spec, query):
        for probe in query.lookup_probes:
            joiner = "AND" if "\nWHERE " in query.body else "WHERE"
            sql = f"SELECT DISTINCT {probe.key} {query.body} {joiner} {probe.condition} ORDER BY 1 LIMIT {int(sample)}"
            missing = [row[0] for row in con.execute(sql, _used(sql, query.params)).fetchall()]
            if missing:
                table = spec.lookups[probe.ref.table]
                shown = ", ".join(repr(k) for k in missing)
                problems.append(
                    Problem(
                        Loc(spec.path, probe.ref.loc.line, probe.field),
                        f"lookup {probe.ref.table!r} ({table.path.name}) has no key for {shown}, used by {spec.source}",
                    )
                )
    return problems


def _used(sql: str, params: dict[str, object]) -> dict[str, object]:
    """DuckDB refuses parameters a statement does not use; a probe uses only some of the query's."""
    names = set(re.findall(r"\$(p\d+)\b", sql))
    return {name: value for name, value in params.items() if name in names}


def preview(
    spec: Spec, con: duckdb.DuckDBPyConnection, limit: int = 5
) -> list[tuple[dict[str, Any], dict[str, Any] | None, str]]:
    """Up to ``limit`` source records beside what they become (or why they were rejected)."""
    result = run_spec(spec, con, limit=limit)
    mapped = {key: row for key, row in zip(result.keys.to_pylist(), result.table.to_pylist(), strict=True)}
    rejected = dict(
        zip(
            result.rejects.column("source_id").to_pylist(),
            result.rejects.column("errors").to_pylist(),
            strict=True,
        )
    )
    keys = sorted([*mapped, *rejected])[:limit]
    used = sorted(_columns_used(spec) | {spec.key})
    schema, _, name = spec.source.partition(".")
    source_fields = source_schema(spec, con)
    select = ", ".join(quote(c) for c in used if c in source_fields)
    rows = con.execute(
        f"SELECT {select} FROM {quote(schema)}.{quote(name)} WHERE CAST({quote(spec.key)} AS VARCHAR) IN "
        f"(SELECT unnest(?)) ORDER BY CAST({quote(spec.key)} AS VARCHAR)",
        [keys],
    ).fetchall()
    names = [c for c in used if c in source_fields]
    sources = {str(row[names.index(spec.key)]): dict(zip(names, row, strict=True)) for row in rows}
    return [(sources.get(k, {}), mapped.get(k), rejected.get(k, "")) for k in keys]


def _columns_used(spec: Spec) -> set[str]:
    nodes: list[object] = [*spec.fields.values(), *(o for e in spec.enrichments.values() for o in e.on)]
    if spec.filter is not None:
        nodes.append(spec.filter)
    return columns_read(*nodes)


def columns_read(*nodes: object) -> set[str]:
    """The source columns the given rules (or filters) read, enrichment columns left out."""
    found: set[str] = set()
    stack: list[object] = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, Column) and node.alias is None:
            found.add(node.name)
            continue
        for value in getattr(node, "__dict__", {}).values():
            if isinstance(value, tuple):
                stack.extend(v for item in value for v in (item if isinstance(item, tuple) else (item,)))
            elif not isinstance(value, (str, int, Loc)) and value is not None:
                stack.append(value)
    return found
