"""The transactional ledger: cursors, tokens, the write side (outbox, crosswalk, dead letters, audit), and
the console's users, sessions and review decisions.

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
from finsync_dagster.ledger.review import Decision, ReviewDecision
from finsync_dagster.ledger.schema import LATEST_VERSION
from finsync_dagster.ledger.store import Ledger
from finsync_dagster.ledger.tokens import StoredToken
from finsync_dagster.ledger.users import Role, Session, User

__all__ = [
    "LATEST_VERSION",
    "Action",
    "Call",
    "CrosswalkConflictError",
    "Decision",
    "Ledger",
    "Link",
    "Outcome",
    "PlanResult",
    "PlannedAction",
    "ReviewDecision",
    "Role",
    "Session",
    "State",
    "StoredToken",
    "User",
    "action_key",
    "masked_url",
    "utcnow",
]
