"""Reconciliation: match FreshBooks against Infor record by record, and say what differs and by how much.

Pure logic over DuckDB (no Dagster, no HTTP): each matcher reads the canonical ``core.*`` tables from a
connection and returns an Arrow table in the shape of :data:`model.MATCH_COLUMNS`, which
:func:`store.replace_match_table` writes as ``recon.<entity>_matches``.
"""

from finsync_dagster.recon.customers import match_customers
from finsync_dagster.recon.expenses import match_expenses
from finsync_dagster.recon.invoices import match_invoices
from finsync_dagster.recon.model import (
    DEFAULT_TOLERANCES,
    EXCEPTION_STATUSES,
    MATCH_TABLES,
    STATUSES,
    Status,
    Tolerances,
)
from finsync_dagster.recon.payments import match_payments
from finsync_dagster.recon.store import read_match_table, replace_match_table

__all__ = [
    "DEFAULT_TOLERANCES",
    "EXCEPTION_STATUSES",
    "MATCH_TABLES",
    "STATUSES",
    "Status",
    "Tolerances",
    "match_customers",
    "match_expenses",
    "match_invoices",
    "match_payments",
    "read_match_table",
    "replace_match_table",
]
