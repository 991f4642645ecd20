"""The transactional ledger: cursors and tokens today; inbox, outbox, crosswalk, dead letters, audit next.

``Ledger`` (in ``store``) is the facade callers use; ``schema`` holds the tables and migrations, and each
concern its own module (``cursors``, ``tokens``, ``migrations``, ``engine``).
"""

from finsync_dagster.ledger.engine import masked_url, utcnow
from finsync_dagster.ledger.schema import LATEST_VERSION
from finsync_dagster.ledger.store import Ledger
from finsync_dagster.ledger.tokens import StoredToken

__all__ = ["LATEST_VERSION", "Ledger", "StoredToken", "masked_url", "utcnow"]
