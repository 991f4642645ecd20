"""FreshBooks as a Dagster resource: configuration plus a factory for :class:`FreshBooksClient`.

Secrets come through ``dg.EnvVar`` and never show in the resource's repr. A pair from ``finsync.yaml``
becomes a resource with :meth:`FreshBooksResource.for_pair`: either its ``freshbooks:`` section (which
names the environment variables holding the app's secrets), or the ``freshbooks`` section of its sandbox
directory's ``sandbox.json``. Tokens live in the ledger, keyed by ``token_key`` (the pair's name), and are
put there by ``finsync connect freshbooks``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any

import dagster as dg
import httpx

from finsync_dagster.errors import ConfigError
from finsync_dagster.ledger import Ledger, masked_url
from finsync_dagster.resources.freshbooks.client import FreshBooksClient, quota_limiter
from finsync_dagster.resources.freshbooks.oauth import OAuthApp
from finsync_dagster.resources.freshbooks.tokens import TokenKeeper
from finsync_dagster.resources.http_policy import HttpPolicy
from finsync_dagster.settings import Settings, read_sandbox_file

_SECRET_FIELDS = frozenset({"client_secret"})
# FreshBooks publishes no limit (contract §6); integrators quote ~5 requests/s. A pair can raise it.
DEFAULT_REQUESTS_PER_MINUTE = 300


class FreshBooksResource(dg.ConfigurableResource):
    """One FreshBooks account: where it is, the app's credentials, and the HTTP policy to reach it."""

    account_id: str
    redirect_uri: str
    client_id: str
    client_secret: str
    ledger_url: str
    token_key: str
    api_url: str = "https://api.freshbooks.com"
    auth_url: str = "https://auth.freshbooks.com"
    business_id: int | None = None
    requests_per_minute: int | None = DEFAULT_REQUESTS_PER_MINUTE
    max_concurrency: int = 8
    max_attempts: int = 6
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    refresh_margin_seconds: float = 300.0

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name in _SECRET_FIELDS:
                value = "***"
            elif name == "ledger_url" and isinstance(value, str):
                value = masked_url(value)  # a PostgreSQL ledger URL carries its password
            yield name, value

    @classmethod
    def for_pair(cls, settings: Settings, pair_name: str, **overrides: Any) -> FreshBooksResource:
        """The resource for one integration pair; ``overrides`` set policy knobs (or anything else)."""
        pair = settings.pair(pair_name)
        common = {"ledger_url": settings.ledger_url, "token_key": pair.name}
        if pair.freshbooks is not None:
            fb = pair.freshbooks
            config: dict[str, Any] = {
                "account_id": fb.account_id,
                "business_id": fb.business_id,
                "api_url": fb.api_url,
                "auth_url": fb.auth_url,
                "redirect_uri": fb.redirect_uri,
                "client_id": dg.EnvVar(fb.client_id_env),
                "client_secret": dg.EnvVar(fb.client_secret_env),
            }
        else:
            directory = settings.sandbox_path(pair)
            assert directory is not None  # PairConfig requires one of the two
            section = read_sandbox_file(directory).get("freshbooks")
            if not section:
                raise ConfigError(
                    f"{directory}/sandbox.json has no freshbooks section; is that sandbox running?"
                )
            keys = (
                "api_url",
                "auth_url",
                "client_id",
                "client_secret",
                "redirect_uri",
                "account_id",
                "business_id",
            )
            config = {key: section.get(key) for key in keys}
        return cls(**{**common, **config, **overrides})

    def policy(self) -> HttpPolicy:
        return HttpPolicy(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_attempts=self.max_attempts,
            max_concurrency=self.max_concurrency,
        )

    def oauth_app(self) -> OAuthApp:
        return OAuthApp(
            client_id=_resolve(self.client_id, "client_id"),
            client_secret=_resolve(self.client_secret, "client_secret"),
            redirect_uri=self.redirect_uri,
            api_url=self.api_url,
            auth_url=self.auth_url,
        )

    def token_keeper(self, *, transport: httpx.BaseTransport | None = None) -> TokenKeeper:
        return TokenKeeper(
            self._ledger,
            self.token_key,
            self.oauth_app(),
            refresh_margin=self.refresh_margin_seconds,
            policy=self.policy(),
            transport=transport,
        )

    def get_client(self, *, transport: httpx.BaseTransport | None = None) -> FreshBooksClient:
        """A client for this account; use it as a context manager so its connections are closed."""
        return FreshBooksClient(
            api_url=self.api_url,
            account_id=self.account_id,
            tokens=self.token_keeper(transport=transport),
            policy=self.policy(),
            limiter=quota_limiter(self.requests_per_minute),
            transport=transport,
        )

    def ledger(self) -> Ledger:
        """The ledger holding this account's tokens (migrated on first use)."""
        return self._ledger

    @cached_property
    def _ledger(self) -> Ledger:
        ledger = Ledger(self.ledger_url)
        ledger.migrate()
        return ledger


def _resolve(value: str, name: str) -> str:
    """A resource built outside a Dagster run still holds ``EnvVar`` objects; read them at use."""
    if isinstance(value, dg.EnvVar):
        resolved = value.get_value()
        if not resolved:
            raise ConfigError(f"FreshBooks {name}: environment variable {value.env_var_name} is not set")
        return resolved
    if not value:
        raise ConfigError(f"FreshBooks {name} is empty")
    return value
