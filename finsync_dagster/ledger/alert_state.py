"""What each alert last was, and what each channel was last told about it: one notification per change.

A row per (rule, subject). ``firing`` and ``since`` follow the condition; ``notified`` maps each channel
(``slack``, ``email``) to the state it was last told (``firing`` or ``ok``). A notification is due on a
channel while the two disagree, so a delivery that failed is tried again on the next check, and one that
succeeded is never sent twice for the same change, whatever the other channel did.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    notified: dict[str, str] = field(default_factory=dict)

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
            notified=json.loads(row.notified) if row.notified else {},
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
                    alert_state.insert().values(rule=state.rule, subject=state.subject, **values)
                )


def mark_notified(engine: sa.Engine, rule: str, subject: str, *, channel: str, told: str) -> None:
    """Record that ``channel`` was told ``told`` (firing or ok); read and written in one transaction."""
    key = (alert_state.c.rule == rule) & (alert_state.c.subject == subject)
    with engine.begin() as connection:
        raw = connection.execute(sa.select(alert_state.c.notified).where(key)).scalar()
        notified = json.loads(raw) if raw else {}
        notified[channel] = told
        connection.execute(
            alert_state.update()
            .where(key)
            .values(notified=json.dumps(notified, sort_keys=True), notified_at=utcnow())
        )
