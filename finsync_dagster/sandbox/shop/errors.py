"""The Admin API's error answers: always JSON with a top-level ``errors`` (a string or field -> message).

Bodies follow contract section 5; one Starlette exception handler renders :class:`ShopError`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
PAGINATION_DOCS = "See https://shopify.dev/api/usage/pagination-rest for more information."


class ShopError(Exception):
    def __init__(self, status: int, errors: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(errors))
        self.status = status
        self.errors = errors
        self.headers = headers or {}


def render(error: ShopError) -> Response:
    return JSONResponse({"errors": error.errors}, status_code=error.status, headers=error.headers)


async def exception_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShopError)
    return render(exc)


def not_found() -> ShopError:
    return ShopError(404, "Not Found")


def unauthorized() -> ShopError:
    return ShopError(401, INVALID_TOKEN, {"WWW-Authenticate": 'Basic Realm="Shopify API Authentication"'})


def invalid(parameter: str, message: str = "Invalid value.") -> ShopError:
    return ShopError(400, {parameter: message})


def not_with_page_info(parameter: str) -> ShopError:
    return invalid(parameter, f"{parameter} cannot be passed when page_info is present. {PAGINATION_DOCS}")


def unprocessable(field: str, message: str) -> ShopError:
    return ShopError(422, {field: [message]})


def throttled(leak_per_second: float, retry_after: float) -> ShopError:
    rate = f"{leak_per_second:g}"
    return ShopError(
        429,
        f"Exceeded {rate} calls per second for api client. Reduce request rates to resume uninterrupted service.",
        {"Retry-After": f"{retry_after:.1f}"},
    )


def injected(status: int, retry_after: int) -> Response:
    """An answer of the fault injector, in the API's own envelope."""
    if status == 429:
        return render(
            ShopError(429, "Exceeded 2 calls per second for api client.", {"Retry-After": f"{retry_after}.0"})
        )
    return render(ShopError(status, "Internal Server Error" if status == 500 else "Service Unavailable"))
