"""The transactional ledger: cursors, tokens, and the write side (outbox, crosswalk, dead letters, audit).

``Ledger`` (in ``store``) is the facade callers use; ``schema`` holds the tables and migrations, and each
concern its own module (``cursors``, ``tokens``, ``outbox``, ``migrations``, ``engine``).
"""

from finsync_dagster.ledger.engine import masked_url, utcnow
from finsync_dagster.ledger.outbox import (
    Action,
    Call,
    CrosswalkConflictError,
    Link,
    Outcome,
    PlannedAction,
    PlanResult,
    State,
    action_key,
)
from finsync_dagster.ledger.schema import LATEST_VERSION
from finsync_dagster.ledger.store import Ledger
from finsync_dagster.ledger.tokens import StoredToken

__all__ = [
    "LATEST_VERSION",
    "Action",
    "Call",
    "CrosswalkConflictError",
    "Ledger",
    "Link",
    "Outcome",
    "PlanResult",
    "PlannedAction",
    "State",
    "StoredToken",
    "action_key",
    "masked_url",
    "utcnow",
]
