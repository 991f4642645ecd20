"""The transactional ledger: cursors, tokens and the webhook inbox today; outbox, crosswalk, dead letters,
audit next.

``Ledger`` (in ``store``) is the facade callers use; ``schema`` holds the tables and migrations, and each
concern its own module (``cursors``, ``tokens``, ``inbox``, ``callbacks``, ``migrations``, ``engine``).
"""

from finsync_dagster.ledger.callbacks import WebhookCallback
from finsync_dagster.ledger.engine import durability, make_engine, masked_url, utcnow
from finsync_dagster.ledger.inbox import Backlog, Delivery, InboxRow, freshbooks_key, shop_key
from finsync_dagster.ledger.schema import LATEST_VERSION
from finsync_dagster.ledger.store import Ledger
from finsync_dagster.ledger.tokens import StoredToken

__all__ = [
    "LATEST_VERSION",
    "Backlog",
    "Delivery",
    "InboxRow",
    "Ledger",
    "StoredToken",
    "WebhookCallback",
    "durability",
    "freshbooks_key",
    "make_engine",
    "masked_url",
    "shop_key",
    "utcnow",
]
