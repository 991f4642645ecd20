"""Paths -> handlers, and nothing else. The emulated API and the ``/sandbox`` control plane never mix."""

from __future__ import annotations

from starlette.routing import Route

from finsync_dagster.sandbox.control import ControlPlane
from finsync_dagster.sandbox.freshbooks import control, handlers, oauth
from finsync_dagster.sandbox.freshbooks.backend import FreshBooksSandbox

ACCOUNTING = "/accounting/account/{account_id}"
CALLBACKS = "/events/account/{account_id}/events/callbacks"


def routes(sandbox: FreshBooksSandbox) -> list[Route]:
    table = [
        Route("/oauth/authorize", oauth.authorize, methods=["GET"]),
        Route("/oauth/authorize/", oauth.authorize, methods=["GET"]),
        Route("/auth/oauth/token", oauth.token, methods=["POST"]),
        Route("/auth/api/v1/users/me", oauth.me, methods=["GET"]),
        Route(CALLBACKS, handlers.callbacks, methods=["GET", "POST"]),
        Route(CALLBACKS + "/{id}", handlers.callback, methods=["GET", "PUT", "DELETE"]),
        *ControlPlane(sandbox).routes(),
        *control.control_routes(sandbox),
    ]
    for spec in handlers.ACCOUNTING:
        write = ["POST"] if spec.writable else []
        item_methods = ["GET", "PUT", "DELETE"] if spec.writable else ["GET"]
        table.append(Route(f"{ACCOUNTING}/{spec.path}", handlers.collection(spec), methods=["GET", *write]))
        table.append(Route(f"{ACCOUNTING}/{spec.path}/{{id}}", handlers.item(spec), methods=item_methods))
    return table
