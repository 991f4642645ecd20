"""The mapping-spec model: what one YAML spec says, with the file and line of every part.

A spec maps one source table to one target (a core entity, an M3 transaction's inputs, or a FreshBooks
request body). Each target field has a *rule*: one producer (``from``, ``value``, ``concat``, ``split``,
``coalesce``, ``lookup``, ``when``) followed by modifiers applied in a fixed order: type conversion,
trim, case, value map, default, length limit, required. See ``specs/README.md`` for the analyst's view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from finsync_dagster.errors import MappingError


@dataclass(frozen=True)
class Loc:
    """Where something was written: the spec file, the line, and the target field it belongs to."""

    file: Path
    line: int
    field: str = ""

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}"
        return f"{where}, field {self.field!r}" if self.field else where


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}"


class SpecError(MappingError):
    """One or more problems in mapping specs, each naming the file, the line and the field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in mapping specs:"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


# --- producers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    loc: Loc

    @property
    def alias(self) -> str | None:
        """``crm.segment`` reads column ``segment`` of enrichment ``crm``."""
        return self.name.partition(".")[0] if "." in self.name else None


@dataclass(frozen=True)
class Const:
    value: object
    loc: Loc


@dataclass(frozen=True)
class Concat:
    items: tuple[Rule, ...]
    separator: str
    loc: Loc


@dataclass(frozen=True)
class Split:
    item: Rule
    separator: str | None
    width: int | None
    part: int | str  # 1-based index, or "first", "last", "rest"
    max_parts: int | None
    loc: Loc


@dataclass(frozen=True)
class Coalesce:
    items: tuple[Rule, ...]
    loc: Loc


@dataclass(frozen=True)
class LookupRef:
    table: str
    item: Rule
    on_missing: str  # "error" or "null"
    loc: Loc


@dataclass(frozen=True)
class Fail:
    """A ``when`` branch that rejects the row with the analyst's own message."""

    message: str
    loc: Loc


@dataclass(frozen=True)
class Compare:
    item: Rule
    op: str
    value: object
    loc: Loc


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]
    loc: Loc


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]
    loc: Loc


@dataclass(frozen=True)
class Not:
    item: Condition
    loc: Loc


Condition = Union[Compare, AllOf, AnyOf, Not]  # noqa: UP007 - a runtime alias used in isinstance


@dataclass(frozen=True)
class When:
    branches: tuple[tuple[Condition, Rule], ...]
    otherwise: Rule | None
    loc: Loc


Producer = Union[Column, Const, Concat, Split, Coalesce, LookupRef, When, Fail]  # noqa: UP007


# --- modifiers and rules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    to: str  # a schemas family
    format: str | None = None  # strptime/strftime pattern for dates and timestamps
    timezone: str | None = None  # the zone a naive timestamp's wall-clock time is in
    scale: int = 2  # decimal places kept for decimals
    round: bool = False  # round extra decimal places instead of rejecting the row


@dataclass(frozen=True)
class Rule:
    producer: Producer
    loc: Loc
    conversion: Conversion | None = None
    trim: bool = False
    case: str | None = None  # "upper" or "lower"
    value_map: tuple[tuple[object, object], ...] | None = None
    map_missing: str = "error"  # "error", "keep" or "null"
    default: object = None
    negate: bool = False  # flip the sign of a number (M3 books payments as credits)
    max_length: int | None = None
    on_overflow: str = "error"  # "error" or "truncate"
    required: bool = False


# --- spec ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LookupTable:
    """A two-column table kept beside the specs (CSV): ``key`` -> ``value``."""

    name: str
    path: Path
    key: str
    value: str
    ignore_case: bool
    rows: dict[str, str]
    loc: Loc


@dataclass(frozen=True)
class Enrichment:
    """A third source joined on a key (one column or several): a CSV beside the specs or a warehouse table."""

    alias: str
    on: tuple[Rule, ...]
    key: tuple[str, ...]
    csv: Path | None
    table: str | None
    columns: tuple[str, ...]
    ignore_case: bool
    loc: Loc


@dataclass(frozen=True)
class Target:
    kind: str  # "core", "m3" or "freshbooks"
    name: str  # entity, PROGRAM/TRANSACTION, or resource
    loc: Loc
    update: bool = False  # an update body: it carries only the fields it changes, none is required

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Spec:
    path: Path
    name: str
    version: int
    description: str
    source: str
    source_loc: Loc
    target: Target
    key: str
    include_deleted: bool
    filter: Condition | None
    lookups: dict[str, LookupTable] = field(default_factory=dict)
    enrichments: dict[str, Enrichment] = field(default_factory=dict)
    fields: dict[str, Rule] = field(default_factory=dict)
    fields_loc: Loc | None = None

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.source} -> {self.target})"
