"""What people decided about reconciliation results in the console: rejected pairings, ignored exceptions.

An accepted pairing lives in the crosswalk (``outbox.link``, origin ``confirmed``); it is also recorded
here, with the session that made it, so that session can undo it. A rejection is kept so the same pairing
is not offered again; an ignored exception keeps its reason, and the report marks it. A decision is never
deleted: undoing it stamps ``undone_at``, so the history stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa

from finsync_dagster.ledger.engine import aware, utcnow
from finsync_dagster.ledger.schema import review_decisions


class Decision(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IGNORED = "ignored"


@dataclass(frozen=True)
class ReviewDecision:
    id: int
    pair: str
    entity: str
    freshbooks_id: str | None
    infor_id: str | None
    decision: Decision
    reason: str | None
    actor: str
    session: str | None
    at: datetime
    undone_at: datetime | None


def _decision(row: sa.Row[tuple[object, ...]]) -> ReviewDecision:
    m = row._mapping
    return ReviewDecision(
        id=m["id"],
        pair=m["pair"],
        entity=m["entity"],
        freshbooks_id=m["freshbooks_id"] or None,
        infor_id=m["infor_id"] or None,
        decision=Decision(m["decision"]),
        reason=m["reason"],
        actor=m["actor"],
        session=m["session"],
        at=aware(m["at"]) or utcnow(),
        undone_at=aware(m["undone_at"]),
    )


def decide(
    engine: sa.Engine,
    *,
    pair: str,
    entity: str,
    freshbooks_id: str | None,
    infor_id: str | None,
    decision: Decision,
    actor: str,
    session: str | None = None,
    reason: str | None = None,
) -> int:
    """Record a decision; returns its id (what undo names)."""
    with engine.begin() as connection:
        result = connection.execute(
            review_decisions.insert().values(
                pair=pair,
                entity=entity,
                freshbooks_id=freshbooks_id or "",
                infor_id=infor_id or "",
                decision=Decision(decision),
                reason=reason,
                actor=actor,
                session=session,
                at=utcnow(),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def decisions(
    engine: sa.Engine,
    pair: str,
    *,
    session: str | None = None,
    include_undone: bool = False,
    kinds: tuple[Decision, ...] | None = None,
) -> list[ReviewDecision]:
    """A pair's decisions, newest first; only one session's with ``session``."""
    query = (
        sa.select(review_decisions)
        .where(review_decisions.c.pair == pair)
        .order_by(review_decisions.c.id.desc())
    )
    if session is not None:
        query = query.where(review_decisions.c.session == session)
    if not include_undone:
        query = query.where(review_decisions.c.undone_at.is_(None))
    if kinds:
        query = query.where(review_decisions.c.decision.in_([str(k) for k in kinds]))
    with engine.connect() as connection:
        return [_decision(row) for row in connection.execute(query)]


def get_decision(engine: sa.Engine, decision_id: int) -> ReviewDecision | None:
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(review_decisions).where(review_decisions.c.id == decision_id)
        ).first()
    return None if row is None else _decision(row)


def undo_decision(engine: sa.Engine, decision_id: int, *, by: str) -> bool:
    """Mark a decision undone; False if it already was (undoing twice has one effect)."""
    with engine.begin() as connection:
        return bool(
            connection.execute(
                review_decisions.update()
                .where(review_decisions.c.id == decision_id, review_decisions.c.undone_at.is_(None))
                .values(undone_at=utcnow(), undone_by=by)
            ).rowcount
        )
