"""Value profiles of source columns: what the staged values look like, measured in one DuckDB pass.

A column whose values are mostly e-mail addresses is an e-mail column whatever it is called; the suggestion
engine weighs this against what the target field's description expects.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from finsync_dagster.contracts.fields import TEXT, TableSchema
from finsync_dagster.mapping.compile import quote

EMAIL, PHONE, COUNTRY, CURRENCY, DATE_TEXT, NUMERIC = (
    "email",
    "phone",
    "country",
    "currency",
    "date",
    "numeric",
)
_PATTERNS = {
    EMAIL: r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
    PHONE: r"^\+?[0-9][0-9 ()./-]{5,}[0-9]$",
    COUNTRY: r"^[A-Z]{2}$",
    CURRENCY: r"^[A-Z]{3}$",
    DATE_TEXT: r"^\d{4}-?\d{2}-?\d{2}",
    NUMERIC: r"^-?\d+(\.\d+)?$",
}


@dataclass(frozen=True)
class Profile:
    kind: str | None  # the pattern at least 80 % of non-empty values match, if any
    max_length: int | None
    filled: float  # share of rows with a value


def profile_table(
    con: duckdb.DuckDBPyConnection, table: str, schema: TableSchema, sample: int = 5000
) -> dict[str, Profile]:
    """Profiles of every text column of ``table`` over up to ``sample`` rows."""
    text_columns = [f.name for f in schema.fields.values() if f.family == TEXT and not f.name.startswith("_")]
    if not text_columns:
        return {}
    schema_name, _, name = table.partition(".")
    parts = []
    for column in text_columns:
        value = f"NULLIF(trim({quote(column)}), '')"
        parts.append(f"count({value})")
        parts.append(f"max(length({value}))")
        parts.extend(
            f"count(*) FILTER (WHERE regexp_matches({value}, '{pattern}'))" for pattern in _PATTERNS.values()
        )
    row = con.execute(
        f"SELECT count(*), {', '.join(parts)} FROM (SELECT * FROM {quote(schema_name)}.{quote(name)} LIMIT {int(sample)})"
    ).fetchone()
    assert row is not None
    total, values = row[0], row[1:]
    width = 2 + len(_PATTERNS)
    profiles = {}
    for index, column in enumerate(text_columns):
        filled, longest, *matches = values[index * width : (index + 1) * width]
        kind = None
        if filled:
            best = max(range(len(matches)), key=lambda i: matches[i])
            if matches[best] >= 0.8 * filled:
                kind = list(_PATTERNS)[best]
        profiles[column] = Profile(kind, longest, filled / total if total else 0.0)
    return profiles
