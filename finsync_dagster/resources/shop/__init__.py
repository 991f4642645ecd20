"""The shop (Shopify Admin REST API) client resource: the client, its leaky bucket, webhook signatures.

Production code only: it knows URLs and credentials, never the sandbox.
"""

from finsync_dagster.resources.shop.bucket import CallBucket
from finsync_dagster.resources.shop.client import ShopClient
from finsync_dagster.resources.shop.resource import ShopResource
from finsync_dagster.resources.shop.values import money, query_time, utc
from finsync_dagster.resources.shop.webhooks import signature, verify

__all__ = ["CallBucket", "ShopClient", "ShopResource", "money", "query_time", "signature", "utc", "verify"]
