"""The shop as a Dagster resource: configuration plus a factory for :class:`ShopClient`.

Config only: where the shop is, which API version, the app's access token and webhook secret
(``dg.EnvVar``, never shown in the repr) and the HTTP policy. A custom app's token is static and needs no
ledger; the leaky bucket's size is learnt from the shop's answers. A pair's ``shop:`` section in
``finsync.yaml`` becomes this resource in :class:`~finsync_dagster.resources.pair_clients.PairClients`.
"""

from __future__ import annotations

import httpx
from pydantic import Field

from finsync_dagster.resources.client_resource import ClientResource, resolve_secret
from finsync_dagster.resources.shop import webhooks
from finsync_dagster.resources.shop.bucket import CallBucket
from finsync_dagster.resources.shop.client import ShopClient

DEFAULT_API_VERSION = "2025-10"


class ShopResource(ClientResource):
    """One Shopify shop: where it is, the app's credentials, and the HTTP policy to reach it.

    Example::

        ShopResource(shop_domain="acme.myshopify.com", token_key="acme",
                     access_token=dg.EnvVar("ACME_SHOP_TOKEN"), webhook_secret=dg.EnvVar("ACME_SHOP_SECRET"))
    """

    shop_domain: str = Field(description="The shop's permanent handle, e.g. 'acme.myshopify.com'.")
    api_version: str = DEFAULT_API_VERSION
    api_url: str | None = Field(
        default=None, description="Default https://<shop_domain>; a proxy or sandbox."
    )
    access_token: str = Field(repr=False, description="Pass dg.EnvVar('NAME'), never a literal.")
    webhook_secret: str | None = Field(default=None, repr=False, description="The app's secret (dg.EnvVar).")
    bucket_size: int = Field(default=40, ge=1, description="Until the shop's answers tell the real size.")
    leak_per_second: float | None = Field(default=None, gt=0, description="None: a twentieth of the bucket.")
    bucket_margin: int = Field(default=2, ge=0, description="Slots the client leaves free in the bucket.")

    def base_url(self) -> str:
        return self.api_url or f"https://{self.shop_domain}"

    def get_client(self, *, transport: httpx.BaseTransport | None = None) -> ShopClient:
        """A client for this shop; use it as a context manager so its connections are closed."""
        return ShopClient(
            api_url=self.base_url(),
            api_version=self.api_version,
            access_token=resolve_secret(self.access_token, "shop access token"),
            policy=self.policy(),
            bucket=CallBucket(self.bucket_size, self.leak_per_second, self.bucket_margin),
            transport=transport,
        )

    def webhook_signed(self, raw_body: bytes, header: str | None) -> bool:
        """Whether a webhook's raw body carries this app's ``X-Shopify-Hmac-Sha256``."""
        return webhooks.verify(resolve_secret(self.webhook_secret, "shop webhook secret"), raw_body, header)
