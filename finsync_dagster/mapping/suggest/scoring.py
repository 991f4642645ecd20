"""Suggest a draft mapping spec from names, descriptions, value profiles and known synonyms.

Offline and without any model: each (target, source) pair is scored on the concepts its words share
(after abbreviations and synonyms are folded), the fuzzy similarity of the expanded texts (rapidfuzz),
the positions in "address 1"/"address 2", whether the source's values look like what the target expects
(e-mail, phone, country or currency codes, dates, numbers) and whether they fit the target's length. Pairs
are then taken greedily, best first, so each source field is suggested once.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from rapidfuzz import fuzz

from finsync_dagster.contracts.fields import (
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    JSON,
    NUMBER,
    TEXT,
    TIMESTAMP,
    Field,
    TableSchema,
)
from finsync_dagster.mapping.suggest import synonyms
from finsync_dagster.mapping.suggest.profile import (
    COUNTRY,
    CURRENCY,
    DATE_TEXT,
    EMAIL,
    NUMERIC,
    PHONE,
    Profile,
)

THRESHOLD = 0.35
_EXPECTS = (
    (("mail",), EMAIL),
    (("telephone", "phone", "facsimile", "fax"), PHONE),
    (("country",), COUNTRY),
    (("currency",), CURRENCY),
    (("date",), DATE_TEXT),
)


@dataclass(frozen=True)
class Suggestion:
    target: str
    source: str
    confidence: float
    reason: str

    def line(self) -> str:
        return f"{self.target:<20} <- {self.source:<24} {self.confidence:4.2f}  {self.reason}"


def _text(field: Field, *, name_counts: bool) -> list[str]:
    tokens = synonyms.words(field.description)
    if name_counts:
        tokens = synonyms.words(field.name, field_name=True) + tokens
    return tokens


def _meaningful_name(name: str) -> bool:
    """M3's four-letter codes (CUNM, PONO) say little; lower-case API names say a lot."""
    return not (len(name) <= 4 and name.isupper())


def _expected(target: Field, tokens: list[str]) -> str | None:
    if target.family in (NUMBER, DECIMAL, INTEGER) or {"amount", "price", "quantity"} & set(tokens):
        return NUMERIC
    for words, kind in _EXPECTS:
        if any(w in tokens for w in words):
            return kind
    return None


def _source_kind(source: Field, profile: Profile | None) -> str | None:
    if source.family in (DATE, TIMESTAMP):
        return DATE_TEXT
    if source.family in (DECIMAL, INTEGER):
        return NUMERIC
    return profile.kind if profile else None


def score(
    target: Field, source: Field, profile: Profile | None = None, position: int = 0
) -> tuple[float, list[str]]:
    """How likely ``source`` fills ``target``, 0..1, with the reasons.

    ``position`` is the target's place in its transaction: MI inputs list the required and common fields
    first, so among equals the earlier field is the likelier one.
    """
    reasons: list[str] = []
    if source.family == JSON or (source.family == BOOLEAN and target.family != BOOLEAN):
        return 0.0, ["type cannot fit"]
    if target.name == source.name:
        return 0.99, ["same field name"]
    target_tokens = _text(target, name_counts=_meaningful_name(target.name))
    source_tokens = _text(source, name_counts=True)
    target_concepts = synonyms.concepts(target_tokens)
    source_concepts = synonyms.concepts(source_tokens)
    shared = sorted(c for c in target_concepts.keys() & source_concepts.keys() if c in synonyms.CONCEPTS)
    value = 0.65 * synonyms.overlap(target_concepts, source_concepts)
    if shared:
        reasons.append("shares " + ", ".join(shared))
    value += 0.2 * fuzz.token_set_ratio(" ".join(target_tokens), " ".join(source_tokens)) / 100
    target_position = synonyms.ordinal(target_tokens)
    if target_position is not None and shared:
        if synonyms.ordinal(source_tokens, implied=True) == target_position:
            value += 0.1
            reasons.append(f"position {target_position}")
        else:
            value -= 0.25
    expected, seen = _expected(target, target_tokens), _source_kind(source, profile)
    if expected and seen:
        if expected == seen:
            value += 0.15
            reasons.append(f"values look like {seen}")
        elif not (expected == NUMERIC and seen == DATE_TEXT and target.family == NUMBER):
            value -= 0.2
            reasons.append(f"values look like {seen}, expected {expected}")
    elif expected == NUMERIC and source.family == TEXT:
        value -= 0.1
    if target.length and profile and profile.max_length and profile.max_length > target.length:
        value -= 0.05
        reasons.append(f"values up to {profile.max_length} chars exceed {target.length}")
    value -= 0.0015 * position
    return max(0.0, min(value, 0.98)), reasons


def suggest(
    source: TableSchema,
    target: TableSchema,
    profiles: dict[str, Profile] | None = None,
    threshold: float = THRESHOLD,
) -> list[Suggestion]:
    """One suggestion per target field that some source field fits, best pairs claimed first."""
    profiles = profiles or {}
    candidates = [
        (value, t.name, s.name, reasons)
        for position, t in enumerate(target.fields.values())
        for s in source.fields.values()
        if not s.name.startswith("_")
        for value, reasons in [score(t, s, profiles.get(s.name), position)]
        if value >= threshold
    ]
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    taken_targets: set[str] = set()
    taken_sources: set[str] = set()
    chosen: dict[str, Suggestion] = {}
    for value, target_name, source_name, reasons in candidates:
        if target_name in taken_targets or source_name in taken_sources:
            continue
        taken_targets.add(target_name)
        taken_sources.add(source_name)
        chosen[target_name] = Suggestion(
            target_name, source_name, round(value, 2), "; ".join(reasons) or "similar names"
        )
    return [chosen[name] for name in target.names if name in chosen]


def draft_spec(
    source_table: str, target: dict[str, str], suggestions: list[Suggestion], required: list[str]
) -> str:
    """A spec an analyst can edit: every suggestion as a field, confidences as comments, gaps listed."""
    lines = [
        "# Draft written by `finsync mapping suggest`: review every line before use.",
        f"name: draft_{source_table.partition('.')[2]}",
        "version: 1",
        f"source: {source_table}",
        f"target: {yaml.safe_dump(target, default_flow_style=True).strip()}",
        "fields:",
    ]
    for suggestion in suggestions:
        lines.append(
            f"  {suggestion.target}: {suggestion.source}  # {suggestion.confidence:.2f} {suggestion.reason}"
        )
    missing = [name for name in required if name not in {s.target for s in suggestions}]
    for name in missing:
        lines.append(f"  # {name}: required, no suggestion - map it by hand")
    return "\n".join(lines) + "\n"
