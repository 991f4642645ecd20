"""FreshBooks answers as finsync errors: the one place status codes and error envelopes are read.

FreshBooks has an envelope per family (contract §3.2): accounting ``{"response": {"errors": [{errno,
field, message, object, value}]}}``, events ``{"errno", "message", "details"}`` and auth ``{"error",
"error_description"}``. A 200 whose body carries ``response.errors`` and no result is an error too
("You do not have access to items."). Messages are the provider's own prose; headers, tokens and request
bodies are never copied into an error.
"""

from __future__ import annotations

from typing import Any

import httpx

from finsync_dagster.errors import (
    ApiError,
    AuthExpiredError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
    ValidationError,
)
from finsync_dagster.resources.http_policy import parse_retry_after

SYSTEM = "freshbooks"


def error_from_response(response: httpx.Response, *, request: str, body: Any = None) -> ApiError | None:
    """The finsync error for this answer, or None when it is a success.

    ``body`` is the answer already parsed, so a caller that needs it anyway parses each page once.
    """
    if body is None:
        body = _json(response)
    status = response.status_code
    if status < 400:
        errors = _accounting_errors(body)
        if not errors:
            return None
        # Feature not available on this plan: 200 + errors (contract §3.2).
        return ForbiddenError(_message(errors, body), **_details(errors, body, status, request))
    errors = _accounting_errors(body)
    message = _message(errors, body) or response.reason_phrase or f"HTTP {status}"
    details = _details(errors, body, status, request)
    if status == 429:
        return RateLimitedError(
            message, retry_after=parse_retry_after(response.headers.get("Retry-After")), **details
        )
    if status >= 500 or status == 408:
        return UnavailableError(message, **details)
    if status == 401:
        return AuthExpiredError(message, **details)
    if status == 403:
        return ForbiddenError(message, **details)
    if status == 404:
        return NotFoundError(message, **details)
    return ValidationError(message, **details)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _accounting_errors(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    inner = body.get("response")
    errors = inner.get("errors") if isinstance(inner, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _message(errors: list[dict[str, Any]], body: Any) -> str:
    if errors:
        return "; ".join(str(e.get("message") or "error") for e in errors)
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("error_description"), str):
        return body["error_description"]
    message = body.get("message") if isinstance(body.get("message"), str) else body.get("error")
    details = body.get("details")
    if isinstance(details, list) and details:
        message = f"{message}: {'; '.join(str(d) for d in details)}"
    if isinstance(message, dict):  # projects family: {"errno": 2001, "error": {"title": "..."}}
        message = "; ".join(f"{k}: {v}" for k, v in message.items())
    return str(message or "")


def _details(errors: list[dict[str, Any]], body: Any, status: int, request: str) -> dict[str, Any]:
    first = errors[0] if errors else {}
    named = next((e for e in errors if e.get("field")), first)
    code = named.get("errno")
    if code is None and isinstance(body, dict):
        # Events put errno at the top; the auth family names the OAuth error instead.
        code = (
            body.get("errno")
            if "errno" in body
            else body.get("error")
            if "error_description" in body
            else None
        )
    return {
        "system": SYSTEM,
        "status": status,
        "code": None if code is None else str(code),
        "field": named.get("field") or None,
        "request": request,
    }
