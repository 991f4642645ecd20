"""What a reviewer's decisions do to the ledger, each one audited under their name.

Accepting writes the crosswalk (``origin="confirmed"``, ``created_by`` the reviewer) and remembers the
session, so that session can undo it (unlink). Rejecting and ignoring are remembered so the same pairing
or exception is not offered again. No web here: the page handlers call these.
"""

from __future__ import annotations

from finsync_dagster.ledger import CrosswalkConflictError, Decision, Ledger, Link, Session

_VERB = {Decision.ACCEPTED: "accept", Decision.REJECTED: "reject", Decision.IGNORED: "ignore"}


def _name(entity: str, freshbooks_id: str | None, infor_id: str | None) -> str:
    return f"{entity} FreshBooks {freshbooks_id or '-'} / M3 {infor_id or '-'}"


def _remember(
    ledger: Ledger,
    session: Session,
    decision: Decision,
    *,
    pair: str,
    entity: str,
    freshbooks_id: str | None,
    infor_id: str | None,
    reason: str | None = None,
) -> None:
    """The decision, under the reviewer's name and session, and its audit row."""
    actor = session.user.name
    ledger.decide(
        pair=pair,
        entity=entity,
        freshbooks_id=freshbooks_id,
        infor_id=infor_id,
        decision=decision,
        actor=actor,
        session=session.ref,
        reason=reason,
    )
    ledger.audit(
        pair=pair,
        call=f"review {_VERB[decision]} {_name(entity, freshbooks_id, infor_id)}"[:128],
        outcome=decision.value,
        actor=actor,
        error=reason,
    )


def accept(
    ledger: Ledger, session: Session, *, pair: str, entity: str, freshbooks_id: str, infor_id: str
) -> str | None:
    """Pair the two records in the crosswalk; returns why not (a record already paired elsewhere)."""
    actor = session.user.name
    try:
        ledger.link(pair, Link(entity, freshbooks_id, infor_id), origin="confirmed", by=actor)
    except CrosswalkConflictError as exc:
        ledger.audit(
            pair=pair,
            call=f"review accept {_name(entity, freshbooks_id, infor_id)}"[:128],
            outcome="refused",
            actor=actor,
            error=str(exc),
        )
        return str(exc)
    _remember(
        ledger,
        session,
        Decision.ACCEPTED,
        pair=pair,
        entity=entity,
        freshbooks_id=freshbooks_id,
        infor_id=infor_id,
    )
    return None


def reject(
    ledger: Ledger,
    session: Session,
    *,
    pair: str,
    entity: str,
    freshbooks_id: str,
    infor_id: str,
    reason: str | None = None,
) -> None:
    _remember(
        ledger,
        session,
        Decision.REJECTED,
        pair=pair,
        entity=entity,
        freshbooks_id=freshbooks_id,
        infor_id=infor_id,
        reason=reason,
    )


def ignore(
    ledger: Ledger,
    session: Session,
    *,
    pair: str,
    entity: str,
    freshbooks_id: str | None,
    infor_id: str | None,
    reason: str,
) -> None:
    _remember(
        ledger,
        session,
        Decision.IGNORED,
        pair=pair,
        entity=entity,
        freshbooks_id=freshbooks_id,
        infor_id=infor_id,
        reason=reason,
    )


def undo(ledger: Ledger, session: Session, *, pair: str, decision_id: int) -> str | None:
    """Undo one of this session's decisions (an accept is unlinked); returns why not."""
    decision = ledger.decision(decision_id)
    if decision is None or decision.pair != pair:
        return "no such decision"
    if decision.session != session.ref:
        return "only the session that made a decision can undo it here"
    if not ledger.undo_decision(decision_id, by=session.user.name):
        return "already undone"
    if decision.decision == Decision.ACCEPTED and decision.freshbooks_id and decision.infor_id:
        ledger.unlink(pair, decision.entity, freshbooks_id=decision.freshbooks_id, infor_id=decision.infor_id)
    ledger.audit(
        pair=pair,
        call=f"review undo {decision.decision} {_name(decision.entity, decision.freshbooks_id, decision.infor_id)}"[
            :128
        ],
        outcome="undone",
        actor=session.user.name,
    )
    return None
