"""Shop webhooks as a receiver sees them: the headers Shopify sends and the signature check (contract 6.3-6.6).

``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the raw body, keyed with the app's secret; it is
checked on the bytes as received, before any JSON parsing, in constant time, against every secret given
(during a rotation Shopify signs with the old secret for up to an hour). Pure: the webhook receiver and
tests call it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable

TOPIC = "X-Shopify-Topic"
SIGNATURE = "X-Shopify-Hmac-Sha256"
SHOP_DOMAIN = "X-Shopify-Shop-Domain"
API_VERSION = "X-Shopify-API-Version"
WEBHOOK_ID = "X-Shopify-Webhook-Id"
EVENT_ID = "X-Shopify-Event-Id"
TRIGGERED_AT = "X-Shopify-Triggered-At"


def signature(secret: str, raw_body: bytes) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value Shopify sends for ``raw_body``."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()).decode(
        "ascii"
    )


def verify(secrets: str | Iterable[str], raw_body: bytes, header: str | None) -> bool:
    """True when ``header`` signs ``raw_body`` with one of ``secrets`` (a hex digest or garbage never does)."""
    if not header:
        return False
    try:
        sent = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    return any(
        hmac.compare_digest(hmac.new(key.encode("utf-8"), raw_body, hashlib.sha256).digest(), sent)
        for key in keys
        if key
    )
