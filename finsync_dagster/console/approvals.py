"""Workflow steps waiting for a person: what the Approvals page lists.

The workflows (order-to-cash, procure-to-pay) are not built yet, so nothing waits and the page says so.
When they land, :func:`pending_approvals` returns their waiting steps (read from the ledger) and the page
shows them as they are; approving and declining will be actions of the workflows module, audited like
every other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from finsync_dagster.ledger import Ledger
from finsync_dagster.settings import Settings

AVAILABLE = False  # True once the workflows fill pending_approvals


@dataclass(frozen=True)
class Approval:
    pair: str
    workflow: str  # e.g. order-to-cash
    step: str  # what is to be approved, in a person's words
    subject: str  # the record it is about: an invoice number, an order
    waiting_since: datetime
    amount: str | None = None
    currency_code: str | None = None


def pending_approvals(settings: Settings, ledger: Ledger) -> list[Approval]:
    """Every workflow step waiting for a person, oldest first (none until the workflows exist)."""
    return []
