"""Shopify webhooks on the wire (shop contract §6.3, §6.4): headers, signature and what identifies them.

Pure: no HTTP, no ledger. The ``X-Shopify-Hmac-Sha256`` header is the base64 HMAC-SHA256 of the raw body,
keyed with the app's client secret; it is checked on the bytes as received, before any JSON parsing.
During a secret rotation Shopify may sign with the old secret for up to an hour, so several secrets may be
configured and any of them signs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
DOMAIN_HEADER = "X-Shopify-Shop-Domain"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
EVENT_ID_HEADER = "X-Shopify-Event-Id"
ORDER_ID_HEADER = "X-Shopify-Order-Id"


def signature(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_by(secrets: Sequence[str], body: bytes, header: str) -> bool:
    """True if ``header`` is the signature of ``body`` under one of ``secrets``, in constant time."""
    given = header.strip().encode("utf-8", "replace")
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(signature(secret, body).encode("ascii"), given)
    return matched
