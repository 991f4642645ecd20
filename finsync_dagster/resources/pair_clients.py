"""``PairClients``: the one place a pair's settings become API clients, and their ledger is opened.

Bound once in ``definitions.py`` as ``clients``; staging assets (and later sensors and push jobs) take it
as a parameter and ask for ``clients.freshbooks(pair)``, ``clients.infor(pair)`` or ``clients.shop(pair)``.
It reads the pair's ``freshbooks:``/``infor:``/``shop:`` sections (settings has already turned a
``sandbox_dir`` into such sections), applies the pair's ``*_limits``, and hands the FreshBooks and Infor
clients the same ledger for their tokens (a shop's token is static: it needs none). The shop is optional;
``has_shop(pair)`` says whether a pair has one.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import dagster as dg
import httpx

from finsync_dagster.errors import ConfigError
from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.freshbooks.client import FreshBooksClient
from finsync_dagster.resources.freshbooks.resource import FreshBooksResource
from finsync_dagster.resources.infor.client import M3Client
from finsync_dagster.resources.infor.resource import InforResource
from finsync_dagster.resources.settings import SettingsResource
from finsync_dagster.resources.shop.client import ShopClient
from finsync_dagster.resources.shop.resource import ShopResource
from finsync_dagster.settings import SANDBOX_FILE, ApiLimits, PairConfig, Settings


class PairClients(SettingsResource):
    """Clients for any configured pair, sharing one ledger.

    It carries the run's settings as :class:`SettingsResource` does (a subclass, not a nested resource:
    Dagster's nested-resource path warns of a deprecation of its own on every run). Outside a run
    (``finsync connect``, tests, benchmarks) it is built the same way, ``PairClients.of(settings)``.
    """

    def freshbooks(
        self, pair: str, *, transport: httpx.BaseTransport | None = None, **overrides: Any
    ) -> FreshBooksClient:
        return self.freshbooks_resource(pair, **overrides).get_client(self.get_ledger(), transport=transport)

    def infor(self, pair: str, *, transport: httpx.BaseTransport | None = None, **overrides: Any) -> M3Client:
        return self.infor_resource(pair, **overrides).get_client(self.get_ledger(), transport=transport)

    def shop(
        self, pair: str, *, transport: httpx.BaseTransport | None = None, **overrides: Any
    ) -> ShopClient:
        return self.shop_resource(pair, **overrides).get_client(transport=transport)

    def has_shop(self, pair: str) -> bool:
        """Whether the pair takes a shop's orders (a ``shop:`` section, declared or from its sandbox)."""
        return self.get().pair(pair).shop is not None

    def get_ledger(self) -> Ledger:
        return self._ledger

    @cached_property
    def _ledger(self) -> Ledger:
        ledger = Ledger(self.get().ledger_url)
        ledger.migrate()
        return ledger

    def freshbooks_resource(self, pair: str, **overrides: Any) -> FreshBooksResource:
        """The pair's FreshBooks resource; ``overrides`` set policy knobs (or anything else)."""
        config = self.get().pair(pair)
        fb = config.freshbooks
        if fb is None:
            raise _no_section(self.get(), config, "freshbooks")
        located: dict[str, Any] = {
            "token_key": config.name,
            "account_id": fb.account_id,
            "business_id": fb.business_id,
            "api_url": fb.api_url,
            "auth_url": fb.auth_url,
            "redirect_uri": fb.redirect_uri,
            "client_id": fb.client_id or dg.EnvVar(fb.client_id_env),
            "client_secret": fb.client_secret or dg.EnvVar(fb.client_secret_env),
        }
        return FreshBooksResource(**{**located, **_limits(config.freshbooks_limits), **overrides})

    def infor_resource(self, pair: str, **overrides: Any) -> InforResource:
        """The pair's Infor resource; ``overrides`` set policy knobs (or anything else)."""
        settings = self.get()
        config = settings.pair(pair)
        infor = config.infor
        if infor is None:
            raise _no_section(settings, config, "infor")
        if not (infor.ionapi_file or infor.ionapi_env):
            raise ConfigError(
                f"{settings.config_path}: pair {config.name!r}: infor needs ionapi_file or ionapi_env"
            )
        located: dict[str, Any] = {
            "token_key": config.name,
            "company": infor.company,
            "division": infor.division,
            "ionapi_file": infor.ionapi_file,
            "ionapi_json": dg.EnvVar(infor.ionapi_env) if infor.ionapi_env else None,
        }
        return InforResource(**{**located, **_limits(config.infor_limits), **overrides})

    def shop_resource(self, pair: str, **overrides: Any) -> ShopResource:
        """The pair's shop resource; ``overrides`` set policy knobs (or anything else)."""
        settings = self.get()
        config = settings.pair(pair)
        shop = config.shop
        if shop is None:
            raise _no_section(settings, config, "shop")
        located: dict[str, Any] = {
            "token_key": config.name,
            "shop_domain": shop.shop_domain,
            "api_version": shop.api_version,
            "api_url": shop.api_url,
            "access_token": shop.access_token or dg.EnvVar(shop.access_token_env),
            "webhook_secret": shop.webhook_secret or dg.EnvVar(shop.webhook_secret_env),
        }
        return ShopResource(**{**located, **_limits(config.shop_limits), **overrides})


def _limits(limits: ApiLimits) -> dict[str, Any]:
    return limits.model_dump(exclude_none=True)


def _no_section(settings: Settings, pair: PairConfig, system: str) -> ConfigError:
    directory = settings.sandbox_path(pair)
    if directory is None:  # PairConfig requires freshbooks and infor without a sandbox_dir; shop is optional
        return ConfigError(f"{settings.config_path}: pair {pair.name!r} has no {system} section")
    path = directory / SANDBOX_FILE
    if not path.exists():
        return ConfigError(f"{path}: not found; start the sandboxes with `finsync sandbox --dir {directory}`")
    return ConfigError(f"{path} has no {system} section; is that sandbox running?")
