"""The ledger as a Dagster resource: one SQLAlchemy URL, shared by every run and process."""

from __future__ import annotations

from functools import cached_property

import dagster as dg

from finsync_dagster.ledger import Ledger


class LedgerResource(dg.ConfigurableResource):
    """The transactional ledger (SQLite file by default, PostgreSQL in production)."""

    url: str

    @cached_property
    def _ledger(self) -> Ledger:
        ledger = Ledger(self.url)
        ledger.migrate()
        return ledger

    def get(self) -> Ledger:
        return self._ledger
