"""Operational assets: the ledger's schema, so a run shows where state lives and at which version."""

from __future__ import annotations

import dagster as dg

from finsync_dagster.resources import LedgerResource


@dg.asset(
    group_name="operations",
    kinds={"sqlite", "postgres"},
    owners=["team:finsync"],
    description="The transactional ledger (cursors, tokens, ...): created or migrated to the latest schema.",
)
def ledger_schema(ledger: LedgerResource) -> dg.MaterializeResult:
    store = ledger.get()
    version = store.migrate()
    return dg.MaterializeResult(
        metadata={
            "schema_version": version,
            "ledger_url": store.safe_url,
            "dialect": store.engine.dialect.name,
        }
    )


ASSETS = [ledger_schema]
