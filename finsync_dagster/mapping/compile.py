"""Turn a checked spec into one DuckDB SELECT: every rule becomes a column expression, every way a row
can fail becomes a condition collected into ``__errors``. Nothing runs per row in Python.

Identifiers reach the SQL only after ``validate`` found them in a schema (and are quoted anyway); every
value written in a spec (constants, conditions, separators, formats, messages) is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

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
)
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
    LookupRef,
    Not,
    Rule,
    Spec,
    Split,
    When,
)
from finsync_dagster.mapping.validate import decimal_scale, literal_family

_FAMILY_SQL = {
    TEXT: "VARCHAR",
    INTEGER: "BIGINT",
    DECIMAL: "DECIMAL(38,10)",
    DATE: "DATE",
    TIMESTAMP: "TIMESTAMPTZ",
    BOOLEAN: "BOOLEAN",
}
_NAMED_PARTS = {"first": 1, "last": -1}


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass
class Expr:
    sql: str
    family: str | None
    sql_type: str | None = None


@dataclass
class Query:
    """The compiled SELECT, its parameters, and the Python tables to register under their names."""

    sql: str
    params: dict[str, object]
    lookups: dict[str, tuple[list[str], list[str]]]  # registered name -> (keys, values)
    enrichment_csvs: dict[str, str]  # registered name -> alias
    columns: list[str]
    body: str  # FROM ... JOIN ... WHERE ..., for probing the source rows the spec reads
    lookup_probes: list[LookupProbe]


@dataclass(frozen=True)
class LookupProbe:
    """A lookup the data must satisfy: rows where ``condition`` holds use ``key``, which the table lacks."""

    field: str
    ref: LookupRef
    condition: str
    key: str


@dataclass
class _Checks:
    items: list[tuple[str, str, str | None]] = field(
        default_factory=list
    )  # (condition, message param, value)


class Compiler:
    def __init__(
        self,
        spec: Spec,
        source: TableSchema,
        target: TableSchema,
        enrich: dict[str, TableSchema | None],
        prefix: str,
    ) -> None:
        self.spec = spec
        self.source = source
        self.target = target
        self.enrich = enrich
        self.prefix = prefix
        self.params: dict[str, object] = {}
        self.joins: list[str] = []
        self.checks = _Checks()
        self.field = ""
        self.lookup_tables: dict[str, tuple[list[str], list[str]]] = {}
        self.probes: list[LookupProbe] = []
        self.held: str | None = None  # a table of (entity, record_id) the data-quality checks hold back

    # --- plumbing ----------------------------------------------------------------------------------

    def param(self, value: object, sql_type: str | None = None) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        if sql_type is None:
            sql_type = _FAMILY_SQL.get(literal_family(value) or TEXT, "VARCHAR")
            if isinstance(value, Decimal):
                exponent = value.as_tuple().exponent
                scale = max(0, -exponent) if isinstance(exponent, int) else 0
                sql_type = f"DECIMAL(38,{min(scale, 10)})"
        return f"CAST(${name} AS {sql_type})"

    def fail_when(self, condition: str, message: str, value: str | None = None, line: int = 0) -> None:
        where = f"{self.spec.path.name}:{line}" if line else self.spec.path.name
        text = f"{self.field} ({where}): {message}"
        self.checks.items.append((condition, self.param(text), value))

    # --- producers ---------------------------------------------------------------------------------

    def rule(self, rule: Rule, target: Field | None = None) -> Expr:
        expr = self.producer(rule)
        line = rule.loc.line
        if rule.conversion is not None:
            expr = self.convert(expr, rule, line)
        if expr.family == TEXT and (rule.trim or (target is not None and self.spec.target.kind == "m3")):
            expr = Expr(f"NULLIF(trim({expr.sql}), '')", TEXT)
        if rule.case:
            expr = Expr(f"{rule.case}({expr.sql})", TEXT)
        if rule.negate:
            expr = Expr(f"(-{expr.sql})", expr.family, expr.sql_type)
        if rule.value_map is not None:
            expr = self.value_map(expr, rule, line)
        if rule.default is not None:
            expr = Expr(f"COALESCE({expr.sql}, {self.param(rule.default)})", expr.family, expr.sql_type)
        limit = rule.max_length or (
            target.length if target is not None and self.spec.target.kind != "core" else None
        )
        if limit and expr.family in (TEXT, None):
            if rule.on_overflow == "truncate":
                expr = Expr(f"left({expr.sql}, {int(limit)})", TEXT)
            else:
                self.fail_when(
                    f"length({expr.sql}) > {int(limit)}", f"longer than {limit} characters: ", expr.sql, line
                )
        return expr

    def producer(self, rule: Rule) -> Expr:
        producer = rule.producer
        if isinstance(producer, Column):
            return self.column(producer)
        if isinstance(producer, Const):
            family = literal_family(producer.value)
            return Expr(self.param(producer.value) if producer.value is not None else "NULL", family)
        if isinstance(producer, Concat):
            parts = [self.as_text(self.rule(item)) for item in producer.items]
            return Expr(f"NULLIF(concat_ws({self.param(producer.separator)}, {', '.join(parts)}), '')", TEXT)
        if isinstance(producer, Coalesce):
            items = [self.rule(item) for item in producer.items]
            family = DECIMAL if {i.family for i in items} == {INTEGER, DECIMAL} else items[0].family
            return Expr(f"COALESCE({', '.join(i.sql for i in items)})", family)
        if isinstance(producer, Split):
            return self.split(producer, rule.loc.line)
        if isinstance(producer, LookupRef):
            return self.lookup(producer)
        if isinstance(producer, When):
            return self.when(producer)
        if isinstance(producer, Fail):
            return Expr("NULL", None)
        raise AssertionError(producer)

    def column(self, column: Column) -> Expr:
        if column.alias is not None:
            alias, _, name = column.name.partition(".")
            schema = self.enrich.get(alias)
            found = schema.get(name) if schema is not None else None
            family = found.family if found else TEXT
            sql = f"e_{alias}.{quote(name)}"
            return Expr(
                f"NULLIF({sql}, '')" if family == TEXT else sql, family, found.sql_type if found else None
            )
        found = self.source.fields[column.name]
        sql = f"src.{quote(column.name)}"
        if found.family == TEXT:
            sql = f"NULLIF({sql}, '')"  # blank and missing are the same thing in both APIs
        return Expr(sql, found.family, found.sql_type)

    def as_text(self, expr: Expr) -> str:
        if expr.family == TEXT:
            return expr.sql
        return f"CAST({expr.sql} AS VARCHAR)"

    def convert(self, expr: Expr, rule: Rule, line: int) -> Expr:
        conversion = rule.conversion
        assert conversion is not None
        to, value = conversion.to, expr.sql
        if to == DATE:
            if expr.family == DATE:
                return expr
            if expr.family == TIMESTAMP:
                return Expr(f"CAST(timezone('UTC', {value}) AS DATE)", DATE)
            parsed = (
                f"CAST(TRY_STRPTIME({value}, {self.param(conversion.format)}) AS DATE)"
                if conversion.format
                else f"TRY_CAST({value} AS DATE)"
            )
            self.fail_when(f"{value} IS NOT NULL AND {parsed} IS NULL", "not a date: ", value, line)
            return Expr(parsed, DATE)
        if to == TIMESTAMP:
            zone = self.param(conversion.timezone or "UTC")
            if expr.family == TIMESTAMP and (expr.sql_type or "").upper().startswith(
                ("TIMESTAMPTZ", "TIMESTAMP WITH")
            ):
                return expr
            if expr.family in (DATE, TIMESTAMP):
                return Expr(f"timezone({zone}, CAST({value} AS TIMESTAMP))", TIMESTAMP)
            naive = (
                f"TRY_STRPTIME({value}, {self.param(conversion.format)})"
                if conversion.format
                else f"TRY_CAST({value} AS TIMESTAMP)"
            )
            parsed = f"timezone({zone}, {naive})"
            self.fail_when(f"{value} IS NOT NULL AND {naive} IS NULL", "not a timestamp: ", value, line)
            return Expr(parsed, TIMESTAMP)
        if to == DECIMAL:
            scale = conversion.scale
            exact = f"DECIMAL(18,{scale})"
            source_scale = decimal_scale(expr.sql_type or "")
            if expr.family == INTEGER or (source_scale is not None and source_scale <= scale):
                return Expr(f"CAST({value} AS {exact})", DECIMAL, exact)
            wide = f"TRY_CAST({value} AS DECIMAL(38,10))"
            self.fail_when(
                f"{value} IS NOT NULL AND {wide} IS NULL", "not a number: ", self.as_text(expr), line
            )
            if not conversion.round:
                self.fail_when(
                    f"{wide} <> CAST({wide} AS {exact})",
                    f"has more than {scale} decimal places (add `round: true` to round): ",
                    self.as_text(expr),
                    line,
                )
            return Expr(f"CAST({wide} AS {exact})", DECIMAL, exact)
        if to == INTEGER:
            if expr.family == INTEGER:
                return expr
            if expr.family in (DATE, TIMESTAMP):
                return Expr(
                    f"CAST(strftime({value}, {self.param(conversion.format)}) AS BIGINT)", INTEGER, "BIGINT"
                )
            parsed = f"TRY_CAST({value} AS BIGINT)"
            # DuckDB rounds 12.5 (and '12.5') to 13 on the cast; a fraction is not a whole number.
            exact = value if expr.family == DECIMAL else f"TRY_CAST({value} AS DECIMAL(38,10))"
            self.fail_when(
                f"{value} IS NOT NULL AND ({parsed} IS NULL OR {exact} <> {parsed})",
                "not a whole number: ",
                self.as_text(expr),
                line,
            )
            return Expr(parsed, INTEGER, "BIGINT")
        if to == BOOLEAN:
            parsed = f"TRY_CAST({value} AS BOOLEAN)"
            self.fail_when(
                f"{value} IS NOT NULL AND {parsed} IS NULL", "not true or false: ", self.as_text(expr), line
            )
            return Expr(parsed, BOOLEAN)
        if conversion.format and expr.family in (DATE, TIMESTAMP):
            return Expr(f"strftime({value}, {self.param(conversion.format)})", TEXT)
        return Expr(self.as_text(expr), TEXT)

    def split(self, split: Split, line: int) -> Expr:
        text = self.rule(split.item).sql
        if split.separator is not None:
            sep = self.param(split.separator)
            parts = f"string_split({text}, {sep})"
            if split.part == "rest":
                sql = f"CASE WHEN strpos({text}, {sep}) > 0 THEN NULLIF(trim(substr({text}, strpos({text}, {sep}) + length({sep}))), '') END"
            else:
                sql = f"NULLIF(trim(list_extract({parts}, {_part_index(split.part)})), '')"
        else:
            width = int(split.width or 1)
            pattern = self.param(f".{{1,{width}}}(?:\\s+|$)|.{{{width}}}")
            parts = f"list_transform(regexp_extract_all({text}, {pattern}), lambda s: trim(s))"
            sql = f"NULLIF(list_extract({parts}, {_part_index(split.part)}), '')"
        if split.max_parts:
            self.fail_when(
                f"len({parts}) > {int(split.max_parts)}",
                f"has more than {split.max_parts} parts: ",
                text,
                line,
            )
        return Expr(sql, TEXT)

    def lookup(self, ref: LookupRef) -> Expr:
        table = self.spec.lookups[ref.table]
        registered = f"{self.prefix}_lk_{ref.table}"
        self.lookup_tables[registered] = (list(table.rows), list(table.rows.values()))
        alias = f"lk{len(self.joins)}"
        key = f"trim({self.as_text(self.rule(ref.item))})"
        if table.ignore_case:
            key = f"lower({key})"
        self.joins.append(f"LEFT JOIN {quote(registered)} AS {alias} ON {alias}.k = {key}")
        if ref.on_missing == "error":
            self.probes.append(LookupProbe(self.field, ref, f"{key} IS NOT NULL AND {alias}.k IS NULL", key))
            self.fail_when(
                f"{key} IS NOT NULL AND {alias}.k IS NULL",
                f"no entry in lookup {ref.table!r} ({table.path.name}) for ",
                key,
                ref.loc.line,
            )
        return Expr(f"NULLIF({alias}.v, '')", TEXT)

    def when(self, when: When) -> Expr:
        conditions = [self.condition(c) for c, _ in when.branches]
        branch = " ".join(f"WHEN {c} THEN {i + 1}" for i, c in enumerate(conditions))
        results = [
            self.guarded(then, f"(CASE {branch} ELSE 0 END) = {i + 1}")
            for i, (_, then) in enumerate(when.branches)
        ]
        otherwise = (
            self.guarded(when.otherwise, f"(CASE {branch} ELSE 0 END) = 0")
            if when.otherwise is not None
            else Expr("NULL", None)
        )
        cases = " ".join(f"WHEN {c} THEN {r.sql}" for c, r in zip(conditions, results, strict=True))
        for index, (_, then) in enumerate(when.branches):
            if isinstance(then.producer, Fail):
                self.fail_when(
                    f"(CASE {branch} ELSE 0 END) = {index + 1}", then.producer.message, None, then.loc.line
                )
        if when.otherwise is not None and isinstance(when.otherwise.producer, Fail):
            self.fail_when(
                f"(CASE {branch} ELSE 0 END) = 0",
                when.otherwise.producer.message,
                None,
                when.otherwise.loc.line,
            )
        families = {r.family for r in [*results, otherwise] if r.family is not None}
        family = DECIMAL if families == {INTEGER, DECIMAL} else (families.pop() if families else None)
        return Expr(f"CASE {cases} ELSE {otherwise.sql} END", family)

    def guarded(self, rule: Rule, taken: str) -> Expr:
        """A branch's own failures (and the lookup keys it needs) only count on rows that take the branch."""
        start, probes = len(self.checks.items), len(self.probes)
        expr = self.rule(rule)
        self.checks.items[start:] = [(f"{taken} AND ({c})", m, v) for c, m, v in self.checks.items[start:]]
        self.probes[probes:] = [
            replace(p, condition=f"{taken} AND ({p.condition})") for p in self.probes[probes:]
        ]
        return expr

    def condition(self, condition: Condition) -> str:
        if isinstance(condition, AllOf):
            return "(" + " AND ".join(self.condition(c) for c in condition.items) + ")"
        if isinstance(condition, AnyOf):
            return "(" + " OR ".join(self.condition(c) for c in condition.items) + ")"
        if isinstance(condition, Not):
            return f"(NOT {self.condition(condition.item)})"
        assert isinstance(condition, Compare)
        item = self.rule(condition.item)
        value, op = item.sql, condition.op
        sql_type = _FAMILY_SQL.get(item.family or TEXT, "VARCHAR")
        if op == "is_null":
            return f"({value} IS {'' if condition.value else 'NOT '}NULL)"
        if op in ("in", "not_in"):
            assert isinstance(condition.value, list)  # the loader accepts only a non-empty list here
            values = ", ".join(self.param(v, sql_type) for v in condition.value)
            if op == "in":
                return f"COALESCE({value} IN ({values}), false)"
            return f"({value} IS NULL OR {value} NOT IN ({values}))"
        if op == "matches":
            return f"COALESCE(regexp_matches({value}, {self.param(str(condition.value))}), false)"
        if op == "starts_with":
            return f"COALESCE(starts_with({value}, {self.param(str(condition.value))}), false)"
        if op == "not_equals":
            return f"({value} IS DISTINCT FROM {self.param(condition.value, sql_type)})"
        symbol = {"equals": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        return f"COALESCE({value} {symbol} {self.param(condition.value, sql_type)}, false)"

    def value_map(self, expr: Expr, rule: Rule, line: int) -> Expr:
        pairs = rule.value_map or ()
        cases = " ".join(f"WHEN {expr.sql} = {self.param(k)} THEN {self.param(v)}" for k, v in pairs)
        family = literal_family(pairs[0][1]) if pairs else expr.family
        if rule.map_missing == "keep":
            fallback = (
                expr.sql
                if family == expr.family
                else f"CAST({expr.sql} AS {_FAMILY_SQL.get(family or TEXT)})"
            )
        else:
            fallback = "NULL"
        if rule.map_missing == "error":
            keys = ", ".join(self.param(k) for k, _ in pairs)
            self.fail_when(
                f"{expr.sql} IS NOT NULL AND {expr.sql} NOT IN ({keys})",
                "no 'map' entry for ",
                self.as_text(expr),
                line,
            )
        return Expr(f"CASE {cases} ELSE {fallback} END", family)

    # --- the whole SELECT ----------------------------------------------------------------------------

    def output(self, name: str, rule: Rule | None, target: Field) -> str:
        self.field = name
        if rule is None:
            return f"CAST(NULL AS {target.sql_type}) AS {quote(name)}"
        expr = self.rule(rule, target)
        if self.spec.target.kind == "m3":
            sql = self.as_text(expr) if expr.family != TEXT else expr.sql
        elif expr.family == DECIMAL and target.family == DECIMAL:
            target_scale = decimal_scale(target.sql_type)
            source_scale = decimal_scale(expr.sql_type or "DECIMAL(38,10)")
            sql = f"CAST({expr.sql} AS {target.sql_type})"
            if target_scale is not None and (source_scale is None or source_scale > target_scale):
                self.fail_when(
                    f"{expr.sql} <> {sql}",
                    f"has more than {target_scale} decimal places: ",
                    self.as_text(expr),
                    rule.loc.line,
                )
        else:
            sql = f"CAST({expr.sql} AS {target.sql_type})"
        if rule.required or target.required:
            blank = f"{sql} IS NULL" if target.family not in (TEXT, NUMBER) else f"COALESCE({sql}, '') = ''"
            self.fail_when(blank, "required but empty", None, rule.loc.line)
        return f"{sql} AS {quote(name)}"

    def compile(self, *, limit: int | None = None) -> Query:
        targets = (
            list(self.target.fields.values())
            if self.spec.target.kind == "core"
            else [f for f in self.target.fields.values() if f.name in self.spec.fields]
        )
        enrichment_csvs: dict[str, str] = {}
        for alias, enrichment in self.spec.enrichments.items():
            self.field = f"enrich.{alias}"
            table = (
                f"{self.prefix}_en_{alias}"
                if enrichment.csv is not None
                else _qualified(enrichment.table or "")
            )
            if enrichment.csv is not None:
                enrichment_csvs[table] = alias
            pairs = []
            for key_column, on_rule in zip(enrichment.key, enrichment.on, strict=True):
                on = self.as_text(self.rule(on_rule))
                key = f"CAST(e_{alias}.{quote(key_column)} AS VARCHAR)"
                if enrichment.ignore_case:
                    on, key = f"lower(trim({on}))", f"lower(trim({key}))"
                pairs.append(f"{key} = {on}")
            self.joins.insert(0, f"LEFT JOIN {table} AS e_{alias} ON {' AND '.join(pairs)}")
        columns = [self.output(t.name, self.spec.fields.get(t.name), t) for t in targets]
        where = []
        if not self.spec.include_deleted and "_deleted" in self.source:
            where.append("NOT COALESCE(src._deleted, false)")
        if self.spec.filter is not None:
            self.field = "filter"
            where.append(self.condition(self.spec.filter))
        if self.held is not None:
            entity = self.param(self.spec.source.partition(".")[2])
            where.append(
                f"CAST(src.{quote(self.spec.key)} AS VARCHAR) NOT IN "
                f"(SELECT record_id FROM {self.held} WHERE entity = {entity})"
            )
        errors = ", ".join(f"CASE WHEN {c} THEN {m}{_with_value(v)} END" for c, m, v in self.checks.items)
        body = "\n".join(
            [
                f"FROM {_qualified(self.spec.source)} AS src",
                *self.joins,
                f"WHERE {' AND '.join(where)}" if where else "",
            ]
        )
        sql = "\n".join(
            [
                "SELECT",
                "  " + ",\n  ".join(columns) + ",",
                f"  CAST(src.{quote(self.spec.key)} AS VARCHAR) AS __key,",
                f"  concat_ws('; ', {errors}) AS __errors" if errors else "  '' AS __errors",
                body,
                f"ORDER BY __key LIMIT {int(limit)}" if limit is not None else "",
            ]
        )
        return Query(
            sql,
            self.params,
            self.lookup_tables,
            enrichment_csvs,
            [t.name for t in targets],
            body,
            self.probes,
        )


def _part_index(part: int | str) -> int:
    """A split part as DuckDB's 1-based ``list_extract`` index: ``first`` is 1, ``last`` is -1."""
    if isinstance(part, str) and part in _NAMED_PARTS:
        return _NAMED_PARTS[part]
    return int(part)


def _with_value(value: str | None) -> str:
    return f" || COALESCE(CAST({value} AS VARCHAR), '')" if value else ""


def _qualified(table: str) -> str:
    schema, _, name = table.partition(".")
    return f"{quote(schema)}.{quote(name)}"
