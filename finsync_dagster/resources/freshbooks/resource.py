"""FreshBooks as a Dagster resource: configuration plus a factory for :class:`FreshBooksClient`.

Config only: where the account is and the app's credentials (``dg.EnvVar``, never shown in the repr).
Tokens live in the ledger's token store under ``token_key`` (the pair's name), put there by ``finsync
connect freshbooks``; ``get_client(ledger)`` reads them from the ledger it is handed. A pair from
``finsync.yaml`` becomes this resource in :class:`~finsync_dagster.resources.pair_clients.PairClients`.
"""

from __future__ import annotations

import httpx
from pydantic import Field

from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.client_resource import ClientResource, resolve_secret
from finsync_dagster.resources.freshbooks.client import FreshBooksClient
from finsync_dagster.resources.freshbooks.oauth import OAuthApp
from finsync_dagster.resources.freshbooks.tokens import PROVIDER, TokenKeeper
from finsync_dagster.resources.token_store import TokenStore

# FreshBooks publishes no limit (contract §6); integrators quote ~5 requests/s. A pair can raise it.
DEFAULT_REQUESTS_PER_MINUTE = 300


class FreshBooksResource(ClientResource):
    """One FreshBooks account: where it is, the app's credentials, and the HTTP policy to reach it.

    Example::

        FreshBooksResource(account_id="ABC123", token_key="acme", redirect_uri="https://...",
                           client_id=dg.EnvVar("ACME_FB_ID"), client_secret=dg.EnvVar("ACME_FB_SECRET"))
    """

    account_id: str
    redirect_uri: str
    client_id: str
    client_secret: str = Field(repr=False, description="Pass dg.EnvVar('NAME'), never a literal.")
    api_url: str = "https://api.freshbooks.com"
    auth_url: str = "https://auth.freshbooks.com"
    business_id: int | None = None
    requests_per_minute: int | None = Field(default=DEFAULT_REQUESTS_PER_MINUTE, ge=1)
    refresh_margin_seconds: float = 300.0

    def oauth_app(self) -> OAuthApp:
        return OAuthApp(
            client_id=resolve_secret(self.client_id, "FreshBooks client_id"),
            client_secret=resolve_secret(self.client_secret, "FreshBooks client_secret"),
            redirect_uri=self.redirect_uri,
            api_url=self.api_url,
            auth_url=self.auth_url,
        )

    def token_keeper(self, ledger: Ledger, *, transport: httpx.BaseTransport | None = None) -> TokenKeeper:
        return TokenKeeper(
            TokenStore(ledger, provider=PROVIDER, key=self.token_key),
            self.oauth_app(),
            refresh_margin=self.refresh_margin_seconds,
            policy=self.policy(),
            transport=transport,
        )

    def get_client(self, ledger: Ledger, *, transport: httpx.BaseTransport | None = None) -> FreshBooksClient:
        """A client for this account; use it as a context manager so its connections are closed."""
        return FreshBooksClient(
            api_url=self.api_url,
            account_id=self.account_id,
            tokens=self.token_keeper(ledger, transport=transport),
            policy=self.policy(),
            transport=transport,
        )
