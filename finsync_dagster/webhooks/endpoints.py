"""What the receiver needs to know about each pair, read once from the settings at start.

- FreshBooks: the pair's ``account_id`` (and ``business_id`` when configured); a delivery for any other
  account is refused. The HMAC keys are the verifiers of the pair's verified callbacks, kept in the
  ledger (``verifiers.py``), not here.
- Shop: the secret that signs the shop's webhooks comes from the environment variable the pair's
  ``shop:`` section names (``webhook_secret_env``), and ``X-Shopify-Shop-Domain`` must be the section's
  ``shop_domain``. :func:`shop_endpoint` is the one place that reads the section.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from finsync_dagster.settings import PairConfig, Settings

log = logging.getLogger("finsync.webhooks")


@dataclass(frozen=True)
class FreshBooksEndpoint:
    account_id: str
    business_id: str | None = None


@dataclass(frozen=True)
class ShopEndpoint:
    """``secrets``: the current secret first, then any still honoured during a rotation."""

    secrets: tuple[str, ...] = field(repr=False)
    shop_domain: str | None = None


@dataclass(frozen=True)
class PairEndpoints:
    freshbooks: FreshBooksEndpoint | None = None
    shop: ShopEndpoint | None = None


def endpoints_of(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, PairEndpoints]:
    """Every declared pair's endpoints; a pair without a section simply has no endpoint for it."""
    env = os.environ if env is None else env
    return {
        pair.name: PairEndpoints(freshbooks=freshbooks_endpoint(pair), shop=shop_endpoint(pair, env))
        for pair in settings.pairs
    }


def freshbooks_endpoint(pair: PairConfig) -> FreshBooksEndpoint | None:
    if pair.freshbooks is None:
        return None
    business = pair.freshbooks.business_id
    return FreshBooksEndpoint(pair.freshbooks.account_id, None if business is None else str(business))


def shop_endpoint(pair: PairConfig, env: Mapping[str, str]) -> ShopEndpoint | None:
    """The pair's shop webhook endpoint, from its ``shop:`` section; None without a shop or a secret.

    The secret is the sandbox's own (from ``sandbox.json``) or the value of ``webhook_secret_env``, which
    may name several variables, comma-separated, to honour the old secret during a rotation. A shop whose
    variable is unset gets no endpoint (its orders still come in by polling), and the start says so.
    """
    shop = pair.shop
    if shop is None:
        return None
    if shop.webhook_secret:
        return ShopEndpoint(secrets=(shop.webhook_secret,), shop_domain=shop.shop_domain)
    names = [name.strip() for name in shop.webhook_secret_env.split(",") if name.strip()]
    secrets = tuple(env[name] for name in names if env.get(name))
    if not secrets:
        log.warning(
            "pair %s: no shop webhook endpoint, %s is not set", pair.name, " or ".join(names) or "no variable"
        )
        return None
    return ShopEndpoint(secrets=secrets, shop_domain=shop.shop_domain)
