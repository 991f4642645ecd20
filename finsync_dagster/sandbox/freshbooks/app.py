"""The factory of one FreshBooks sandbox's ASGI app: routes, error envelope, faults."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from finsync_dagster.sandbox.faults import FaultMiddleware
from finsync_dagster.sandbox.freshbooks.backend import FreshBooksSandbox
from finsync_dagster.sandbox.freshbooks.errors import (
    FreshBooksError,
    exception_handler,
    for_status,
    render,
    revoked,
)
from finsync_dagster.sandbox.freshbooks.routes import routes

_WRITES = ("POST", "PUT", "DELETE")
_WRITTEN = ("/accounting/", "/events/")  # not the OAuth endpoints: a token grant is not a record write


def changes_state(scope: Scope, _body: bytes) -> bool:
    """A write of the accounting or events API: what ``commit_then_timeout`` may hit."""
    return scope["method"] in _WRITES and scope["path"].startswith(_WRITTEN)


def create_app(sandbox: FreshBooksSandbox) -> Starlette:
    def render_status(request: Request, status: int, retry_after: int) -> Response:
        return render(for_status(request.url.path, status, retry_after=retry_after))

    def render_revoked(request: Request) -> Response:
        # A revoked token stays revoked: the client must refresh, as after a real revocation.
        token = request.headers.get("authorization", "").partition(" ")[2]
        with sandbox.lock:
            sandbox.tokens.revoke(token.strip())
        return render(revoked(request.url.path))

    app = Starlette(
        routes=routes(sandbox),
        exception_handlers={FreshBooksError: exception_handler},
        middleware=[
            Middleware(
                FaultMiddleware,
                injector=sandbox.faults,
                render_status=render_status,
                render_revoked=render_revoked,
                is_write=changes_state,
            )
        ],
    )
    app.state.sandbox = sandbox
    return app
