"""The transactional ledger (cursors, tokens, and later inbox, outbox, crosswalk, dead letters, audit)."""

from finsync_dagster.ledger.schema import LATEST_VERSION
from finsync_dagster.ledger.store import Ledger, StoredToken, masked_url, utcnow

__all__ = ["LATEST_VERSION", "Ledger", "StoredToken", "masked_url", "utcnow"]
