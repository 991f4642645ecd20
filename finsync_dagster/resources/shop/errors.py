"""Shop answers as finsync errors: the one place status codes and the ``{"errors": ...}`` envelope are read.

Shopify puts a string or a ``field -> message(s)`` object under ``errors`` (contract 5). A custom app's
token cannot be refreshed, so a 401 is :class:`AuthenticationError` (a person fixes the token); 402/403/423
(frozen, forbidden, locked shop) and 430 (judged malicious) are :class:`ForbiddenError`; 429 carries
``Retry-After``; 5xx and 408 are :class:`UnavailableError`. Tokens and bodies are never copied into an error.
"""

from __future__ import annotations

from typing import Any

import httpx

from finsync_dagster.errors import (
    ApiError,
    AuthenticationError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
    ValidationError,
)
from finsync_dagster.resources.http_policy import parse_retry_after

SYSTEM = "shop"


def error_from_response(response: httpx.Response, *, request: str, body: Any = None) -> ApiError | None:
    """The finsync error for this answer, or None when it is a success."""
    status = response.status_code
    if status < 400:
        return None
    message, field = _message(body)
    details: dict[str, Any] = {
        "system": SYSTEM,
        "status": status,
        "field": field,
        "request": request,
        "code": None,
    }
    message = message or response.reason_phrase or f"HTTP {status}"
    if status == 429:
        return RateLimitedError(
            message, retry_after=parse_retry_after(response.headers.get("Retry-After")), **details
        )
    if status >= 500 or status == 408:
        return UnavailableError(message, **details)
    if status == 401:
        return AuthenticationError(
            f"{message}; check the shop's access token (the variable the pair's shop section names)",
            **details,
        )
    if status in (402, 403, 423, 430):
        return ForbiddenError(message, **details)
    if status == 404:
        return NotFoundError(message, **details)
    return ValidationError(message, **details)


def _message(body: Any) -> tuple[str, str | None]:
    """Shopify's own message, and the first field it names."""
    if not isinstance(body, dict):
        return "", None
    errors = body.get("errors", body.get("error"))
    if isinstance(errors, str):
        return errors, None
    if isinstance(errors, dict) and errors:
        parts = []
        for name, value in errors.items():
            text = "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)
            parts.append(f"{name}: {text}")
        return "; ".join(parts), str(next(iter(errors)))
    if isinstance(errors, list):
        return "; ".join(str(e) for e in errors), None
    return "", None
