"""Reconciliation: match FreshBooks against Infor record by record, and say what differs and by how much.

Pure logic over DuckDB (no Dagster, no HTTP): each matcher reads the canonical ``core.*`` tables from a
connection and returns an Arrow table in the shape of :data:`model.MATCH_COLUMNS`, which
:func:`store.replace_match_table` writes as ``recon.<entity>_matches``. Members load on first use
(``finsync_dagster.lazy``), so ``recon.model`` can be read without the matchers.
"""

from typing import TYPE_CHECKING

from finsync_dagster import lazy

if TYPE_CHECKING:
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
    from finsync_dagster.recon.procure import match_bills, match_suppliers
    from finsync_dagster.recon.store import read_match_table, replace_match_table

_WHERE = {
    "DEFAULT_TOLERANCES": "model",
    "EXCEPTION_STATUSES": "model",
    "MATCH_TABLES": "model",
    "STATUSES": "model",
    "Status": "model",
    "Tolerances": "model",
    "match_customers": "customers",
    "match_expenses": "expenses",
    "match_invoices": "invoices",
    "match_payments": "payments",
    "match_bills": "procure",
    "match_suppliers": "procure",
    "read_match_table": "store",
    "replace_match_table": "store",
}
__getattr__ = lazy.members(__name__, _WHERE)
__all__ = [
    "DEFAULT_TOLERANCES",
    "EXCEPTION_STATUSES",
    "MATCH_TABLES",
    "STATUSES",
    "Status",
    "Tolerances",
    "match_bills",
    "match_customers",
    "match_expenses",
    "match_invoices",
    "match_payments",
    "match_suppliers",
    "read_match_table",
    "replace_match_table",
]
