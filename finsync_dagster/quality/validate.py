"""Validate one staging table: its pandera model, then its SQL row rules; quarantine the rows that fail.

The batch fails as a whole only when its integrity breaks (a missing column, a column of the wrong type,
duplicate ids) or when more than ``threshold`` of its live rows are quarantined. Anything less is the
normal life of a finance feed: the bad rows are held back and the rest flows on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from finsync_dagster.quality.rules import VIOLATIONS, row_violations, unevaluated_rules
from finsync_dagster.quality.schemas import SCHEMAS
from finsync_dagster.quality.store import existing_tables, refresh_quarantine
from finsync_dagster.staging.columns import TableSpec
from finsync_dagster.warehouse import columns_of, qualified
from finsync_dagster.warehouse.schemas import STAGING

_SAMPLE = 10
_BATCH_CHECKS = ("column_in_dataframe", "field_uniqueness", "unique")


@dataclass(frozen=True)
class Validation:
    """What validating one staging table found."""

    table: str
    rows: int
    integrity: tuple[str, ...]
    violations: pyarrow.Table  # record_id, rule, column, reason
    threshold: float
    not_evaluated: dict[str, str] = field(default_factory=dict)  # rule -> why it could not run

    @property
    def quarantined(self) -> int:
        return int(pc.count_distinct(self.violations.column("record_id"), mode="all").as_py())

    @property
    def share(self) -> float:
        return self.quarantined / self.rows if self.rows else 0.0

    @property
    def passed(self) -> bool:
        return not self.integrity and self.share <= self.threshold

    def counts(self) -> list[dict[str, Any]]:
        """Records per rule and column, most first."""
        frame = self.violations.select(["rule", "column", "record_id"]).to_pandas()
        if frame.empty:
            return []
        grouped = frame.groupby(["rule", "column"], dropna=False)["record_id"].nunique()
        return [
            {"rule": rule, "column": column, "records": int(n)}
            for (rule, column), n in grouped.sort_values(ascending=False).items()
        ]

    def samples(self, limit: int = _SAMPLE) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.violations.slice(0, limit).to_pylist()
        return rows

    def summary(self) -> str:
        skipped = "".join(f"; rule {rule} {why}" for rule, why in sorted(self.not_evaluated.items()))
        return self._held() + skipped

    def _held(self) -> str:
        if self.integrity:
            return f"staging.{self.table}: the batch is broken: " + "; ".join(self.integrity)
        held = f"{self.quarantined} of {self.rows} rows quarantined ({self.share:.1%})"
        if not self.passed:
            return f"staging.{self.table}: {held}, above the {self.threshold:.0%} threshold"
        return (
            f"staging.{self.table}: {held}" if self.quarantined else f"staging.{self.table}: all rows valid"
        )


def load_frame(connection: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> pd.DataFrame:
    """The live rows' ``columns`` (those present), with exact Arrow dtypes for everything but text."""
    staged = qualified(STAGING, table)
    present = {column for column, _ in columns_of(connection, staged)}
    names = [c for c in columns if c in present]
    select = ", ".join(f'"{name}"' for name in names)
    arrow = connection.sql(f"SELECT {select} FROM {staged} WHERE NOT _deleted").to_arrow_table()
    frame: pd.DataFrame = arrow.to_pandas(types_mapper=_arrow_dtype)
    return frame


def _arrow_dtype(arrow_type: pyarrow.DataType) -> pd.ArrowDtype | None:
    if pyarrow.types.is_string(arrow_type) or pyarrow.types.is_large_string(arrow_type):
        return None  # pandas' own (Arrow-backed) str
    if pyarrow.types.is_timestamp(arrow_type) and arrow_type.tz is not None:
        return pd.ArrowDtype(pyarrow.timestamp(arrow_type.unit, tz="UTC"))
    return pd.ArrowDtype(arrow_type)


def check_schema(frame: pd.DataFrame, model: type[pa.DataFrameModel]) -> tuple[list[str], pyarrow.Table]:
    """Batch problems, and row violations (record_id, rule, column, reason), from the pandera model."""
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    else:
        return [], VIOLATIONS.empty_table()
    check = cases["check"].astype(str)
    batch = cases["index"].isna() | check.isin(_BATCH_CHECKS) | check.str.startswith("dtype(")
    problems = [
        _batch_problem(group, frame) for _, group in cases[batch].groupby(["column", "check"], dropna=False)
    ]
    rows = cases[~batch]
    ids = frame["id"].to_numpy()[rows["index"].astype(int).to_numpy()] if len(rows) else []
    described = {name: column.description for name, column in model.to_schema().columns.items()}
    violations = pyarrow.table(
        {
            "record_id": pyarrow.array([str(i) for i in ids], pyarrow.string()),
            "rule": pyarrow.array([_rule(c) for c in rows["check"].astype(str)], pyarrow.string()),
            "column": pyarrow.array(rows["column"].astype(str).tolist(), pyarrow.string()),
            "reason": pyarrow.array(
                [
                    _reason(col, chk, value, described.get(col))
                    for col, chk, value in zip(
                        rows["column"], rows["check"], rows["failure_case"], strict=True
                    )
                ],
                pyarrow.string(),
            ),
        },
        schema=VIOLATIONS,
    )
    return problems, violations


def _rule(check: str) -> str:
    if check == "not_nullable":
        return "required_value"
    if check.startswith("isin"):
        return "allowed_value"
    if check.startswith("str_length"):
        return "field_length"
    return "value_range"


def _reason(column: str, check: str, value: object, description: str | None) -> str:
    if check == "not_nullable":
        return f"{column} is empty"
    if check.startswith("isin"):  # currencies, but also codes such as vis_state
        return f"{column} {value!r} is not a valid {description or 'value'}"
    return f"{column} {value!r} fails {check}"


def _batch_problem(group: pd.DataFrame, frame: pd.DataFrame) -> str:
    column, check = group["column"].iloc[0], str(group["check"].iloc[0])
    if check == "column_in_dataframe":
        return f"column {group['failure_case'].iloc[0]} is missing"
    if check.startswith("dtype("):
        # pandera lists the column's values as the failure cases of a dtype check, not the dtype it found.
        return f"column {column} has type {frame[column].dtype}, expected {check[6:-1]}"
    duplicates = sorted({str(v) for v in group["failure_case"]})
    return f"{len(duplicates)} duplicated {column} value(s), e.g. {', '.join(duplicates[:3])}"


def validate_table(connection: duckdb.DuckDBPyConnection, spec: TableSpec, *, threshold: float) -> Validation:
    """Run the table's model and row rules over its live rows (nothing is written)."""
    staged = existing_tables(connection)
    if spec.name not in staged:
        return Validation(
            spec.name, 0, (f"table staging.{spec.name} does not exist",), VIOLATIONS.empty_table(), threshold
        )
    model = SCHEMAS[spec.name]
    frame = load_frame(connection, spec.name, list(model.to_schema().columns))
    problems, schema_violations = check_schema(frame, model)
    skipped = unevaluated_rules(connection, spec.name, staged)
    violations = pyarrow.concat_tables([schema_violations, row_violations(connection, spec, staged, skipped)])
    return Validation(spec.name, len(frame), tuple(problems), violations, threshold, skipped)


def validate_and_quarantine(
    connection: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    *,
    pair: str,
    threshold: float,
    now: datetime,
) -> Validation:
    """Validate the table and make its quarantine match what was found."""
    validation = validate_table(connection, spec, threshold=threshold)
    if spec.name in existing_tables(connection):
        refresh_quarantine(connection, entity=spec.name, pair=pair, violations=validation.violations, now=now)
    return validation
