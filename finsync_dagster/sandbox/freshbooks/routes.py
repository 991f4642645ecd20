"""Paths -> handlers, and nothing else. The emulated API and the ``/sandbox`` control plane never mix."""

from __future__ import annotations

from starlette.routing import Route

from finsync_dagster.sandbox.freshbooks import handlers, oauth

ACCOUNTING = "/accounting/account/{account_id}"
CALLBACKS = "/events/account/{account_id}/events/callbacks"


def routes() -> list[Route]:
    table = [
        Route("/oauth/authorize", oauth.authorize, methods=["GET"]),
        Route("/oauth/authorize/", oauth.authorize, methods=["GET"]),
        Route("/auth/oauth/token", oauth.token, methods=["POST"]),
        Route("/auth/api/v1/users/me", oauth.me, methods=["GET"]),
        Route(CALLBACKS, handlers.callbacks, methods=["GET", "POST"]),
        Route(CALLBACKS + "/{id}", handlers.callback, methods=["GET", "PUT", "DELETE"]),
        Route("/sandbox", handlers.control_info, methods=["GET"]),
        Route("/sandbox/faults", handlers.control_faults, methods=["GET", "PUT", "POST", "DELETE"]),
        Route("/sandbox/clock", handlers.control_clock, methods=["GET", "PUT"]),
        Route("/sandbox/reset", handlers.control_reset, methods=["POST"]),
        Route("/sandbox/settings", handlers.control_settings, methods=["GET", "PUT"]),
        Route("/sandbox/tokens/expire", handlers.control_expire_tokens, methods=["POST"]),
        Route("/sandbox/webhooks/deliveries", handlers.control_deliveries, methods=["GET"]),
    ]
    for spec in handlers.ACCOUNTING:
        write = ["POST"] if spec.writable else []
        item_methods = ["GET", "PUT", "DELETE"] if spec.writable else ["GET"]
        table.append(Route(f"{ACCOUNTING}/{spec.path}", handlers.collection(spec), methods=["GET", *write]))
        table.append(Route(f"{ACCOUNTING}/{spec.path}/{{id}}", handlers.item(spec), methods=item_methods))
    return table
