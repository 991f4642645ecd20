"""The transactional ledger: cursors, tokens, the write side (outbox, crosswalk, dead letters, audit), the
console's users, sessions and review decisions, and the webhook inbox with its registered callbacks.

``Ledger`` (in ``store``) is the facade callers use; ``schema`` holds the tables and migrations, and each
concern its own module (``cursors``, ``tokens``, ``outbox``, ``inbox``, ``callbacks``, ``migrations``,
``engine``).
"""

from finsync_dagster.ledger.callbacks import WebhookCallback
from finsync_dagster.ledger.engine import durability, make_engine, masked_url, utcnow
from finsync_dagster.ledger.inbox import Backlog, Delivery, InboxRow, freshbooks_key, shop_key
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
    "Backlog",
    "Call",
    "CrosswalkConflictError",
    "Decision",
    "Delivery",
    "InboxRow",
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
    "WebhookCallback",
    "action_key",
    "durability",
    "freshbooks_key",
    "make_engine",
    "masked_url",
    "shop_key",
    "utcnow",
]
