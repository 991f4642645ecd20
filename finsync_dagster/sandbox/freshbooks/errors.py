"""FreshBooks-shaped errors, one class per envelope family, rendered by one Starlette exception handler.

The real API answers in four shapes depending on the path (contract section 3.2):

- accounting (``/accounting/...``): ``{"response": {"errors": [{errno, field, message, object, value}]}}``;
- events (``/events/...``): flat ``{"errno", "message"[, "details"]}``;
- OAuth token endpoint and identity (``/auth/...``): ``{"error", "error_description"}``;
- anything else: the accounting shape.

Handlers raise these; :func:`render` turns one into a response. :func:`status_response` renders a bare
status (a rate-limit refusal or an injected fault) in the family of the request's path.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

UNAUTHORIZED_MESSAGE = "The server could not verify that you are authorized to access the URL requested."
EVENTS_UNAUTHORIZED_MESSAGE = "invalid_token: The request token failed to authenticate or validate."
EVENTS_NOT_FOUND_MESSAGE = "Requested resource could not be found."
EVENTS_VALIDATION_MESSAGE = (
    "The request was well-formed but was unable to be followed due to semantic errors."
)

_STATUS_MESSAGES = {
    429: "Too Many Requests",
    500: "FreshAlchemyUnexpected",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FreshBooksError(Exception):
    """An error the sandbox answers with, in the envelope of the API family that raised it."""

    status: int = 400

    def __init__(self, status: int, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, Any] | None:
        raise NotImplementedError


class AccountingError(FreshBooksError):
    """``{"response": {"errors": [...]}}`` with one error (errno, field, message, object, value)."""

    def __init__(
        self,
        status: int,
        errno: int,
        message: str,
        *,
        field: str | None = None,
        object: str | None = None,
        value: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, headers=headers)
        self.errno = errno
        self.message = message
        self.field = field
        self.object = object
        self.value = value

    def body(self) -> dict[str, Any]:
        value = None if self.value is None else str(self.value)
        error = {
            "errno": self.errno,
            "field": self.field,
            "message": self.message,
            "object": self.object,
            "value": value,
        }
        return {"response": {"errors": [error]}}

    def __repr__(self) -> str:
        return f"AccountingError({self.status}, errno={self.errno}, field={self.field!r}, {self.message!r})"


class EventsError(FreshBooksError):
    """The flat events envelope: ``{"errno", "message"[, "details"]}``; 204-less DELETE lives elsewhere."""

    def __init__(
        self,
        status: int,
        errno: int,
        message: str,
        details: list[str] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, headers=headers)
        self.errno = errno
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"errno": self.errno, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class OAuthError(FreshBooksError):
    """``{"error", "error_description"}``: the token endpoint and ``/auth/api/v1/users/me``."""

    def __init__(
        self, status: int, error: str, description: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, headers=headers)
        self.error = error
        self.description = description

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


# -- the named cases (contract section 6) ------------------------------------------------------------


def not_found(object: str, field: str, value: Any) -> AccountingError:
    return AccountingError(
        404,
        1012,
        f"{object.replace('_', ' ').capitalize()} not found.",
        field=field,
        object=object,
        value=value,
    )


def unauthorized(object: str | None = None) -> AccountingError:
    return AccountingError(401, 1003, UNAUTHORIZED_MESSAGE, object=object)


def required_field(object: str, field: str) -> AccountingError:
    return AccountingError(422, 1001, f"Field {field} is required.", field=field, object=object, value="")


def invalid_value(object: str, field: str, value: Any, message: str | None = None) -> AccountingError:
    return AccountingError(
        422, 1004, message or f"Invalid value for field {field}.", field=field, object=object, value=value
    )


def parse_error(message: str = "The request body could not be parsed.") -> AccountingError:
    return AccountingError(400, 1005, message)


def events_not_found() -> EventsError:
    return EventsError(404, 404, EVENTS_NOT_FOUND_MESSAGE)


def events_unauthorized() -> EventsError:
    return EventsError(401, 401, EVENTS_UNAUTHORIZED_MESSAGE)


def events_validation(details: list[str]) -> EventsError:
    # The SDK fixture answers callback validation with HTTP 400 and errno 422 in the body.
    return EventsError(400, 422, EVENTS_VALIDATION_MESSAGE, details)


def unauthenticated() -> OAuthError:
    return OAuthError(401, "unauthenticated", "This action requires authentication to continue.")


# -- rendering -----------------------------------------------------------------------------------------


def family(path: str) -> str:
    """Which error envelope a path answers with: ``accounting``, ``events`` or ``auth``."""
    if path.startswith("/events/"):
        return "events"
    if path.startswith("/auth/"):
        return "auth"
    return "accounting"


def for_status(path: str, status: int, *, retry_after: int | None = None) -> FreshBooksError:
    """A bare HTTP status (a 429 refusal, an injected 5xx) as the path's family would answer it."""
    message = _STATUS_MESSAGES.get(status, "Error")
    headers = {"Retry-After": str(retry_after)} if retry_after is not None and status in (429, 503) else None
    kind = family(path)
    if kind == "events":
        return EventsError(status, status, message, headers=headers)
    if kind == "auth":
        return OAuthError(status, message.lower().replace(" ", "_"), message, headers=headers)
    return AccountingError(status, status, message, headers=headers)


def revoked(path: str) -> FreshBooksError:
    """What a request with a revoked or expired access token gets, per family."""
    kind = family(path)
    if kind == "events":
        return events_unauthorized()
    if kind == "auth":
        return unauthenticated()
    return unauthorized()


def render(error: FreshBooksError) -> Response:
    body = error.body()
    if body is None:
        return Response(status_code=error.status, headers=error.headers)
    return JSONResponse(body, status_code=error.status, headers=error.headers)


async def exception_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FreshBooksError)
    return render(exc)
