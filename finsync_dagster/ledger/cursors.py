"""Sync cursors: where each pair's extraction of each entity resumes, as JSON owned by its extractor."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from finsync_dagster.ledger.engine import utcnow
from finsync_dagster.ledger.schema import sync_cursors


def get_cursor(engine: sa.Engine, pair: str, entity: str) -> dict[str, Any] | None:
    with engine.connect() as connection:
        raw = connection.execute(
            sa.select(sync_cursors.c.cursor).where(
                sync_cursors.c.pair == pair, sync_cursors.c.entity == entity
            )
        ).scalar()
    return None if raw is None else json.loads(raw)


def set_cursor(engine: sa.Engine, pair: str, entity: str, cursor: dict[str, Any]) -> None:
    """Advance a cursor; call only after the rows it covers are committed."""
    values = {"cursor": json.dumps(cursor, sort_keys=True), "updated_at": utcnow()}
    with engine.begin() as connection:
        updated = connection.execute(
            sync_cursors.update()
            .where(sync_cursors.c.pair == pair, sync_cursors.c.entity == entity)
            .values(**values)
        ).rowcount
        if not updated:
            connection.execute(sync_cursors.insert().values(pair=pair, entity=entity, **values))


def clear_cursors(engine: sa.Engine, pair: str) -> None:
    with engine.begin() as connection:
        connection.execute(sync_cursors.delete().where(sync_cursors.c.pair == pair))
