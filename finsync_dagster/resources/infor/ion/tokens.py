"""ION gateway tokens in the shared :class:`~finsync_dagster.resources.token_store.TokenStore`.

The session works on authlib's ``OAuth2Token`` (epoch ``expires_at``); the store holds the ledger's
``StoredToken`` (UTC datetimes). These two functions are the only crossing between them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from finsync_dagster.resources.oauth_http import OAuth2Token
from finsync_dagster.resources.token_store import TokenStore

PROVIDER = "infor"


def load_token(store: TokenStore) -> OAuth2Token | None:
    stored = store.load()
    if stored is None:
        return None
    token: dict[str, Any] = {"access_token": stored.access_token, "token_type": "Bearer"}
    if stored.refresh_token:
        token["refresh_token"] = stored.refresh_token
    if stored.expires_at is not None:
        token["expires_at"] = int(stored.expires_at.timestamp())
    return OAuth2Token(token)


def save_token(store: TokenStore, token: OAuth2Token) -> None:
    expires_at = token.get("expires_at")
    store.save(
        access_token=token["access_token"],
        refresh_token=token.get("refresh_token"),
        expires_at=datetime.fromtimestamp(expires_at, UTC) if expires_at else None,
        scope=token.get("scope"),
    )
