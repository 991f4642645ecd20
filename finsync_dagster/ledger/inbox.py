"""The webhook inbox: every delivery the receiver accepted, committed before it answered 200.

A delivery is a prompt to re-fetch an object ("invoice 123 changed"), never the object itself: FreshBooks
sends no payload, and a Shopify payload may be stale by the time it arrives. The inbox sensor reads rows
past its cursor (``read_after``), asks for runs that re-fetch the objects, and marks the rows processed.

**Ids as a cursor.** Ids are never reused (AUTOINCREMENT on SQLite) and become visible in increasing
order: ``add_many`` writes a batch in one transaction, and on PostgreSQL it holds the table's EXCLUSIVE
lock while doing so (SQLite's write lock already serialises writers). A reader that has seen id N never
later finds a new row below N, so "the last id read" is a cursor that misses nothing.

**Dedupe keys** (``dedupe_key`` is UNIQUE; an insert that collides is a duplicate and stores nothing):

- FreshBooks callbacks carry no event id and no timestamp (contract §5.3). The key is a hash of the
  ordered fields ``name, object_id, account_id, business_id, identity_id, user_id``. The window within
  which an identical callback is a duplicate is *while the earlier one waits*: ``mark_processed`` releases
  a FreshBooks key (it appends ``#<id>``), so once the run that re-fetches the object has been asked for,
  a new prompt for that object is stored again. Two identical prompts while the first still waits are one
  (the re-fetch reads the current state, whatever happened in between); a change made after the fetch
  was planned is never folded into a prompt already handled. A FreshBooks retry that arrives after that
  costs one extra re-fetch, which is harmless.
- Shopify deliveries carry ``X-Shopify-Event-Id`` (one per merchant action, shared by retries and by
  every subscription to the topic) and ``X-Shopify-Webhook-Id`` (one per delivery). The key is the topic
  with the event id (the webhook id when there is none), kept for ever: a Shopify retry repeats the
  original payload, so it is never news.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from finsync_dagster.ledger.engine import aware
from finsync_dagster.ledger.schema import inbox

FRESHBOOKS_KEY_FIELDS = ("name", "object_id", "account_id", "business_id", "identity_id", "user_id")
SYSTEMS = ("freshbooks", "shop")
_RELEASED = "#"


@dataclass(frozen=True)
class Delivery:
    """One accepted delivery, as the receiver hands it to the inbox."""

    pair: str
    system: str
    event: str
    object_id: str | None
    account_id: str | None
    business_id: str | None
    dedupe_key: str
    body: str
    received_at: datetime


@dataclass(frozen=True)
class InboxRow:
    """A stored delivery. ``id`` is the sensor's cursor; ``processed_*`` say which run took it."""

    id: int
    pair: str
    system: str
    event: str
    object_id: str | None
    account_id: str | None
    business_id: str | None
    dedupe_key: str
    body: str
    received_at: datetime
    processed_at: datetime | None
    processed_run: str | None


@dataclass(frozen=True)
class Backlog:
    """What waits to be processed: how many prompts, and since when."""

    pending: int
    oldest_received_at: datetime | None


def freshbooks_key(fields: Mapping[str, str]) -> str:
    """The dedupe key of a FreshBooks callback: a hash of its ordered identifying fields."""
    values = [str(fields.get(name, "")) for name in FRESHBOOKS_KEY_FIELDS]
    digest = hashlib.sha256(json.dumps(values, ensure_ascii=True).encode("ascii")).hexdigest()
    return f"freshbooks:{digest}"


def shop_key(topic: str, event_id: str) -> str:
    """The dedupe key of a Shopify delivery: its topic and event id (or webhook id)."""
    digest = hashlib.sha256(f"{topic}\x00{event_id}".encode()).hexdigest()
    return f"shop:{digest}"


def add_many(engine: sa.Engine, deliveries: Sequence[Delivery]) -> list[bool]:
    """Store ``deliveries`` in one transaction; for each, True if stored, False if it was a duplicate.

    The transaction is committed when this returns: the receiver answers only then.
    """
    if not deliveries:
        return []
    first: dict[str, int] = {}
    for index, delivery in enumerate(deliveries):
        first.setdefault(delivery.dedupe_key, index)
    rows = [_values(deliveries[index]) for index in sorted(first.values())]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Ids are handed out at insert and become visible at commit: one writer at a time keeps the
            # two orders the same, so a cursor over ids misses nothing (module docstring).
            connection.execute(sa.text("LOCK TABLE inbox IN EXCLUSIVE MODE"))
        stored = set(connection.execute(_insert_new(connection), rows).scalars())
    return [d.dedupe_key in stored and first[d.dedupe_key] == i for i, d in enumerate(deliveries)]


def read_after(
    engine: sa.Engine, after_id: int, *, limit: int = 500, pair: str | None = None
) -> list[InboxRow]:
    """Rows with an id above ``after_id``, oldest first, at most ``limit``."""
    query = sa.select(inbox).where(inbox.c.id > after_id).order_by(inbox.c.id).limit(limit)
    if pair is not None:
        query = query.where(inbox.c.pair == pair)
    with _reading(engine) as connection:
        return [_row(row) for row in connection.execute(query)]


def mark_processed(engine: sa.Engine, ids: Iterable[int], *, run: str, at: datetime) -> int:
    """Mark rows as taken by ``run`` and release their FreshBooks keys; returns how many were still waiting.

    Call it when the run that re-fetches the objects is requested, before it fetches (module docstring).
    """
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    released = sa.case(
        (inbox.c.system == "freshbooks", inbox.c.dedupe_key + _RELEASED + sa.cast(inbox.c.id, sa.String)),
        else_=inbox.c.dedupe_key,
    )
    count = 0
    with engine.begin() as connection:
        for chunk in _chunks(wanted, 500):
            count += connection.execute(
                inbox.update()
                .where(inbox.c.id.in_(chunk), inbox.c.processed_at.is_(None))
                .values(processed_at=at.astimezone(UTC), processed_run=run, dedupe_key=released)
            ).rowcount
    return count


def backlog(engine: sa.Engine, *, pair: str | None = None) -> Backlog:
    query = sa.select(sa.func.count(), sa.func.min(inbox.c.received_at)).where(inbox.c.processed_at.is_(None))
    if pair is not None:
        query = query.where(inbox.c.pair == pair)
    with _reading(engine) as connection:
        pending, oldest = connection.execute(query).one()
    return Backlog(pending=int(pending), oldest_received_at=aware(oldest))


def _insert_new(connection: sa.Connection) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return (
        dialect.insert(inbox)
        .on_conflict_do_nothing(index_elements=[inbox.c.dedupe_key])
        .returning(inbox.c.dedupe_key)
    )


def _values(delivery: Delivery) -> dict[str, Any]:
    return {
        "pair": delivery.pair,
        "system": delivery.system,
        "event": delivery.event,
        "object_id": delivery.object_id,
        "account_id": delivery.account_id,
        "business_id": delivery.business_id,
        "dedupe_key": delivery.dedupe_key,
        "body": delivery.body,
        "received_at": delivery.received_at.astimezone(UTC),
    }


def _row(row: Any) -> InboxRow:
    return InboxRow(
        id=row.id,
        pair=row.pair,
        system=row.system,
        event=row.event,
        object_id=row.object_id,
        account_id=row.account_id,
        business_id=row.business_id,
        dedupe_key=row.dedupe_key,
        body=row.body,
        received_at=aware(row.received_at) or row.received_at,
        processed_at=aware(row.processed_at),
        processed_run=row.processed_run,
    )


def _reading(engine: sa.Engine) -> sa.Connection:
    """Reads do not wait for the write lock (WAL readers never do)."""
    return engine.connect().execution_options(sqlite_begin="DEFERRED")


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
