"""Why the receiver refuses a request: one reason each, with the status it answers.

A refusal stores nothing, and its answer and log line carry the reason only: never the body, a header, a
signature or a secret.
"""

from __future__ import annotations

from enum import Enum


class Reason(Enum):
    """(HTTP status, what the caller reads)."""

    UNKNOWN_PAIR = (404, "no such webhook endpoint")
    TOO_LARGE = (413, "body too large")
    UNSUPPORTED_MEDIA = (415, "unsupported content type")
    MALFORMED = (400, "malformed delivery")
    UNSIGNED = (401, "signature missing")
    BAD_SIGNATURE = (401, "signature does not match")
    WRONG_ACCOUNT = (403, "delivery for another account")
    UNKNOWN_CALLBACK = (404, "no callback awaiting verification")
    ALREADY_VERIFIED = (409, "callback already verified")
    VERIFIER_REFUSED = (400, "verifier refused by the provider")
    PROVIDER_UNAVAILABLE = (503, "provider unavailable, try again")
    INBOX_UNAVAILABLE = (503, "inbox unavailable, try again")

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def message(self) -> str:
        return self.value[1]

    @property
    def label(self) -> str:
        """The name in metrics and logs, e.g. ``bad_signature``."""
        return self.name.lower()


class Refused(Exception):
    """The request is refused with ``reason``; nothing was stored."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.message)
        self.reason = reason
