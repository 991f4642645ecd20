"""The ``shop`` sandbox service: builds the backend and the app, and writes ``shop-truth.json``."""

from __future__ import annotations

import json

from finsync_dagster.sandbox.runner import BuiltSandbox, SandboxOptions
from finsync_dagster.sandbox.shop.app import create_app
from finsync_dagster.sandbox.shop.backend import ShopSandbox

TRUTH_FILE = "shop-truth.json"


class ShopService:
    """The runner's entry point: builds one sandbox for ``finsync sandbox`` and the test fixtures."""

    name = "shop"

    def build(self, *, base_url: str, options: SandboxOptions) -> BuiltSandbox:
        sandbox = ShopSandbox(
            base_url=base_url, seed=options.seed, scale=options.scale, faults=options.faults
        )
        if sandbox.truth is not None:
            (options.dir / TRUTH_FILE).write_text(
                json.dumps(sandbox.truth, indent=2, sort_keys=True), encoding="utf-8"
            )
        # h11: Shopify's HTTP/1.1 header names keep their case (X-Shopify-Shop-Api-Call-Limit), and
        # clients such as ShopifyAPI's Limits look them up exactly.
        return BuiltSandbox(app=create_app(sandbox), info=sandbox.info(), state=sandbox, http="h11")
