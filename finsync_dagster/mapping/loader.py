"""Read a YAML mapping spec into the ``spec`` model, reporting every structural problem with its line.

This layer checks shape only (known keys, one producer per rule, well-formed conditions, readable lookup
CSVs with unique keys). Whether the fields exist and the types fit is ``validate``'s job, because that
needs the source and target schemas.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from finsync_dagster.contracts.fields import BOOLEAN, DATE, DECIMAL, INTEGER, TEXT, TIMESTAMP
from finsync_dagster.mapping import marked_yaml
from finsync_dagster.mapping.spec import (
    AllOf,
    AnyOf,
    Coalesce,
    Column,
    Compare,
    Concat,
    Condition,
    Const,
    Conversion,
    Enrichment,
    Fail,
    Loc,
    LookupRef,
    LookupTable,
    Not,
    Problem,
    Rule,
    Spec,
    SpecError,
    Split,
    Target,
    When,
)
from finsync_dagster.warehouse.schemas import CORE

PRODUCERS = ("from", "value", "concat", "split", "coalesce", "lookup", "when", "error")
MODIFIERS = (
    "type", "format", "timezone", "scale", "round", "trim", "case", "map", "map_missing",
    "default", "negate", "max_length", "on_overflow", "required", "separator", "else",
)  # fmt: skip
COMPARISONS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "is_null",
    "matches",
    "starts_with",
    "gt",
    "gte",
    "lt",
    "lte",
)
CONVERSIONS = (TEXT, INTEGER, DECIMAL, DATE, TIMESTAMP, BOOLEAN)
TOP_LEVEL = (
    "name", "version", "description", "source", "target", "key", "include_deleted", "filter",
    "lookups", "enrich", "fields",
)  # fmt: skip
_TARGET_KINDS = ("core", "m3", "freshbooks")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_WAREHOUSE_TABLE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class _Reader:
    """Walks one spec document, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def loc(self, container: Any, key: Any = None, field: str = "") -> Loc:
        return Loc(self.path, marked_yaml.line_of(container, key), field)

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(loc, message))

    def unknown_keys(self, node: dict[str, Any], allowed: tuple[str, ...], field: str, what: str) -> None:
        for key in node:
            if key not in allowed:
                self.problem(
                    self.loc(node, key, field), f"unknown {what} key {key!r} (allowed: {', '.join(allowed)})"
                )

    # --- rules -------------------------------------------------------------------------------------

    def rule(self, node: Any, loc: Loc) -> Rule | None:
        if isinstance(node, str):
            return self._column_rule(node, loc)
        if not isinstance(node, dict):
            self.problem(
                loc,
                f"a rule is a source field name or a mapping, got {node!r}; for a constant write {{value: ...}}",
            )
            return None
        self.unknown_keys(node, PRODUCERS + MODIFIERS, loc.field, "rule")
        producers = [key for key in PRODUCERS if key in node]
        if len(producers) != 1:
            found = ", ".join(producers) or "none"
            self.problem(loc, f"a rule needs exactly one of {', '.join(PRODUCERS)} (found: {found})")
            return None
        kind = producers[0]
        here = self.loc(node, kind, loc.field)
        producer = self.producer(kind, node, here)
        if producer is None:
            return None
        if "else" in node and kind != "when":
            self.problem(self.loc(node, "else", loc.field), "'else' belongs to a 'when' rule")
        if "separator" in node and kind != "concat":
            self.problem(
                self.loc(node, "separator", loc.field), "'separator' belongs to 'concat' (or inside 'split')"
            )
        return Rule(
            producer=producer,
            loc=Loc(self.path, marked_yaml.line_of(node), loc.field),
            conversion=self.conversion(node, loc.field),
            trim=self.flag(node, "trim", loc.field),
            case=self.choice(node, "case", (None, "upper", "lower"), loc.field),
            value_map=self.value_map(node, loc.field),
            map_missing=self.choice(node, "map_missing", ("error", "keep", "null"), loc.field) or "error",
            default=self.literal(node.get("default")),
            negate=self.flag(node, "negate", loc.field),
            max_length=self.positive(node, "max_length", loc.field),
            on_overflow=self.choice(node, "on_overflow", ("error", "truncate"), loc.field) or "error",
            required=self.flag(node, "required", loc.field),
        )

    def _column_rule(self, name: str, loc: Loc) -> Rule | None:
        if not _FIELD.match(name):
            self.problem(loc, f"{name!r} is not a field name")
            return None
        return Rule(Column(name, loc), loc)

    def items(self, node: Any, loc: Loc, what: str) -> tuple[Rule, ...]:
        if not isinstance(node, list) or not node:
            self.problem(loc, f"'{what}' takes a non-empty list of fields or rules")
            return ()
        rules = [self.rule(item, self.loc(node, index, loc.field)) for index, item in enumerate(node)]
        return tuple(rule for rule in rules if rule is not None)

    def producer(self, kind: str, node: dict[str, Any], loc: Loc) -> Any:
        value = node[kind]
        if kind == "from":
            rule = self._column_rule(value, loc) if isinstance(value, str) else None
            if rule is None and not isinstance(value, str):
                self.problem(loc, "'from' names one source field")
            return rule.producer if rule else None
        if kind == "value":
            return Const(self.literal(value), loc)
        if kind == "concat":
            separator = node.get("separator", " ")
            if not isinstance(separator, str):
                self.problem(self.loc(node, "separator", loc.field), "'separator' is a string")
                separator = " "
            return Concat(self.items(value, loc, "concat"), separator, loc)
        if kind == "coalesce":
            return Coalesce(self.items(value, loc, "coalesce"), loc)
        if kind == "split":
            return self.split(value, loc)
        if kind == "lookup":
            return self.lookup(value, loc)
        if kind == "when":
            return self.when(value, node.get("else"), self.loc(node, "else", loc.field), loc)
        if not isinstance(value, str) or not value:
            self.problem(loc, "'error' is the message the row is rejected with")
            return None
        return Fail(value, loc)

    def split(self, node: Any, loc: Loc) -> Split | None:
        if not isinstance(node, dict):
            self.problem(loc, "'split' takes {from, separator or width, part}")
            return None
        self.unknown_keys(node, ("from", "separator", "width", "part", "max_parts"), loc.field, "split")
        if ("separator" in node) == ("width" in node):
            self.problem(
                loc, "'split' needs exactly one of 'separator' (split on it) or 'width' (wrap lines)"
            )
            return None
        item = self.rule(node.get("from"), self.loc(node, "from", loc.field)) if "from" in node else None
        if item is None:
            if "from" not in node:
                self.problem(loc, "'split' needs 'from'")
            return None
        part = node.get("part", "first")
        if not (part in ("first", "last", "rest") or (isinstance(part, int) and part >= 1)):
            self.problem(
                self.loc(node, "part", loc.field), "'part' is first, last, rest or a position from 1"
            )
            return None
        if part == "rest" and "width" in node:
            self.problem(self.loc(node, "part", loc.field), "'rest' needs a separator")
        separator = node.get("separator")
        if separator is not None and (not isinstance(separator, str) or not separator):
            self.problem(self.loc(node, "separator", loc.field), "'separator' is a non-empty string")
        return Split(
            item,
            separator,
            self.positive(node, "width", loc.field),
            part,
            self.positive(node, "max_parts", loc.field),
            loc,
        )

    def lookup(self, node: Any, loc: Loc) -> LookupRef | None:
        if not isinstance(node, dict) or "table" not in node or "from" not in node:
            self.problem(loc, "'lookup' takes {table: NAME, from: FIELD}")
            return None
        self.unknown_keys(node, ("table", "from", "on_missing"), loc.field, "lookup")
        item = self.rule(node["from"], self.loc(node, "from", loc.field))
        on_missing = self.choice(node, "on_missing", ("error", "null"), loc.field) or "error"
        return LookupRef(str(node["table"]), item, on_missing, loc) if item else None

    def when(self, node: Any, otherwise: Any, else_loc: Loc, loc: Loc) -> When | None:
        if not isinstance(node, list) or not node:
            self.problem(loc, "'when' takes a list of {if: CONDITION, then: RULE}")
            return None
        branches = []
        for index, branch in enumerate(node):
            here = self.loc(node, index, loc.field)
            if not isinstance(branch, dict) or set(branch) != {"if", "then"}:
                self.problem(here, "each 'when' branch is {if: CONDITION, then: RULE}")
                continue
            condition = self.condition(branch["if"], self.loc(branch, "if", loc.field))
            then = self.rule(branch["then"], self.loc(branch, "then", loc.field))
            if condition is not None and then is not None:
                branches.append((condition, then))
        fallback = self.rule(otherwise, else_loc) if otherwise is not None else None
        return When(tuple(branches), fallback, loc)

    def condition(self, node: Any, loc: Loc) -> Condition | None:
        if not isinstance(node, dict):
            self.problem(loc, "a condition is a mapping such as {field: X, equals: Y}")
            return None
        for combinator, cls in (("all", AllOf), ("any", AnyOf)):
            if combinator in node:
                parts = node[combinator]
                if len(node) != 1 or not isinstance(parts, list) or not parts:
                    self.problem(loc, f"'{combinator}' takes a non-empty list of conditions and nothing else")
                    return None
                conditions = [
                    self.condition(part, self.loc(parts, i, loc.field)) for i, part in enumerate(parts)
                ]
                return cls(tuple(c for c in conditions if c is not None), loc)
        if "not" in node:
            inner = self.condition(node["not"], self.loc(node, "not", loc.field))
            return Not(inner, loc) if inner else None
        self.unknown_keys(node, ("field", *COMPARISONS), loc.field, "condition")
        ops = [op for op in COMPARISONS if op in node]
        if "field" not in node or len(ops) != 1:
            self.problem(
                loc, f"a condition is {{field: X, OP: VALUE}} with one OP of {', '.join(COMPARISONS)}"
            )
            return None
        item = self.rule(node["field"], self.loc(node, "field", loc.field))
        op, value = ops[0], node[ops[0]]
        if op in ("in", "not_in") and (not isinstance(value, list) or not value):
            self.problem(self.loc(node, op, loc.field), f"'{op}' takes a non-empty list")
            return None
        if op == "is_null" and not isinstance(value, bool):
            self.problem(self.loc(node, op, loc.field), "'is_null' takes true or false")
            return None
        if op == "matches":
            try:
                re.compile(str(value))
            except re.error as exc:
                self.problem(
                    self.loc(node, op, loc.field), f"'matches' is not a valid regular expression: {exc}"
                )
                return None
        literal = [self.literal(v) for v in value] if isinstance(value, list) else self.literal(value)
        return Compare(item, op, literal, loc) if item else None

    # --- modifiers ---------------------------------------------------------------------------------

    def conversion(self, node: dict[str, Any], field: str) -> Conversion | None:
        extras = [key for key in ("format", "timezone", "scale", "round") if key in node]
        if "type" not in node:
            for key in extras:
                self.problem(self.loc(node, key, field), f"'{key}' only applies together with 'type'")
            return None
        to = node["type"]
        if to not in CONVERSIONS:
            self.problem(
                self.loc(node, "type", field), f"'type' is one of {', '.join(CONVERSIONS)}, got {to!r}"
            )
            return None
        fmt = node.get("format")
        if fmt is not None and (not isinstance(fmt, str) or "%" not in fmt):
            self.problem(self.loc(node, "format", field), "'format' is a strftime pattern such as %Y%m%d")
            fmt = None
        timezone = node.get("timezone")
        if timezone is not None:
            try:
                from zoneinfo import ZoneInfo

                ZoneInfo(str(timezone))
            except (KeyError, ValueError, OSError):
                self.problem(self.loc(node, "timezone", field), f"unknown time zone {timezone!r}")
                timezone = None
            if to != TIMESTAMP:
                self.problem(self.loc(node, "timezone", field), "'timezone' applies to type: timestamp")
        scale = node.get("scale", 2)
        if not isinstance(scale, int) or not 0 <= scale <= 10:
            self.problem(self.loc(node, "scale", field), "'scale' is a number of decimal places, 0 to 10")
            scale = 2
        return Conversion(to, fmt, timezone, scale, self.flag(node, "round", field))

    def value_map(self, node: dict[str, Any], field: str) -> tuple[tuple[object, object], ...] | None:
        if "map" not in node:
            return None
        mapping = node["map"]
        if not isinstance(mapping, dict) or not mapping:
            self.problem(self.loc(node, "map", field), "'map' is a mapping of source value to target value")
            return None
        return tuple((self.literal(k), self.literal(v)) for k, v in mapping.items())

    def literal(self, value: Any) -> Any:
        """``marked_yaml`` reads YAML floats as Decimals from their text; what is left (.inf) goes the same way."""
        if isinstance(value, float):
            return Decimal(str(value))
        if isinstance(value, (list, dict)):
            return value
        return value

    def flag(self, node: dict[str, Any], key: str, field: str) -> bool:
        value = node.get(key, False)
        if not isinstance(value, bool):
            self.problem(self.loc(node, key, field), f"'{key}' is true or false")
            return False
        return value

    def choice(
        self, node: dict[str, Any], key: str, allowed: tuple[str | None, ...], field: str
    ) -> str | None:
        if key not in node:
            return None
        value = node[key]
        if value is None and "null" in allowed:
            return "null"  # YAML reads a bare `null` as None
        if value not in allowed:
            options = ", ".join(a for a in allowed if a)
            self.problem(self.loc(node, key, field), f"'{key}' is one of {options}, got {value!r}")
            return None
        chosen: str | None = value
        return chosen

    def positive(self, node: dict[str, Any], key: str, field: str) -> int | None:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.problem(self.loc(node, key, field), f"'{key}' is a positive whole number")
            return None
        return value

    # --- spec-level sections -----------------------------------------------------------------------

    def target(self, doc: dict[str, Any]) -> Target | None:
        node = doc.get("target")
        loc = self.loc(doc, "target", "target")
        kinds = [key for key in node if key in _TARGET_KINDS] if isinstance(node, dict) else []
        if not isinstance(node, dict) or len(kinds) != 1 or not set(node) <= {*kinds, "update"}:
            self.problem(
                loc,
                "'target' is one of {core: ENTITY}, {m3: PROGRAM/TRANSACTION}, {freshbooks: RESOURCE}, "
                "with `update: true` for a body that changes some fields of an existing record",
            )
            return None
        kind = kinds[0]
        update = self.flag(node, "update", "target")
        return Target(kind, str(node[kind]), loc, update=bool(update))

    def lookup_tables(self, doc: dict[str, Any]) -> dict[str, LookupTable]:
        section = doc.get("lookups", {})
        tables: dict[str, LookupTable] = {}
        if not isinstance(section, dict):
            self.problem(self.loc(doc, "lookups", "lookups"), "'lookups' maps names to {csv, key, value}")
            return tables
        for name, node in section.items():
            loc = self.loc(section, name, f"lookups.{name}")
            if not isinstance(name, str) or not _NAME.match(name):
                self.problem(loc, f"lookup name {name!r} must be lower_snake_case")
                continue
            if not isinstance(node, dict) or not {"csv", "key", "value"} <= set(node):
                self.problem(loc, "a lookup is {csv: FILE, key: COLUMN, value: COLUMN[, ignore_case: true]}")
                continue
            self.unknown_keys(node, ("csv", "key", "value", "ignore_case"), loc.field, "lookup")
            path = (self.path.parent / str(node["csv"])).resolve()
            ignore_case = self.flag(node, "ignore_case", loc.field)
            rows = self.read_lookup(path, str(node["key"]), str(node["value"]), ignore_case, loc)
            if rows is not None:
                tables[name] = LookupTable(
                    name, path, str(node["key"]), str(node["value"]), ignore_case, rows, loc
                )
        return tables

    def read_lookup(
        self, path: Path, key: str, value: str, ignore_case: bool, loc: Loc
    ) -> dict[str, str] | None:
        header, rows = self.read_csv(path, loc)
        if header is None:
            return None
        missing = [c for c in (key, value) if c not in header]
        if missing:
            self.problem(
                loc, f"{path.name} has no column {', '.join(missing)} (columns: {', '.join(header)})"
            )
            return None
        table: dict[str, str] = {}
        for line, row in rows:
            k = (row[key] or "").strip()
            k = k.lower() if ignore_case else k
            if k in table:
                self.problem(Loc(path, line, loc.field), f"key {row[key]!r} appears twice in {path.name}")
            table[k] = (row[value] or "").strip()
        return table

    def read_csv(self, path: Path, loc: Loc) -> tuple[list[str] | None, list[tuple[int, dict[str, str]]]]:
        if not path.is_file():
            self.problem(loc, f"lookup file {path} does not exist")
            return None, []
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = [(reader.line_num, row) for row in reader]
            return list(reader.fieldnames or []), rows

    def enrichments(self, doc: dict[str, Any]) -> dict[str, Enrichment]:
        section = doc.get("enrich", {})
        result: dict[str, Enrichment] = {}
        if not isinstance(section, dict):
            self.problem(
                self.loc(doc, "enrich", "enrich"), "'enrich' maps aliases to {csv or table, key, from}"
            )
            return result
        for alias, node in section.items():
            loc = self.loc(section, alias, f"enrich.{alias}")
            if (
                not isinstance(node, dict)
                or "key" not in node
                or "from" not in node
                or ("csv" in node) == ("table" in node)
            ):
                self.problem(
                    loc, "an enrichment is {csv: FILE or table: SCHEMA.TABLE, key: COLUMN, from: FIELD}"
                )
                continue
            self.unknown_keys(node, ("csv", "table", "key", "from", "ignore_case"), loc.field, "enrichment")
            if not _NAME.match(str(alias)):
                self.problem(loc, f"enrichment alias {alias!r} must be lower_snake_case")
                continue
            keys = node["key"] if isinstance(node["key"], list) else [node["key"]]
            ons = node["from"] if isinstance(node["from"], list) else [node["from"]]
            if len(keys) != len(ons) or not all(isinstance(k, str) for k in keys):
                self.problem(loc, "'key' and 'from' list the same number of columns, in the same order")
                continue
            on_rules = [self.rule(o, self.loc(node, "from", loc.field)) for o in ons]
            csv_path: Path | None = None
            table: str | None = None
            columns: tuple[str, ...] = ()
            if "csv" in node:
                csv_path = (self.path.parent / str(node["csv"])).resolve()
                header, rows = self.read_csv(csv_path, loc)
                if header is None:
                    continue
                absent = [k for k in keys if k not in header]
                if absent:
                    self.problem(loc, f"{csv_path.name} has no key column {', '.join(absent)}")
                    continue
                seen: set[tuple[str, ...]] = set()
                for line, row in rows:
                    value = tuple((row[k] or "").strip().lower() for k in keys)
                    if value in seen:
                        self.problem(
                            Loc(csv_path, line, loc.field), f"key {', '.join(value)!r} appears twice"
                        )
                    seen.add(value)
                columns = tuple(header)
            else:
                table = str(node["table"])
                if not _WAREHOUSE_TABLE.match(table):
                    self.problem(loc, f"enrichment table {table!r} must be SCHEMA.TABLE in lower_snake_case")
                    continue
            if all(r is not None for r in on_rules):
                result[alias] = Enrichment(
                    alias,
                    tuple(r for r in on_rules if r is not None),
                    tuple(keys),
                    csv_path,
                    table,
                    columns,
                    self.flag(node, "ignore_case", loc.field),
                    loc,
                )
        return result

    def spec(self, doc: Any) -> Spec | None:
        if not isinstance(doc, dict):
            self.problem(Loc(self.path, 1), "a mapping spec is a YAML mapping with source, target and fields")
            return None
        self.unknown_keys(doc, TOP_LEVEL, "", "spec")
        version = doc.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.problem(
                self.loc(doc, "version" if "version" in doc else None, "version"),
                "'version' (the spec's revision, 1, 2, ...) is required",
            )
            version = 0
        source = doc.get("source")
        if not isinstance(source, str) or not re.match(r"^(staging|core)\.[a-z][a-z0-9_]*$", source):
            self.problem(
                self.loc(doc, "source", "source"),
                "'source' is a table such as staging.freshbooks_clients or core.customers",
            )
            source = ""
        target = self.target(doc)
        fields_node = doc.get("fields")
        if not isinstance(fields_node, dict) or not fields_node:
            self.problem(
                self.loc(doc, "fields" if "fields" in doc else None, "fields"),
                "'fields' maps each target field to a rule",
            )
            fields_node = {}
        rules: dict[str, Rule] = {}
        for name, node in fields_node.items():
            rule = self.rule(node, self.loc(fields_node, name, str(name)))
            if rule is not None:
                rules[str(name)] = rule
        filter_node = doc.get("filter")
        condition = (
            self.condition(filter_node, self.loc(doc, "filter", "filter"))
            if filter_node is not None
            else None
        )
        spec = Spec(
            path=self.path,
            name=str(doc.get("name") or self.path.stem),
            version=version,
            description=str(doc.get("description", "")),
            source=source,
            source_loc=self.loc(doc, "source", "source"),
            target=target or Target("core", "", self.loc(doc)),
            key=str(doc.get("key") or ("source_id" if source.startswith(f"{CORE}.") else "id")),
            include_deleted=self.flag(doc, "include_deleted", "include_deleted"),
            filter=condition,
            lookups=self.lookup_tables(doc),
            enrichments=self.enrichments(doc),
            fields=rules,
            fields_loc=self.loc(doc, "fields", "fields"),
        )
        return spec


def parse_spec(path: Path, text: str | None = None) -> tuple[Spec | None, list[Problem]]:
    """The spec in ``path`` and the structural problems found in it."""
    reader = _Reader(path)
    try:
        doc = marked_yaml.load(path.read_text(encoding="utf-8") if text is None else text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        started = f" (in what starts on line {exc.context_mark.line + 1})" if exc.context_mark else ""
        return None, [Problem(Loc(path, line), f"not valid YAML: {exc.problem or exc}{started}")]
    except OSError as exc:
        return None, [Problem(Loc(path, 0), f"cannot read: {exc.strerror}")]
    spec = reader.spec(doc)
    return spec, reader.problems


def load_spec(path: Path) -> Spec:
    """Parse one spec or raise ``SpecError`` naming every problem's file, line and field."""
    spec, problems = parse_spec(path)
    if problems or spec is None:
        raise SpecError(problems)
    return spec


__all__ = ["load_spec", "parse_spec"]
