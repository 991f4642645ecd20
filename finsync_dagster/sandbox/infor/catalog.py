"""The MI catalog the sandbox enforces: programs, transactions, and their fields.

Loaded from ``catalog.json`` beside this module, which ``build_catalog.py`` derives from the shared contract
catalog. Validation (required, length, numeric) and output columns all come from here, not from code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Field:
    name: str
    description: str
    length: int
    required: bool = False
    type: str = "string"  # string | number | date


@dataclass(frozen=True)
class Transaction:
    program: str
    name: str
    summary: str
    inputs: tuple[Field, ...]
    outputs: tuple[Field, ...]

    @property
    def input_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.outputs)

    @property
    def date_outputs(self) -> frozenset[str]:
        return frozenset(f.name for f in self.outputs if f.type == "date")


@dataclass(frozen=True)
class Program:
    name: str
    title: str
    version: str
    transactions: dict[str, Transaction]


@cache
def catalog() -> dict[str, Program]:
    raw = json.loads(Path(__file__).with_name("catalog.json").read_text(encoding="utf-8"))
    programs = {}
    for program, spec in raw.items():
        transactions = {
            name: Transaction(
                program=program,
                name=name,
                summary=t["summary"],
                inputs=tuple(Field(**f) for f in t["inputs"]),
                outputs=tuple(Field(**f) for f in t["outputs"]),
            )
            for name, t in spec["transactions"].items()
        }
        programs[program] = Program(program, spec["title"], spec["version"], transactions)
    return programs
