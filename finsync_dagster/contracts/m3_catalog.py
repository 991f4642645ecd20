"""The M3 MI transactions finsync maps to and reads from, with their field lengths and required flags.

``m3_catalog.json`` is derived from the shared contract catalog by ``derive_m3_catalog.py``; production
code reads this copy, never the sandbox's. ``check_inputs`` applies the same rules M3 applies to an input
record (required fields present, lengths respected, numbers numeric), so a mapped record can be checked
before it is planned in the outbox.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from finsync_dagster.contracts.fields import DATE, DECIMAL, NUMBER, TEXT, Field, TableSchema
from finsync_dagster.errors import MappingError

CATALOG_FILE = Path(__file__).with_name("m3_catalog.json")
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
_AMOUNT_WORDS = ("amount", "price", "limit", "balance", "quantity", "rate", "value")


@dataclass(frozen=True)
class Transaction:
    program: str
    name: str
    summary: str
    inputs: TableSchema
    outputs: TableSchema

    @property
    def path(self) -> str:
        return f"{self.program}/{self.name}"


@cache
def _catalog() -> dict[str, Any]:
    catalog: dict[str, Any] = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    return catalog


def programs() -> dict[str, list[str]]:
    return {program: list(body["transactions"]) for program, body in _catalog().items()}


def transaction(path: str) -> Transaction:
    """``PROGRAM/TRANSACTION``, e.g. ``CRS610MI/Add``."""
    program, _, name = path.partition("/")
    body = _catalog().get(program, {}).get("transactions", {}).get(name)
    if body is None:
        known = ", ".join(f"{p}/{t}" for p, ts in programs().items() for t in ts)
        raise MappingError(f"M3 transaction {path!r} is not in the catalog (known: {known})")
    inputs = TableSchema.of(
        path,
        (
            Field(
                f["name"],
                NUMBER if f.get("type") == "number" else TEXT,
                "VARCHAR",
                bool(f.get("required")),
                f.get("length"),
                f.get("description", ""),
            )
            for f in body["inputs"]
        ),
        body.get("summary", ""),
    )
    outputs = TableSchema.of(
        path, (_output_field(f) for f in body.get("outputs", [])), body.get("summary", "")
    )
    return Transaction(program, name, body.get("summary", ""), inputs, outputs)


def _output_field(raw: Mapping[str, Any]) -> Field:
    """Output fields carry no type; staging types dates (yyyyMMdd) as DATE and amounts as DECIMAL."""
    description = raw.get("description", "")
    lowered = description.lower()
    length = raw.get("length")
    if "date" in lowered and length == 10:
        family, sql_type = DATE, "DATE"
    elif any(word in lowered for word in _AMOUNT_WORDS) and (length or 0) >= 9:
        family, sql_type = DECIMAL, "DECIMAL(18,4)"
    else:
        family, sql_type = TEXT, "VARCHAR"
    return Field(raw["name"], family, sql_type, False, length, description)


def check_inputs(path: str, records: Iterable[Mapping[str, object]]) -> list[str]:
    """Every way the records break the transaction's input rules; empty when M3 would accept them."""
    inputs = transaction(path).inputs
    problems: list[str] = []
    for index, record in enumerate(records):
        for name in inputs.required:
            if record.get(name) in (None, ""):
                problems.append(f"record {index}: {path} requires {name} ({inputs.fields[name].description})")
        for name, value in record.items():
            if name.startswith("_") or value in (None, ""):
                continue
            spec = inputs.get(name)
            if spec is None:
                problems.append(f"record {index}: {path} has no input field {name}")
                continue
            text = str(value)
            if spec.length is not None and len(text) > spec.length:
                problems.append(f"record {index}: {name} is {len(text)} characters, M3 allows {spec.length}")
            if spec.family == NUMBER and not _NUMERIC.match(text):
                problems.append(f"record {index}: {name} must be numeric, got {text!r}")
    return problems
