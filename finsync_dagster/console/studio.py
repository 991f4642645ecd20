"""The mapping studio's model: a form of one rule per target field <-> a YAML mapping spec.

The YAML file stays the source of truth. Specs are saved in the team's own folder (``mapping.specs_dir``
in finsync.yaml) when there is one: a shipped spec edited in the studio is saved there under its name and
replaces the shipped one, so the change survives an upgrade of finsync; without that folder the studio
writes where it reads (``finsync console --specs``). The studio builds a spec document from the form (a source field,
a constant, a concatenation, a split, a lookup, a condition, or any rule written as YAML), checks it with
the same parser and checker as ``finsync mapping check`` (``mapping.loader.parse_spec``,
``mapping.validate.check_spec``, ``mapping.engine.check_data`` on staged rows), and only then writes it.
An existing spec opens in the studio too: a rule the form has no shape for is shown as its YAML.
Comments in a file the studio rewrites are not kept; the studio says so before saving.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import yaml

from finsync_dagster.contracts.fields import NUMBER, TEXT, TableSchema
from finsync_dagster.mapping.engine import check_data
from finsync_dagster.mapping.loader import COMPARISONS, parse_spec
from finsync_dagster.mapping.registry import parse_all, spec_files
from finsync_dagster.mapping.spec import Problem, Spec
from finsync_dagster.mapping.suggest import score, suggest
from finsync_dagster.mapping.validate import check_spec

KINDS = {
    "": "(not mapped)",
    "from": "source field",
    "value": "constant",
    "concat": "concatenation",
    "split": "split",
    "lookup": "lookup",
    "when": "condition",
    "yaml": "rule in YAML",
}
OPERATORS = COMPARISONS
_RULE_INPUTS = (
    "from", "value", "concat", "separator", "split_from", "split_separator", "split_part", "lookup",
    "lookup_from", "when_field", "when_op", "when_value", "when_then", "when_else", "yaml",
)  # fmt: skip
_TOKENS = re.compile(r'\s*(?:"([^"]*)"|([^,]+?))\s*(?:,|$)')
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_EXTRA_KEYS = ("lookups", "enrich", "key", "include_deleted", "filter")
TOP = ""  # problems about the spec as a whole


@dataclass
class FieldRule:
    kind: str = ""
    values: dict[str, str] = field(default_factory=dict)
    truncate: bool = False

    def get(self, name: str) -> str:
        return self.values.get(name, "")


@dataclass(frozen=True)
class Roots:
    """Where specs are read from (the shipped folder, then the team's own) and where they are saved."""

    shipped: Path
    own: Path | None

    @property
    def save(self) -> Path:
        return self.own or self.shipped

    def of(self, path: Path) -> tuple[str, Path]:
        """("own" or "shipped", the path relative to that root) of a spec file."""
        if self.own is not None and path.resolve().is_relative_to(self.own.resolve()):
            return "own", path.resolve().relative_to(self.own.resolve())
        return "shipped", path.resolve().relative_to(self.shipped.resolve())

    def root(self, origin: str) -> Path:
        return self.own if origin == "own" and self.own is not None else self.shipped


@dataclass
class StudioState:
    name: str
    source: str
    target: str
    pair: str | None = None
    description: str = ""
    version: int = 0  # of the file being edited; 0 for a new spec
    path: str | None = None  # of an existing spec, relative to its root (``origin``)
    origin: str = "own"  # "own" (the team's folder, or the only one) or "shipped"
    filter_field: str = ""
    filter_op: str = "equals"
    filter_value: str = ""
    extra: str = ""  # other top-level settings (lookups, enrich, key, include_deleted), as YAML
    fields: dict[str, FieldRule] = field(default_factory=dict)


@dataclass(frozen=True)
class KnownLookup:
    """A lookup table some shipped spec declares, offered by name."""

    name: str
    csv: Path
    key: str
    value: str
    ignore_case: bool

    def label(self) -> str:
        return f"{self.name} ({self.csv.name}: {self.key} → {self.value})"


def known_lookups(roots: Roots) -> dict[str, KnownLookup]:
    specs, _ = parse_all(roots.shipped, roots.own)
    found: dict[str, KnownLookup] = {}
    for spec in specs:
        for name, table in spec.lookups.items():
            found.setdefault(name, KnownLookup(name, table.path, table.key, table.value, table.ignore_case))
    return dict(sorted(found.items()))


def folder_for(source: str, target: dict[str, str]) -> str:
    """Where a new spec goes, by direction, as ``specs/README.md`` lays the folders out."""
    kind = next(iter(target))
    if kind == "m3":
        return "core_to_m3"
    if kind == "freshbooks":
        return "core_to_freshbooks"
    if source.startswith("staging.freshbooks_"):
        return "freshbooks_to_core"
    if source.startswith("staging.infor_"):
        return "infor_to_core"
    return "custom"


class PathError(ValueError):
    """A spec path from the form that would leave the specs folder."""


def spec_path(roots: Roots, state: StudioState, target: dict[str, str]) -> Path:
    """Where saving ``state`` writes: its own file, or the same place in the team's folder (a shipped
    spec is never overwritten when the team has a folder), or a new file by direction."""
    relative = (
        Path(state.path) if state.path else Path(folder_for(state.source, target)) / f"{state.name}.yaml"
    )
    path = (roots.save / relative).resolve()
    if not path.is_relative_to(roots.save.resolve()) or path.suffix != ".yaml":
        raise PathError(f"{state.path!r} is not a spec file in {roots.save}")
    return path


def origin_path(roots: Roots, state: StudioState) -> Path | None:
    """The file the state was opened from, if any (checked to stay in its folder)."""
    if not state.path:
        return None
    root = roots.root(state.origin)
    path = (root / state.path).resolve()
    if not path.is_relative_to(root.resolve()):
        raise PathError(f"{state.path!r} is not a spec file in {root}")
    return path


# -- form <-> state -----------------------------------------------------------------------------------


def state_from_form(form: Mapping[str, Any], target: TableSchema) -> StudioState:
    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    version = text("version")
    state = StudioState(
        name=text("name"),
        source=text("source"),
        target=text("target"),
        pair=text("pair") or None,
        description=text("description"),
        version=int(version) if version.isdigit() else 0,
        path=text("path") or None,
        origin="shipped" if text("origin") == "shipped" else "own",
        filter_field=text("filter_field"),
        filter_op=text("filter_op") or "equals",
        filter_value=text("filter_value"),
        extra=str(form.get("extra") or ""),
    )
    for name in target.names:
        kind = text(f"kind.{name}")
        if kind not in KINDS:
            kind = ""
        values = {k: str(form.get(f"{k}.{name}") or "") for k in _RULE_INPUTS}
        state.fields[name] = FieldRule(kind, values, form.get(f"truncate.{name}") in ("on", "true", "1"))
    return state


def suggested_state(
    name: str, source_table: str, target_text: str, pair: str | None, source: TableSchema, target: TableSchema,
    profiles: Mapping[str, Any] | None,
) -> StudioState:  # fmt: skip
    """A new spec with every field ``suggest`` fits mapped from its best source field."""
    state = StudioState(name=name, source=source_table, target=target_text, pair=pair)
    chosen = {s.target: s.source for s in suggest(source, target, dict(profiles or {}))}
    for field_name in target.names:
        if field_name in chosen:
            state.fields[field_name] = FieldRule("from", {"from": chosen[field_name]})
        else:
            state.fields[field_name] = FieldRule()
    return state


def ranked_sources(source: TableSchema, target: TableSchema) -> dict[str, list[tuple[str, float, str]]]:
    """Per target field, every source field with its score and reason, best first."""
    ranked: dict[str, list[tuple[str, float, str]]] = {}
    columns = [f for f in source.fields.values() if not f.name.startswith("_")]
    for position, target_field in enumerate(target.fields.values()):
        scored = []
        for column in columns:
            value, reasons = score(target_field, column, None, position)
            scored.append((column.name, round(value, 2), "; ".join(reasons)))
        scored.sort(key=lambda s: (-s[1], s[0]))
        ranked[target_field.name] = scored
    return ranked


def state_from_spec(spec: Spec, roots: Roots, pair: str | None) -> StudioState:
    """An existing spec in the studio's form; rules without a form shape are kept as YAML."""
    origin, relative = roots.of(spec.path)
    doc = yaml.safe_load(spec.path.read_text(encoding="utf-8")) or {}
    target = doc.get("target") or {}
    kind, name = next(iter(target.items())) if isinstance(target, dict) and target else ("core", "")
    state = StudioState(
        name=spec.name,
        source=spec.source,
        target=name if kind == "m3" else f"{kind}.{name}",
        pair=pair,
        description=str(doc.get("description") or ""),
        version=spec.version,
        path=str(relative),
        origin=origin,
    )
    extra = {k: doc[k] for k in _EXTRA_KEYS if k in doc}
    condition = extra.get("filter")
    if isinstance(condition, dict) and "field" in condition and len(condition) == 2:
        op = next(k for k in condition if k != "field")
        if op in OPERATORS and not isinstance(condition[op], (dict, list)):
            state.filter_field, state.filter_op = str(condition["field"]), op
            state.filter_value = "" if condition[op] is True and op == "is_null" else str(condition[op])
            extra.pop("filter")
    state.extra = yaml.safe_dump(extra, sort_keys=False, allow_unicode=True) if extra else ""
    for field_name, rule in (doc.get("fields") or {}).items():
        state.fields[str(field_name)] = _rule_state(rule)
    return state


def _rule_state(rule: Any) -> FieldRule:
    if isinstance(rule, str):
        return FieldRule("from", {"from": rule})
    if isinstance(rule, dict):
        keys = set(rule)
        if (
            keys <= {"from", "on_overflow"}
            and "from" in keys
            and rule.get("on_overflow", "truncate") == "truncate"
        ):
            return FieldRule("from", {"from": str(rule["from"])}, truncate="on_overflow" in keys)
        if keys == {"value"} and not isinstance(rule["value"], (dict, list)):
            return FieldRule("value", {"value": "" if rule["value"] is None else str(rule["value"])})
    flow = yaml.safe_dump(rule, default_flow_style=True, sort_keys=False, allow_unicode=True, width=10_000)
    return FieldRule("yaml", {"yaml": flow.strip()})


# -- state -> document --------------------------------------------------------------------------------


def _tokens(text: str) -> list[str | dict[str, Any]]:
    items: list[str | dict[str, Any]] = []
    for quoted, bare in _TOKENS.findall(text):
        if quoted or (bare == "" and text.strip().startswith('"')):
            items.append({"value": quoted})
        elif bare.strip():
            items.append(bare.strip())
    return items


def _token(text: str) -> str | dict[str, Any] | None:
    found = _tokens(text)
    return found[0] if len(found) == 1 else None


def _literal(text: str, family: str | None) -> Any:
    """A constant typed for the field it is compared with or fills: text stays text."""
    if family in (TEXT, NUMBER, None):
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool, str)) or value is None else text


def _condition(field_name: str, op: str, value: str, source: TableSchema) -> dict[str, Any]:
    column = source.get(field_name)
    family = column.family if column else None
    if op == "is_null":
        return {"field": field_name, "is_null": value.strip().lower() not in ("false", "no", "0")}
    if op in ("in", "not_in"):
        return {"field": field_name, op: [_literal(v.strip(), family) for v in value.split(",") if v.strip()]}
    return {"field": field_name, op: _literal(value, family)}


def _rule(
    rule: FieldRule, target_family: str, source: TableSchema, problems: dict[str, list[str]], name: str
) -> Any:
    def fail(message: str) -> None:
        problems.setdefault(name, []).append(message)

    kind = rule.kind
    built: Any
    if kind == "from":
        if not rule.get("from"):
            fail("choose the source field")
            return None
        built = rule.get("from")
    elif kind == "value":
        built = {"value": _literal(rule.get("value"), target_family)}
    elif kind == "concat":
        items = _tokens(rule.get("concat"))
        if not items:
            fail(
                'list the fields to join, separated by commas; a constant goes in double quotes, e.g. "FB", id'
            )
            return None
        built = {"concat": items, "separator": rule.values.get("separator", " ")}
    elif kind == "split":
        part_text = rule.get("split_part") or "first"
        part: Any = int(part_text) if part_text.isdigit() else part_text
        if not rule.get("split_from"):
            fail("choose the field to split")
            return None
        built = {
            "split": {
                "from": rule.get("split_from"),
                "separator": rule.values.get("split_separator") or " ",
                "part": part,
            }
        }
    elif kind == "lookup":
        if not rule.get("lookup") or not rule.get("lookup_from"):
            fail("choose the lookup table and the field whose value is looked up")
            return None
        built = {"lookup": {"table": rule.get("lookup"), "from": rule.get("lookup_from")}}
    elif kind == "when":
        then = _token(rule.get("when_then"))
        if not rule.get("when_field") or then is None:
            fail(
                'a condition needs a field to test and what to give when it holds (a field, or "a constant")'
            )
            return None
        built = {
            "when": [
                {"if": _condition(rule.get("when_field"), rule.get("when_op") or "equals", rule.get("when_value"), source),
                 "then": then}
            ]
        }  # fmt: skip
        otherwise = _token(rule.get("when_else"))
        if otherwise is not None:
            built["else"] = otherwise
    elif kind == "yaml":
        try:
            built = yaml.safe_load(rule.get("yaml"))
        except yaml.YAMLError as exc:
            fail(f"not valid YAML: {exc}")
            return None
        if not isinstance(built, (str, dict)):
            fail("a rule is a source field name or a mapping such as {from: x, trim: true}")
            return None
    else:
        return None
    if rule.truncate:
        built = {"from": built} if isinstance(built, str) else dict(built)
        built["on_overflow"] = "truncate"
    return built


def _repoint(section: Any, came_from: Path | None, folder: Path) -> Any:
    """CSV paths of ``lookups``/``enrich`` entries, relative to the file the spec was opened from, made
    relative to the folder it is saved in (a shipped spec saved into the team's folder)."""
    if came_from is None or came_from == folder or not isinstance(section, dict):
        return section
    moved = {}
    for name, entry in section.items():
        if isinstance(entry, dict) and isinstance(entry.get("csv"), str):
            entry = {**entry, "csv": os.path.relpath((came_from / entry["csv"]).resolve(), folder)}
        moved[name] = entry
    return moved


def document(
    state: StudioState,
    target_ref: dict[str, str],
    target: TableSchema,
    source: TableSchema,
    lookups: Mapping[str, KnownLookup],
    folder: Path,
    came_from: Path | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The spec document the state stands for, and the problems only the form can see, by field.

    ``folder``: where it will be saved; ``came_from``: the folder of the file it was opened from."""
    problems: dict[str, list[str]] = {}
    if not _NAME.match(state.name):
        problems.setdefault(TOP, []).append("the spec's name is lower_snake_case, e.g. m3_customer_add_eu")
    doc: dict[str, Any] = {"name": state.name, "version": max(state.version, 1)}
    if state.description:
        doc["description"] = state.description
    doc["source"] = state.source
    doc["target"] = target_ref
    extra: Any = {}
    if state.extra.strip():
        try:
            extra = yaml.safe_load(state.extra) or {}
        except yaml.YAMLError as exc:
            problems.setdefault(TOP, []).append(f"other settings: not valid YAML ({exc})")
            extra = {}
        if not isinstance(extra, dict) or set(extra) - set(_EXTRA_KEYS):
            problems.setdefault(TOP, []).append(f"other settings may hold {', '.join(_EXTRA_KEYS)} only")
            extra = {}
    for key in ("key", "include_deleted", "enrich"):
        if key in extra:
            doc[key] = _repoint(extra[key], came_from, folder) if key == "enrich" else extra[key]
    if state.filter_field:
        doc["filter"] = _condition(state.filter_field, state.filter_op, state.filter_value, source)
    elif "filter" in extra:
        doc["filter"] = extra["filter"]
    declared = dict(_repoint(extra.get("lookups") or {}, came_from, folder))
    fields: dict[str, Any] = {}
    for name in target.names:
        rule = state.fields.get(name)
        if rule is None or not rule.kind:
            continue
        target_field = target.fields[name]
        built = _rule(rule, target_field.family, source, problems, name)
        if built is None:
            continue
        fields[name] = built
        if rule.kind == "lookup" and rule.get("lookup") not in declared:
            known = lookups.get(rule.get("lookup"))
            if known is None:
                problems.setdefault(name, []).append(f"no lookup table named {rule.get('lookup')!r}")
            else:
                entry: dict[str, Any] = {
                    "csv": os.path.relpath(known.csv, folder),
                    "key": known.key,
                    "value": known.value,
                }
                if known.ignore_case:
                    entry["ignore_case"] = True
                declared[known.name] = entry
    if declared:
        doc["lookups"] = declared
    doc["fields"] = fields
    if not fields:
        problems.setdefault(TOP, []).append("map at least one target field")
    return doc, problems


def yaml_text(doc: dict[str, Any], *, author: str | None = None) -> str:
    header = "# Written by the finsync console's mapping studio" + (f" ({author})" if author else "") + ".\n"
    return header + yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True, default_flow_style=None, width=110
    )


# -- checking and saving ------------------------------------------------------------------------------


def check(
    path: Path, text: str, con: duckdb.DuckDBPyConnection | None, fields: list[str]
) -> tuple[Spec | None, dict[str, list[str]]]:
    """``finsync mapping check`` on one spec: its structure, then fields and types (and lookup keys
    against the staged rows, when there are some). Problems by target field, ``TOP`` for the rest."""
    spec, found = parse_spec(path, text)
    if spec is not None and not found:
        found = check_data(spec, con) if con is not None and _has(con, spec.source) else check_spec(spec)
    return (spec if not found else None), by_field(found, fields)


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, _, name = table.partition(".")
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def by_field(problems: list[Problem], fields: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        where = problem.loc.field if problem.loc.field in fields else TOP
        grouped.setdefault(where, []).append(
            f"line {problem.loc.line}: {problem.message}" if problem.loc.line else problem.message
        )
    return grouped


def name_taken(roots: Roots, name: str, path: Path, opened: Path | None) -> str | None:
    """Another file already holding a spec of this name, if any (``mapping check`` refuses two in one
    folder). The file being saved and the one it was opened from do not count: a team's spec replaces
    the shipped one of its name, as it should."""
    mine = {path.resolve(), *((opened.resolve(),) if opened else ())}
    for root in (roots.shipped, *((roots.own,) if roots.own else ())):
        for other in spec_files(root):
            if other.resolve() in mine:
                continue
            parsed, _ = parse_spec(other)
            if parsed is not None and parsed.name == name:
                if opened is not None and root == roots.shipped and roots.own is not None:
                    continue  # a shipped spec of the name: the team's replaces it
                return str(other.relative_to(root))
    return None


def next_version(path: Path, opened: Path | None = None) -> int:
    """One more than the version in the file being replaced (or the one opened); 1 for a new spec."""
    for candidate in (path, opened):
        if candidate is not None and candidate.exists():
            spec, _ = parse_spec(candidate)
            return (spec.version if spec is not None else 0) + 1
    return 1


def write(path: Path, text: str) -> None:
    """Atomically: a reader (a run loading the specs) sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def with_version(state: StudioState, version: int) -> StudioState:
    return replace(state, version=version)
