"""Paths -> handlers, and nothing else. The emulated API and the ``/sandbox`` control plane never mix."""

from __future__ import annotations

from starlette.routing import Route

from finsync_dagster.sandbox.control import ControlPlane
from finsync_dagster.sandbox.shop import control, handlers
from finsync_dagster.sandbox.shop.backend import ShopSandbox
from finsync_dagster.sandbox.shop.gate import client_credentials

ADMIN = "/admin/api/{version}"
ORDER = ADMIN + "/orders/{id:int}"


def routes(sandbox: ShopSandbox) -> list[Route]:
    return [
        Route("/admin/oauth/access_token", client_credentials, methods=["POST"]),
        Route(f"{ADMIN}/shop.json", handlers.shop, methods=["GET"]),
        Route(f"{ADMIN}/orders.json", handlers.orders, methods=["GET"]),
        Route(f"{ADMIN}/orders/count.json", handlers.orders_count, methods=["GET"]),
        Route(f"{ORDER}.json", handlers.order, methods=["GET"]),
        Route(f"{ORDER}/transactions.json", handlers.transactions, methods=["GET"]),
        Route(f"{ORDER}/transactions/count.json", handlers.transactions_count, methods=["GET"]),
        Route(ORDER + "/transactions/{tid:int}.json", handlers.transaction, methods=["GET"]),
        Route(f"{ORDER}/refunds.json", handlers.refunds, methods=["GET"]),
        Route(ORDER + "/refunds/{rid:int}.json", handlers.refund, methods=["GET"]),
        Route(f"{ORDER}/fulfillments.json", handlers.fulfillments, methods=["GET"]),
        Route(f"{ORDER}/fulfillments/count.json", handlers.fulfillments_count, methods=["GET"]),
        Route(f"{ADMIN}/webhooks.json", handlers.webhooks, methods=["GET", "POST"]),
        Route(f"{ADMIN}/webhooks/count.json", handlers.webhooks_count, methods=["GET"]),
        Route(ADMIN + "/webhooks/{id:int}.json", handlers.webhook, methods=["GET", "PUT", "DELETE"]),
        *ControlPlane(sandbox).routes(),
        *control.control_routes(sandbox),
    ]
