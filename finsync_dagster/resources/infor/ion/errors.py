"""ION API Gateway answers as finsync errors (contract ``infor-api.md`` section 6), for any backend.

401 -> :class:`AuthExpiredError`, 429 -> :class:`RateLimitedError` with ``Retry-After``, 5xx/504 ->
:class:`UnavailableError`, 403/404 and other refusals -> permanent. The token endpoint's own failures are
read here too. The backend's bodies (M3's MI error quartets) are the backend module's to read.
"""

from __future__ import annotations

from typing import Any

import httpx

from finsync_dagster.errors import (
    ApiError,
    AuthenticationError,
    ForbiddenError,
    NotFoundError,
    PermanentApiError,
    RateLimitedError,
    UnavailableError,
)
from finsync_dagster.resources.http_policy import parse_retry_after

TOKEN_REQUEST = "POST token endpoint"


def gateway_error(response: httpx.Response, *, system: str, request: str) -> ApiError:
    """The finsync error for a gateway answer of 400 or more that the backend does not interpret."""
    status = response.status_code
    message = _gateway_message(response)
    kwargs: dict[str, Any] = {"system": system, "status": status, "request": request}
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimitedError(message or "throttled by the gateway", retry_after=retry_after, **kwargs)
    if status == 504:
        return UnavailableError(message or "the backend did not answer within the gateway timeout", **kwargs)
    if status >= 500:
        return UnavailableError(message or "the gateway or backend failed", **kwargs)
    if status == 403:
        return ForbiddenError(message or "forbidden", **kwargs)
    if status == 404:
        return NotFoundError(message or "no such API path", **kwargs)
    return PermanentApiError(message or "the gateway refused the request", **kwargs)


def token_endpoint_error(response: httpx.Response, *, system: str) -> ApiError | None:
    """The error for a token-endpoint answer authlib cannot read itself (a JSON refusal is its own)."""
    status = response.status_code
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimitedError(
            "token endpoint throttled", system=system, status=429, retry_after=retry_after
        )
    if status >= 500:
        return UnavailableError("token endpoint failed", system=system, status=status)
    if status >= 400:
        try:
            response.json()
        except ValueError:
            return AuthenticationError(
                "the ION API token endpoint refused the request",
                system=system,
                status=status,
                request=TOKEN_REQUEST,
            )
    return None


def _gateway_message(response: httpx.Response) -> str:
    """A short human message from a gateway error body (JSON or text), without headers."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict):
        for key in ("errorMessage", "message", "error_description", "error", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:200]
    return ""
