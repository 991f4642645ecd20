"""What the receiver needs to know about each pair, read once from the settings at start.

- FreshBooks: the pair's ``account_id`` (and ``business_id`` when configured); a delivery for any other
  account is refused. The HMAC keys are the verifiers of the pair's verified callbacks, kept in the
  ledger (``verifiers.py``), not here.
- Shop: the secret that signs the shop's webhooks comes from the environment variable the pair's
  ``shop:`` section names, and the shop's domain, when given, must match ``X-Shopify-Shop-Domain``. The
  ``shop:`` section is being added on another branch; :func:`shop_endpoint` is the one place that reads
  it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from finsync_dagster.errors import ConfigError
from finsync_dagster.settings import PairConfig, Settings


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
    """The pair's shop webhook settings, from its ``shop:`` section.

    Expects ``webhook_secret_env`` (the variable holding the app's client secret; several comma-separated
    names for a rotation) and, optionally, ``shop_domain`` (``{shop}.myshopify.com``). Wire these names
    to the section's real ones when the ``shop:`` section lands.
    """
    section: Any = getattr(pair, "shop", None)
    if section is None:
        return None
    names = [
        n.strip() for n in str(getattr(section, "webhook_secret_env", None) or "").split(",") if n.strip()
    ]
    if not names:
        return None
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise ConfigError(
            f"pair {pair.name!r}: the shop webhook secret variable {', '.join(missing)} is not set"
        )
    domain = getattr(section, "shop_domain", None)
    return ShopEndpoint(secrets=tuple(env[name] for name in names), shop_domain=domain or None)
