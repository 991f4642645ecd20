"""What each alert last was, and what people were last told about it: one notification per change.

A row per (rule, subject). ``firing`` and ``since`` follow the condition; ``notified`` is the state people
were last told (``firing`` or ``ok``). A notification is due while the two disagree, so a delivery that
failed is tried again on the next check, and one that succeeded is never sent twice for the same change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from finsync_dagster.ledger.engine import aware, utcnow
from finsync_dagster.ledger.schema import alert_state


@dataclass(frozen=True)
class AlertState:
    rule: str
    subject: str
    firing: bool
    since: datetime
    summary: str | None = None
    notified: str | None = None
    notified_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.rule, self.subject)


def load(engine: sa.Engine) -> dict[tuple[str, str], AlertState]:
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as connection:
        rows = connection.execute(sa.select(alert_state)).all()
    return {
        (row.rule, row.subject): AlertState(
            rule=row.rule,
            subject=row.subject,
            firing=bool(row.firing),
            since=aware(row.since) or utcnow(),
            summary=row.summary,
            notified=row.notified,
            notified_at=aware(row.notified_at),
        )
        for row in rows
    }


def save(engine: sa.Engine, states: Sequence[AlertState]) -> None:
    """Write the conditions' new states (``notified`` is left as it is: :func:`mark_notified` owns it)."""
    now = utcnow()
    with engine.begin() as connection:
        for state in states:
            values = {
                "firing": state.firing,
                "since": state.since,
                "summary": state.summary,
                "updated_at": now,
            }
            key = (alert_state.c.rule == state.rule) & (alert_state.c.subject == state.subject)
            if not connection.execute(alert_state.update().where(key).values(**values)).rowcount:
                connection.execute(
                    alert_state.insert().values(
                        rule=state.rule, subject=state.subject, notified=None, **values
                    )
                )


def mark_notified(
    engine: sa.Engine, rule: str, subject: str, *, told: str, at: datetime | None = None
) -> None:
    with engine.begin() as connection:
        connection.execute(
            alert_state.update()
            .where(alert_state.c.rule == rule, alert_state.c.subject == subject)
            .values(notified=told, notified_at=at or utcnow())
        )
