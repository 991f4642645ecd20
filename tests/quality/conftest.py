"""The demo sandboxes and the read-side runner of the staging tests, reused here."""

from tests.staging.conftest import sandboxes, sync

__all__ = ["sandboxes", "sync"]
