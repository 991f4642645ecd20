"""What callers hand the M3 client for bulk writes, and what they get back per transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from finsync_dagster.errors import ApiError


@dataclass(frozen=True)
class MiCall:
    """One transaction of a bulk request: ``record`` holds its input fields as Python values."""

    transaction: str
    record: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class MiOutcome:
    """The result of the caller's ``index``-th call: typed output records, or the error M3 reported."""

    index: int
    transaction: str
    records: tuple[dict[str, Any], ...] = ()
    error: ApiError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def record(self) -> dict[str, Any]:
        """The first output record (Add/Get transactions return one), or ``{}``."""
        return self.records[0] if self.records else {}
