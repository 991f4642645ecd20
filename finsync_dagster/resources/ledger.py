"""The ledger as a Dagster resource: one SQLAlchemy URL, shared by every run and process."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any

import dagster as dg

from finsync_dagster.ledger import Ledger, masked_url


class LedgerResource(dg.ConfigurableResource):
    """The transactional ledger (SQLite file by default, PostgreSQL in production)."""

    url: str

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, (masked_url(value) if name == "url" and isinstance(value, str) else value)

    @cached_property
    def _ledger(self) -> Ledger:
        ledger = Ledger(self.url)
        ledger.migrate()
        return ledger

    def get(self) -> Ledger:
        return self._ledger
