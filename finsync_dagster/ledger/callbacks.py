"""Webhook subscriptions finsync registered, and the secrets that sign their deliveries.

``finsync webhooks register`` records each callback it creates (unverified, without a secret). A FreshBooks
callback becomes verified only when the receiver completes the handshake for it: the verifier FreshBooks
posted was accepted by FreshBooks' verify call, and only then is it stored (sealed with the ledger's
:class:`~finsync_dagster.ledger.sealing.TokenCipher`) as the HMAC key of that callback's deliveries. The
receiver accepts a handshake only for a callback recorded here and still unverified, so nobody who merely
knows the URL can push a verifier of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from finsync_dagster.ledger.engine import aware, utcnow
from finsync_dagster.ledger.schema import webhook_callbacks
from finsync_dagster.ledger.sealing import TokenCipher


@dataclass(frozen=True)
class WebhookCallback:
    """A registered subscription. ``secret`` (the verifier) is None until the handshake completed."""

    pair: str
    system: str
    callback_id: str
    event: str
    url: str
    verified: bool
    created_at: datetime
    verified_at: datetime | None
    secret: str | None = field(default=None, repr=False)


def record_callback(
    engine: sa.Engine, *, pair: str, system: str, callback_id: str, event: str, url: str
) -> WebhookCallback | None:
    """Record a subscription the provider just created; None if it was already recorded (nothing changes).

    A callback already recorded for another URL is a new subscription as far as FreshBooks is concerned
    (a new URL needs a new handshake), so it is recorded again, unverified and without a secret.
    """
    key = _key(pair, system, callback_id)
    now = utcnow()
    with engine.begin() as connection:
        row = connection.execute(sa.select(webhook_callbacks).where(key)).first()
        if row is not None and row.url == url and row.event == event:
            return None
        values = {"event": event, "url": url, "verified": False, "secret": None, "verified_at": None}
        if row is None:
            connection.execute(
                webhook_callbacks.insert().values(
                    pair=pair, system=system, callback_id=callback_id, created_at=now, **values
                )
            )
        else:
            connection.execute(webhook_callbacks.update().where(key).values(**values))
    return WebhookCallback(pair, system, callback_id, event, url, False, now, None)


def list_callbacks(
    engine: sa.Engine, cipher: TokenCipher, *, pair: str | None = None, system: str | None = None
) -> list[WebhookCallback]:
    query = sa.select(webhook_callbacks).order_by(
        webhook_callbacks.c.pair, webhook_callbacks.c.system, webhook_callbacks.c.event
    )
    if pair is not None:
        query = query.where(webhook_callbacks.c.pair == pair)
    if system is not None:
        query = query.where(webhook_callbacks.c.system == system)
    with _reading(engine) as connection:
        return [_from_row(row, cipher) for row in connection.execute(query)]


def get_callback(
    engine: sa.Engine, cipher: TokenCipher, pair: str, system: str, callback_id: str
) -> WebhookCallback | None:
    with _reading(engine) as connection:
        row = connection.execute(sa.select(webhook_callbacks).where(_key(pair, system, callback_id))).first()
    return None if row is None else _from_row(row, cipher)


def mark_verified(
    engine: sa.Engine, cipher: TokenCipher, *, pair: str, system: str, callback_id: str, secret: str
) -> bool:
    """Store the secret of a recorded, unverified callback and mark it verified; False if there is none.

    Call it only after the provider accepted the secret (FreshBooks' verify call answered 200).
    """
    with engine.begin() as connection:
        updated = connection.execute(
            webhook_callbacks.update()
            .where(_key(pair, system, callback_id), webhook_callbacks.c.verified.is_(False))
            .values(verified=True, secret=cipher.seal(secret), verified_at=utcnow())
        ).rowcount
    return bool(updated)


def forget_callback(engine: sa.Engine, *, pair: str, system: str, callback_id: str) -> None:
    with engine.begin() as connection:
        connection.execute(webhook_callbacks.delete().where(_key(pair, system, callback_id)))


def _key(pair: str, system: str, callback_id: str) -> sa.ColumnElement[bool]:
    return (
        (webhook_callbacks.c.pair == pair)
        & (webhook_callbacks.c.system == system)
        & (webhook_callbacks.c.callback_id == callback_id)
    )


def _from_row(row: Any, cipher: TokenCipher) -> WebhookCallback:
    what = f"the {row.system} webhook secret of pair {row.pair!r} (callback {row.callback_id})"
    return WebhookCallback(
        pair=row.pair,
        system=row.system,
        callback_id=row.callback_id,
        event=row.event,
        url=row.url,
        verified=bool(row.verified),
        created_at=aware(row.created_at) or row.created_at,
        verified_at=aware(row.verified_at),
        secret=cipher.open(row.secret, what=what),
    )


def _reading(engine: sa.Engine) -> sa.Connection:
    return engine.connect().execution_options(sqlite_begin="DEFERRED")
