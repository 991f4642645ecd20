"""CSRF protection: every request that changes anything carries a token only our own pages know.

Signed in, the token is the session's (synchronizer token, kept in the ledger beside the session): forms
send it as ``csrf_token``, the console's script as the ``X-CSRF-Token`` header. The sign-in form has no
session yet, so it uses a double-submit token: a random value in a SameSite=Strict cookie that the form
repeats. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
LOGIN_COOKIE = "finsync_login"
CHECKED = "__csrf_checked__"

FormEndpoint = Callable[[Request, FormData], Awaitable[Response]]


def same(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def refused() -> Response:
    return PlainTextResponse(
        "refused: the form is stale or did not come from this console; reload the page", 403
    )


def checked(
    expected: Callable[[Request], str | None],
) -> Callable[[FormEndpoint], Callable[[Request], Awaitable[Response]]]:
    """Wrap a form endpoint: read the form, refuse it unless its token equals ``expected(request)``."""

    def wrap(endpoint: FormEndpoint) -> Callable[[Request], Awaitable[Response]]:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            form = await request.form()
            given = request.headers.get(HEADER) or _text(form.get(FIELD))
            if not same(expected(request), given):
                return refused()
            return await endpoint(request, form)

        setattr(guarded, CHECKED, True)
        return guarded

    return wrap


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
