"""The ledger as a Dagster resource: one SQLAlchemy URL, shared by every run and process."""

from __future__ import annotations

from functools import cached_property

import dagster as dg
from pydantic import Field

from finsync_dagster.ledger import Ledger


class LedgerResource(dg.ConfigurableResource):
    """The transactional ledger (SQLite file by default, PostgreSQL in production)."""

    # A PostgreSQL URL carries its password: hidden from the repr, as every secret field of a resource.
    url: str = Field(repr=False)

    @cached_property
    def _ledger(self) -> Ledger:
        ledger = Ledger(self.url)
        ledger.migrate()
        return ledger

    def get(self) -> Ledger:
        return self._ledger
