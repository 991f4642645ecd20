"""The one exception tree of finsync.

Retry, in-doubt and dead-letter decisions test the class, never a status code scattered through the code.
The comment after each API error says what it means for a write that the outbox may resend::

    FinsyncError
    ├── ConfigError                 a missing or malformed finsync.yaml, an unknown pair
    ├── LedgerError                 the ledger database is unreachable or newer than this code
    ├── MappingError                a mapping spec that names a missing field (raised at load)
    ├── DataQualityError            a batch that breaks integrity (rows are quarantined instead)
    └── ApiError                    anything an external API answered or failed to answer
        ├── TransientApiError       worth retrying with backoff (a read always; a write see below)
        │   ├── RateLimitedError    429, refused before processing: safe to resend; ``retry_after``
        │   ├── AuthExpiredError    401 on a token a refresh may cure: refused, safe to resend
        │   └── UnavailableError    5xx, gateway timeout, dropped connection, client timeout:
        │       │                   a write may have been applied, so it is in doubt until looked up
        │       └── RequestNotSentError  no connection was opened: not sent, safe to resend
        └── PermanentApiError       retrying cannot help: dead-letter it with the reason
            ├── ValidationError     422/400 naming the field and the API's message
            ├── NotFoundError       404
            ├── ForbiddenError      403
            ├── AuthenticationError credentials refused, refresh token burnt: a person must reconnect
            └── OutcomeUnknownError a write may have been applied and no lookup could tell: in doubt,
                                    a person checks (never resent blindly: it could apply twice)

:data:`SAFE_TO_RESEND` names the classes after which a write certainly was not applied. Every transport
failure becomes one of these classes in one place, ``resources/http_policy.translate_transport_error``.

Errors carry the HTTP status, the provider's code, field and message, never headers, tokens or secrets.
"""

from __future__ import annotations


class FinsyncError(Exception):
    """Root of every error finsync raises on purpose."""


class ConfigError(FinsyncError):
    """The configuration file or environment is missing something or says something invalid."""


class LedgerError(FinsyncError):
    """The ledger cannot be used: unreachable, or its schema is newer than this code."""


class MappingError(FinsyncError):
    """A mapping spec is invalid; raised when it is loaded, before any data moves."""


class DataQualityError(FinsyncError):
    """A batch breaks integrity badly enough that nothing downstream should run on it."""


class ApiError(FinsyncError):
    """An external API failed. ``system`` names it (``freshbooks``, ``infor``)."""

    def __init__(
        self,
        message: str,
        *,
        system: str = "",
        status: int | None = None,
        code: str | None = None,
        field: str | None = None,
        request: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.status = status
        self.code = code
        self.field = field
        self.request = request

    def __str__(self) -> str:
        parts = [f"{self.system}: " if self.system else ""]
        if self.status is not None:
            parts.append(f"HTTP {self.status} ")
        if self.code:
            parts.append(f"[{self.code}] ")
        if self.field:
            parts.append(f"field {self.field!r}: ")
        parts.append(self.message)
        if self.request:
            parts.append(f" ({self.request})")
        return "".join(parts)


class TransientApiError(ApiError):
    """Worth another try after a pause."""


class RateLimitedError(TransientApiError):
    """The API throttled us; ``retry_after`` is the pause it asked for, in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class UnavailableError(TransientApiError):
    """5xx, gateway timeout, dropped connection or client-side timeout."""


class AuthExpiredError(TransientApiError):
    """The access token was refused; refreshing it may cure this."""


class RequestNotSentError(UnavailableError):
    """No connection was opened (or none was free in the pool): the request reached nobody, so resending
    it is always safe, even for a create."""


class PermanentApiError(ApiError):
    """Retrying cannot help; the record goes to the dead-letter queue with this reason."""


class ValidationError(PermanentApiError):
    """The API refused the payload, naming the field and why."""


class NotFoundError(PermanentApiError):
    """The record does not exist (or is not visible to these credentials)."""


class ForbiddenError(PermanentApiError):
    """The credentials lack a scope or permission for this call."""


class AuthenticationError(PermanentApiError):
    """Credentials refused or refresh token unusable: somebody must run ``finsync connect`` again."""


class OutcomeUnknownError(PermanentApiError):
    """A write failed in a way that may have applied it, and nothing could tell: a person must check.

    Permanent on purpose: resending it blindly could apply it twice.
    """


# The answers after which a write certainly was not applied (refused up front, or never sent).
SAFE_TO_RESEND: tuple[type[ApiError], ...] = (RateLimitedError, AuthExpiredError, RequestNotSentError)
