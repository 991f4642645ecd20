"""The outbox: every write finsync plans for FreshBooks or M3, claimed with a lease and a fence, done once.

The state machine (``State``)::

    planned ──claim──> sending ──> done                      (crosswalk written in the same transaction)
       ^                  │ ├────> retry_wait ──due──> (claimable again: not applied, resend is safe)
       │                  │ ├────> in_doubt ───due──> (claimable again: looked up before anything is resent)
    blocked <─────────────┘ ├────> dead               (a dead letter; `dlq retry` plans it again)
       (a dependency not     └────> cancelled          (superseded by a newer version, or resolved by a person)
        done, or a condition
        in the target)

Claims bump ``fence``; every later write of the claimer names the fence it holds, and a stale one changes
nothing, so a stalled worker that wakes after its action was taken over cannot complete it a second time.
A claim whose holder is gone is taken over at once when the holder is a dead process of this host
(``holders``); a holder alive on this host keeps its claim until ``hang_seconds`` past its lease (a
stopped process comes back and carries on, rather than racing its successor); a holder on another host
keeps it until its lease lapses. An action taken over from ``sending`` is in doubt: the new holder finds
out what the previous one did (its progress and the audit log, then a lookup in the target) before it
sends anything.

Creates are keyed by (pair, action, source id): one record in the target per source record, whatever its
version. Updates are keyed by version as well, and a newer version supersedes an older one not yet sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from finsync_dagster.ledger.engine import aware, utcnow
from finsync_dagster.ledger.holders import holder_is_dead, holder_is_here
from finsync_dagster.ledger.schema import audit_log, crosswalk, dead_letters, outbox
from finsync_dagster.masking import mask_secrets


class State(StrEnum):
    PLANNED = "planned"
    SENDING = "sending"
    DONE = "done"
    RETRY_WAIT = "retry_wait"
    IN_DOUBT = "in_doubt"
    BLOCKED = "blocked"
    DEAD = "dead"
    CANCELLED = "cancelled"


# The payload key that marks a payload a person edited (``dlq retry`` with a payload): planning keeps it.
EDITED = "_edited_by"
OPEN_STATES = (State.PLANNED, State.SENDING, State.RETRY_WAIT, State.IN_DOUBT, State.BLOCKED)
# A dead action is not open (nothing will happen to it by itself) but not finished either.
FINISHED_STATES = (State.DONE, State.CANCELLED)


def action_key(pair: str, action: str, source_id: str, version: str = "") -> str:
    """The deterministic key of an action: 20 characters of base32, short enough to stamp into M3."""
    digest = hashlib.sha256("\x1f".join((pair, action, source_id, version)).encode()).digest()
    return base64.b32encode(digest).decode("ascii")[:20].lower()


@dataclass(frozen=True)
class PlannedAction:
    """A write the planner wants done; ``versioned`` is False for creates (one per source record)."""

    pair: str
    action: str
    target: str
    entity: str
    source_system: str
    source_id: str
    source_version: str
    payload: dict[str, Any]
    stamp: str | None = None
    depends_on: str | None = None
    versioned: bool = False

    @property
    def key(self) -> str:
        return action_key(
            self.pair, self.action, self.source_id, self.source_version if self.versioned else ""
        )


@dataclass(frozen=True)
class Action:
    """An outbox row as read back. ``resumed``: claimed from in_doubt or from a holder that left, so the
    previous attempt may have been applied and must be looked up first."""

    id: int
    key: str
    pair: str
    action: str
    target: str
    entity: str
    source_system: str
    source_id: str
    source_version: str
    stamp: str | None
    payload: dict[str, Any]
    depends_on: str | None
    state: State
    attempts: int
    fence: int
    progress: dict[str, Any]
    target_id: str | None
    last_error: str | None
    last_error_class: str | None
    next_attempt_at: datetime | None
    lease_owner: str | None
    planned_at: datetime
    updated_at: datetime
    done_at: datetime | None
    resumed: bool = False


@dataclass(frozen=True)
class Link:
    """One crosswalk entry: a FreshBooks record and the M3 record that is the same thing."""

    entity: str
    freshbooks_id: str
    infor_id: str


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended; :func:`finish` applies it in one transaction."""

    state: State
    target_id: str | None = None
    links: tuple[Link, ...] = ()
    error: str | None = None
    error_class: str | None = None
    error_code: str | None = None
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    next_attempt_at: datetime | None = None
    counts_as_attempt: bool = True

    @classmethod
    def done(cls, target_id: str | None, *links: Link) -> Outcome:
        return cls(State.DONE, target_id=target_id, links=links)


@dataclass(frozen=True)
class Call:
    """One external call, for the audit log. ``outcome``: applied (the target changed), found (a lookup
    found what an earlier attempt applied), absent (a lookup found nothing), refused, failed, in_doubt."""

    call: str
    outcome: str
    step: str | None = None
    target_id: str | None = None
    error: str | None = None
    latency_ms: int | None = None


@dataclass
class PlanResult:
    added: list[str] = field(default_factory=list)
    replanned: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    unchanged: int = 0
    superseded: int = 0


def _from_row(row: Any, *, resumed: bool = False) -> Action:
    return Action(
        id=row.id,
        key=row.key,
        pair=row.pair,
        action=row.action,
        target=row.target,
        entity=row.entity,
        source_system=row.source_system,
        source_id=row.source_id,
        source_version=row.source_version,
        stamp=row.stamp,
        payload=json.loads(row.payload),
        depends_on=row.depends_on,
        state=State(row.state),
        attempts=row.attempts,
        fence=row.fence,
        progress=json.loads(row.progress) if row.progress else {},
        target_id=row.target_id,
        last_error=row.last_error,
        last_error_class=row.last_error_class,
        next_attempt_at=aware(row.next_attempt_at),
        lease_owner=row.lease_owner,
        planned_at=aware(row.planned_at) or utcnow(),
        updated_at=aware(row.updated_at) or utcnow(),
        done_at=aware(row.done_at),
        resumed=resumed,
    )


def _reading(engine: sa.Engine) -> sa.Connection:
    return engine.connect().execution_options(sqlite_begin="DEFERRED")


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# -- planning ------------------------------------------------------------------------------------------


def plan(engine: sa.Engine, actions: Sequence[PlannedAction], *, planned_by: str | None = None) -> PlanResult:
    """Insert the actions not planned yet, in one transaction; planning the same actions again adds nothing.

    An action whose key exists is left alone, except: a dead create whose source has a newer version is
    planned again with the new payload (its dead letter resolved as superseded); an action not sent yet
    takes the payload planned now (so a fixed mapping reaches a retried dead letter). A newer version of
    an update cancels an older one that has not been sent, and waits for one that is being sent.
    """
    result = PlanResult()
    if not actions:
        return result
    now = utcnow()
    with engine.begin() as connection:
        existing = _rows_by_key(connection, [a.key for a in actions])
        for item in actions:
            row = existing.get(item.key)
            if row is not None:
                if row.state == State.DEAD and row.source_version != item.source_version:
                    _replan(connection, row, item, now)
                    result.replanned.append(item.key)
                elif _refreshable(row, item):
                    _refresh(connection, row, item, now)
                    result.refreshed.append(item.key)
                else:
                    result.unchanged += 1
                continue
            depends_on = item.depends_on
            if item.versioned:
                cancelled, in_flight = _supersede(connection, item, now)
                result.superseded += cancelled
                depends_on = depends_on or in_flight
            state = State.PLANNED
            if depends_on is not None and _state_of(connection, depends_on) != State.DONE:
                state = State.BLOCKED
            connection.execute(
                outbox.insert().values(
                    key=item.key,
                    pair=item.pair,
                    action=item.action,
                    target=item.target,
                    entity=item.entity,
                    source_system=item.source_system,
                    source_id=item.source_id,
                    source_version=item.source_version,
                    stamp=item.stamp,
                    payload=_dump(item.payload),
                    depends_on=depends_on,
                    state=state,
                    attempts=0,
                    fence=0,
                    planned_by=planned_by,
                    planned_at=now,
                    updated_at=now,
                )
            )
            existing[item.key] = None
            result.added.append(item.key)
    return result


def _rows_by_key(connection: sa.Connection, keys: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for row in connection.execute(sa.select(outbox).where(outbox.c.key.in_(chunk))):
            found[row.key] = row
    return found


def _state_of(connection: sa.Connection, key: str) -> str | None:
    return connection.execute(sa.select(outbox.c.state).where(outbox.c.key == key)).scalar()


def _replan(connection: sa.Connection, row: Any, item: PlannedAction, now: datetime) -> None:
    connection.execute(
        outbox.update()
        .where(outbox.c.key == row.key, outbox.c.state == State.DEAD)
        .values(
            state=State.PLANNED,
            source_version=item.source_version,
            payload=_dump(item.payload),
            stamp=item.stamp,
            attempts=0,
            next_attempt_at=None,
            last_error=None,
            last_error_class=None,
            updated_at=now,
        )
    )
    _close_dead_letters(
        connection, row.key, resolution="superseded", reason="planned again from a newer version"
    )


def _refreshable(row: Any, item: PlannedAction) -> bool:
    """Whether an action not sent yet should carry the payload planned now (the mapping changed).

    Only before anything of it may have reached the target: no progress, and not in doubt or sending; a
    payload a person edited (``dlq retry`` with a payload) is theirs and stays.
    """
    if row.state not in (State.PLANNED, State.BLOCKED, State.RETRY_WAIT) or row.progress:
        return False
    current = json.loads(row.payload)
    return EDITED not in current and current != json.loads(_dump(item.payload))


def _refresh(connection: sa.Connection, row: Any, item: PlannedAction, now: datetime) -> None:
    connection.execute(
        outbox.update()
        .where(outbox.c.key == row.key, outbox.c.state == row.state, outbox.c.fence == row.fence)
        .values(
            payload=_dump(item.payload), stamp=item.stamp, source_version=item.source_version, updated_at=now
        )
    )


def _supersede(connection: sa.Connection, item: PlannedAction, now: datetime) -> tuple[int, str | None]:
    """Cancel older versions of ``item`` not yet sent; return how many, and the key of one in flight."""
    same = (
        (outbox.c.pair == item.pair)
        & (outbox.c.action == item.action)
        & (outbox.c.source_id == item.source_id)
    )
    older = connection.execute(sa.select(outbox.c.key, outbox.c.state).where(same)).all()
    cancelled = 0
    in_flight = None
    for key, state in older:
        if state in (State.PLANNED, State.BLOCKED, State.RETRY_WAIT, State.DEAD):
            connection.execute(
                outbox.update()
                .where(outbox.c.key == key, outbox.c.state == state)
                .values(state=State.CANCELLED, last_error="superseded by a newer version", updated_at=now)
            )
            _close_dead_letters(
                connection, key, resolution="superseded", reason="a newer version was planned"
            )
            cancelled += 1
        elif state in (State.SENDING, State.IN_DOUBT):
            in_flight = key
    return cancelled, in_flight


# -- claiming ------------------------------------------------------------------------------------------


def claim(
    engine: sa.Engine,
    *,
    pair: str,
    target: str,
    owner: str,
    limit: int = 100,
    lease_seconds: float = 30.0,
    hang_seconds: float = 600.0,
    actions: Sequence[str] | None = None,
) -> list[Action]:
    """Take up to ``limit`` due actions of ``pair`` for ``target``, oldest first, under a fresh fence.

    Due: planned; retry_wait, in_doubt or a condition-blocked action whose time has come; sending whose
    holder is gone (see the module docstring). Dependencies that are done unblock their dependants first.
    """
    now = utcnow()
    with engine.begin() as connection:
        _unblock(connection, pair, now)
        scope = (outbox.c.pair == pair) & (outbox.c.target == target)
        if actions is not None:
            scope &= outbox.c.action.in_(list(actions))
        due = (
            (outbox.c.state == State.PLANNED)
            | (outbox.c.state.in_([State.RETRY_WAIT, State.IN_DOUBT]) & (outbox.c.next_attempt_at <= now))
            | (
                (outbox.c.state == State.BLOCKED)
                & outbox.c.depends_on.is_(None)
                & (outbox.c.next_attempt_at <= now)
            )
            | ((outbox.c.state == State.SENDING) & (outbox.c.lease_until < now))
        )
        candidates = connection.execute(
            sa.select(outbox).where(scope & due).order_by(outbox.c.id).limit(limit * 2)
        ).all()
        dead_holders = [
            row
            for row in connection.execute(
                sa.select(outbox).where(
                    scope & (outbox.c.state == State.SENDING) & (outbox.c.lease_until >= now)
                )
            ).all()
            if holder_is_dead(row.lease_owner)
        ]
        claimed: list[Action] = []
        until = now + timedelta(seconds=lease_seconds)
        for row in sorted([*candidates, *dead_holders], key=lambda r: r.id):
            if len(claimed) >= limit:
                break
            if row.state == State.SENDING and not _abandoned(row, now, hang_seconds):
                continue
            took = connection.execute(
                outbox.update()
                .where(outbox.c.key == row.key, outbox.c.fence == row.fence, outbox.c.state == row.state)
                .values(
                    state=State.SENDING,
                    fence=row.fence + 1,
                    lease_owner=owner,
                    lease_until=until,
                    updated_at=now,
                )
            ).rowcount
            if took:
                resumed = row.state in (State.IN_DOUBT, State.SENDING)
                fresh = replace(
                    _from_row(row, resumed=resumed),
                    state=State.SENDING,
                    fence=row.fence + 1,
                    lease_owner=owner,
                )
                claimed.append(fresh)
    return claimed


def _abandoned(row: Any, now: datetime, hang_seconds: float) -> bool:
    """Whether a ``sending`` row's holder has left it (see the module docstring)."""
    if holder_is_dead(row.lease_owner):
        return True
    until = aware(row.lease_until)
    if until is None:
        return True
    if holder_is_here(row.lease_owner):
        return until + timedelta(seconds=hang_seconds) < now
    return until < now


def _unblock(connection: sa.Connection, pair: str, now: datetime) -> None:
    finished = sa.select(outbox.c.key).where(outbox.c.pair == pair, outbox.c.state == State.DONE)
    connection.execute(
        outbox.update()
        .where(outbox.c.pair == pair, outbox.c.state == State.BLOCKED, outbox.c.depends_on.in_(finished))
        .values(state=State.PLANNED, depends_on=None, updated_at=now)
    )


def renew(engine: sa.Engine, action: Action, *, lease_seconds: float = 30.0) -> bool:
    """Extend the claim before the next external call; False means the action changed hands: stop."""
    return renew_many(engine, [action], lease_seconds=lease_seconds)[0]


def renew_many(engine: sa.Engine, actions: Sequence[Action], *, lease_seconds: float = 30.0) -> list[bool]:
    """:func:`renew` for a bulk call's actions in one transaction (one commit, not one per action)."""
    if not actions:
        return []
    with engine.begin() as connection:
        until = utcnow() + timedelta(seconds=lease_seconds)
        return [
            bool(
                connection.execute(
                    outbox.update()
                    .where(
                        outbox.c.key == action.key,
                        outbox.c.fence == action.fence,
                        outbox.c.state == State.SENDING,
                    )
                    .values(lease_until=until)
                ).rowcount
            )
            for action in actions
        ]


# -- recording calls and progress -----------------------------------------------------------------------


def record(
    engine: sa.Engine,
    action: Action,
    calls: Iterable[Call],
    *,
    progress: dict[str, Any] | None = None,
    actor: str | None = None,
) -> bool:
    """Append the calls to the audit log and, if the claim still holds, save the action's progress.

    The calls are facts and are logged whoever holds the claim; the progress is saved only under the
    current fence (returns False otherwise).
    """
    return record_many(engine, [(action, list(calls), progress)], actor=actor)[0]


def record_many(
    engine: sa.Engine,
    entries: Sequence[tuple[Action, Sequence[Call], dict[str, Any] | None]],
    *,
    actor: str | None = None,
) -> list[bool]:
    """:func:`record` for many actions in one transaction (one bulk call's results)."""
    now = utcnow()
    held = []
    with engine.begin() as connection:
        rows = [_audit_row(action, call, now, actor) for action, calls, _ in entries for call in calls]
        if rows:
            connection.execute(audit_log.insert(), rows)
        for action, _calls, progress in entries:
            if progress is None:
                held.append(True)
                continue
            held.append(
                bool(
                    connection.execute(
                        outbox.update()
                        .where(outbox.c.key == action.key, outbox.c.fence == action.fence)
                        .where(outbox.c.state == State.SENDING)
                        .values(progress=_dump(progress), updated_at=now)
                    ).rowcount
                )
            )
    return held


def _audit_row(action: Action, call: Call, at: datetime, actor: str | None) -> dict[str, Any]:
    return {
        "at": at,
        "pair": action.pair,
        "action_key": action.key,
        "action": action.action,
        "target": action.target,
        "call": call.call[:128],
        "step": call.step,
        "target_id": call.target_id,
        "outcome": call.outcome,
        "error": call.error,
        "latency_ms": call.latency_ms,
        "attempt": action.attempts + 1,
        "fence": action.fence,
        "actor": actor or action.lease_owner,
    }


def audit(
    engine: sa.Engine,
    *,
    pair: str,
    call: str,
    outcome: str,
    actor: str | None,
    action_key: str | None = None,
    error: str | None = None,
) -> None:
    """Log something a person or a command did (a dead letter retried, a match accepted)."""
    with engine.begin() as connection:
        connection.execute(
            audit_log.insert().values(
                at=utcnow(),
                pair=pair,
                action_key=action_key,
                call=call[:128],
                outcome=outcome,
                error=error,
                actor=actor,
            )
        )


# -- finishing an attempt ------------------------------------------------------------------------------


def finish(engine: sa.Engine, action: Action, outcome: Outcome, *, actor: str | None = None) -> bool:
    """Apply ``outcome`` to a claimed action under its fence, in one transaction; False if it changed hands.

    done writes the crosswalk links; dead writes a dead letter; every state counts an attempt unless the
    outcome says otherwise (a condition still to be met is no attempt).
    """
    return finish_many(engine, [(action, outcome)], actor=actor)[0]


def finish_many(
    engine: sa.Engine, results: Sequence[tuple[Action, Outcome]], *, actor: str | None = None
) -> list[bool]:
    """:func:`finish` for a batch's outcomes in one transaction (one commit, not one per action).

    A crosswalk conflict rolls the whole batch back (nothing is half-recorded); the caller can then finish
    the actions one by one so that only the conflicting one fails.
    """
    with engine.begin() as connection:
        return [_finish(connection, action, outcome, actor) for action, outcome in results]


def _finish(connection: sa.Connection, action: Action, outcome: Outcome, actor: str | None) -> bool:
    now = utcnow()
    values: dict[str, Any] = {
        "state": outcome.state,
        "updated_at": now,
        "lease_owner": None,
        "lease_until": None,
        "next_attempt_at": outcome.next_attempt_at,
        "attempts": action.attempts + (1 if outcome.counts_as_attempt else 0),
    }
    if outcome.target_id is not None:
        values["target_id"] = outcome.target_id
    if outcome.state == State.DONE:
        values.update(done_at=now, last_error=None, last_error_class=None)
    elif outcome.error is not None:
        values.update(last_error=outcome.error[:2000], last_error_class=outcome.error_class)
    held = connection.execute(
        outbox.update()
        .where(outbox.c.key == action.key, outbox.c.fence == action.fence, outbox.c.state == State.SENDING)
        .values(**values)
    ).rowcount
    if not held:
        return False
    for link in outcome.links:
        _link(connection, action.pair, link, origin="created", action_key=action.key, by=actor, at=now)
    if outcome.state == State.DEAD:
        connection.execute(
            dead_letters.insert().values(
                pair=action.pair,
                action_key=action.key,
                action=action.action,
                target=action.target,
                error_class=outcome.error_class or "Error",
                error_code=outcome.error_code,
                message=(outcome.error or "")[:4000],
                pattern=error_pattern(outcome.error_class or "Error", outcome.error or ""),
                # Masked before they are kept: a dead letter is read by people and exported.
                request=None if outcome.request is None else _dump(mask_secrets(outcome.request)),
                response=None if outcome.response is None else _dump(mask_secrets(outcome.response)),
                created_at=now,
            )
        )
    return True


def release(engine: sa.Engine, actions: Sequence[Action]) -> None:
    """Give claims back untouched (a worker stopping between calls): planned again, no attempt counted."""
    with engine.begin() as connection:
        for action in actions:
            state = State.IN_DOUBT if action.resumed else State.PLANNED
            connection.execute(
                outbox.update()
                .where(
                    outbox.c.key == action.key,
                    outbox.c.fence == action.fence,
                    outbox.c.state == State.SENDING,
                )
                .values(
                    state=state,
                    lease_owner=None,
                    lease_until=None,
                    next_attempt_at=utcnow(),
                    updated_at=utcnow(),
                )
            )


def error_pattern(error_class: str, message: str) -> str:
    """The message with numbers, quoted values and ids blanked, so equal failures group together."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message)
    text = re.sub(r"\b[\w-]*\d[\w-]*\b", "#", text)
    return f"{error_class}: {' '.join(text.split())}"[:200]


# -- the crosswalk -------------------------------------------------------------------------------------


def _link(
    connection: sa.Connection,
    pair: str,
    link: Link,
    *,
    origin: str,
    action_key: str | None,
    by: str | None,
    at: datetime,
) -> None:
    """Record a pairing unless it is there; a pairing that contradicts an existing one is refused."""
    same = (
        (crosswalk.c.pair == pair)
        & (crosswalk.c.entity == link.entity)
        & ((crosswalk.c.freshbooks_id == link.freshbooks_id) | (crosswalk.c.infor_id == link.infor_id))
    )
    rows = connection.execute(sa.select(crosswalk.c.freshbooks_id, crosswalk.c.infor_id).where(same)).all()
    if any(r.freshbooks_id == link.freshbooks_id and r.infor_id == link.infor_id for r in rows):
        return
    if rows:
        raise CrosswalkConflictError(
            f"{link.entity}: FreshBooks {link.freshbooks_id} / M3 {link.infor_id} contradicts the crosswalk "
            f"({', '.join(f'{r.freshbooks_id}<->{r.infor_id}' for r in rows)})"
        )
    connection.execute(
        crosswalk.insert().values(
            pair=pair,
            entity=link.entity,
            freshbooks_id=link.freshbooks_id,
            infor_id=link.infor_id,
            origin=origin,
            action_key=action_key,
            created_by=by,
            created_at=at,
        )
    )


class CrosswalkConflictError(ValueError):
    """A pairing would give a record two partners."""


def link(
    engine: sa.Engine, pair: str, entry: Link, *, origin: str = "confirmed", by: str | None = None
) -> None:
    """Record a pairing a person confirmed (or a workflow knows)."""
    with engine.begin() as connection:
        _link(connection, pair, entry, origin=origin, action_key=None, by=by, at=utcnow())


def unlink(engine: sa.Engine, pair: str, entity: str, *, freshbooks_id: str, infor_id: str) -> int:
    with engine.begin() as connection:
        return connection.execute(
            crosswalk.delete().where(
                crosswalk.c.pair == pair,
                crosswalk.c.entity == entity,
                crosswalk.c.freshbooks_id == freshbooks_id,
                crosswalk.c.infor_id == infor_id,
            )
        ).rowcount


def links(engine: sa.Engine, pair: str, entity: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(crosswalk).where(crosswalk.c.pair == pair).order_by(crosswalk.c.id)
    if entity is not None:
        query = query.where(crosswalk.c.entity == entity)
    with _reading(engine) as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


# -- reading -------------------------------------------------------------------------------------------


def get(engine: sa.Engine, key: str) -> Action | None:
    with _reading(engine) as connection:
        row = connection.execute(sa.select(outbox).where(outbox.c.key == key)).first()
    return None if row is None else _from_row(row)


def find(engine: sa.Engine, key_prefix: str) -> list[Action]:
    """Actions whose key starts with ``key_prefix`` (people type the first few characters)."""
    with _reading(engine) as connection:
        rows = connection.execute(
            sa.select(outbox).where(outbox.c.key.startswith(key_prefix, autoescape=True)).limit(20)
        ).all()
    return [_from_row(row) for row in rows]


def list_actions(
    engine: sa.Engine,
    *,
    pair: str | None = None,
    states: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[Action]:
    query = sa.select(outbox).order_by(outbox.c.id)
    if pair is not None:
        query = query.where(outbox.c.pair == pair)
    if states:
        query = query.where(outbox.c.state.in_(list(states)))
    if limit is not None:
        query = query.limit(limit)
    with _reading(engine) as connection:
        return [_from_row(row) for row in connection.execute(query)]


def counts(engine: sa.Engine, pair: str | None = None) -> dict[str, int]:
    query = sa.select(outbox.c.state, sa.func.count()).group_by(outbox.c.state)
    if pair is not None:
        query = query.where(outbox.c.pair == pair)
    with _reading(engine) as connection:
        return {state: n for state, n in connection.execute(query)}


def oldest_in_doubt(engine: sa.Engine, pair: str | None = None) -> datetime | None:
    """When the longest-waiting in-doubt action went in doubt (its last update)."""
    query = sa.select(sa.func.min(outbox.c.updated_at)).where(outbox.c.state == State.IN_DOUBT)
    if pair is not None:
        query = query.where(outbox.c.pair == pair)
    with _reading(engine) as connection:
        return aware(connection.execute(query).scalar())


def due_summary(engine: sa.Engine, pair: str | None = None) -> tuple[int, datetime | None, int]:
    """(how many actions are due now, when the next waiting one is due, the highest action id): what the
    outbox sensor needs to decide whether to launch a push."""
    now = utcnow()
    scope = sa.true() if pair is None else outbox.c.pair == pair
    due_now = (
        (outbox.c.state == State.PLANNED)
        | (
            outbox.c.state.in_([State.RETRY_WAIT, State.IN_DOUBT, State.BLOCKED])
            & (outbox.c.next_attempt_at <= now)
        )
        | ((outbox.c.state == State.SENDING) & (outbox.c.lease_until < now))
    )
    waiting = outbox.c.state.in_([State.RETRY_WAIT, State.IN_DOUBT, State.BLOCKED]) & (
        outbox.c.next_attempt_at > now
    )
    with _reading(engine) as connection:
        due = connection.execute(sa.select(sa.func.count()).where(scope & due_now)).scalar() or 0
        upcoming = aware(
            connection.execute(
                sa.select(sa.func.min(outbox.c.next_attempt_at)).where(scope & waiting)
            ).scalar()
        )
        highest = connection.execute(sa.select(sa.func.max(outbox.c.id)).where(scope)).scalar() or 0
    return int(due), upcoming, int(highest)


# -- dead letters --------------------------------------------------------------------------------------


def dead_letter_rows(
    engine: sa.Engine, *, pair: str | None = None, include_resolved: bool = False
) -> list[dict[str, Any]]:
    query = sa.select(dead_letters).order_by(dead_letters.c.id)
    if pair is not None:
        query = query.where(dead_letters.c.pair == pair)
    if not include_resolved:
        query = query.where(dead_letters.c.resolved_at.is_(None))
    with _reading(engine) as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def dead_letter(engine: sa.Engine, letter_id: int) -> dict[str, Any] | None:
    with _reading(engine) as connection:
        row = connection.execute(sa.select(dead_letters).where(dead_letters.c.id == letter_id)).first()
    return None if row is None else dict(row._mapping)


def retry_dead(
    engine: sa.Engine, letter_id: int, *, by: str | None, payload: dict[str, Any] | None = None
) -> str:
    """Plan a dead action again (with an edited payload if given); returns what happened.

    Retrying a letter already retried or resolved changes nothing: the same action is never planned twice.
    """
    now = utcnow()
    with engine.begin() as connection:
        letter = connection.execute(sa.select(dead_letters).where(dead_letters.c.id == letter_id)).first()
        if letter is None:
            return "unknown"
        if letter.resolved_at is not None:
            return f"already {letter.resolution}"
        values: dict[str, Any] = {
            "state": State.PLANNED,
            "attempts": 0,
            "next_attempt_at": None,
            "last_error": None,
            "last_error_class": None,
            "updated_at": now,
        }
        if payload is not None:
            values["payload"] = _dump({**payload, EDITED: by or "someone"})
        moved = connection.execute(
            outbox.update()
            .where(outbox.c.key == letter.action_key, outbox.c.state == State.DEAD)
            .values(**values)
        ).rowcount
        _close_dead_letters(connection, letter.action_key, resolution="retried", reason=None, by=by)
        connection.execute(
            audit_log.insert().values(
                at=now, pair=letter.pair, action_key=letter.action_key, action=letter.action, target=letter.target,
                call="dlq retry" + (" (payload edited)" if payload is not None else ""),
                outcome="requested" if moved else "nothing_to_do", actor=by,
            )
        )  # fmt: skip
    return "retried" if moved else "no longer dead"


def resolve_dead(engine: sa.Engine, letter_id: int, *, reason: str, by: str | None) -> str:
    """Close a dead letter by hand: its action is cancelled and will not be sent."""
    now = utcnow()
    with engine.begin() as connection:
        letter = connection.execute(sa.select(dead_letters).where(dead_letters.c.id == letter_id)).first()
        if letter is None:
            return "unknown"
        if letter.resolved_at is not None:
            return f"already {letter.resolution}"
        connection.execute(
            outbox.update()
            .where(outbox.c.key == letter.action_key, outbox.c.state == State.DEAD)
            .values(state=State.CANCELLED, last_error=f"resolved by hand: {reason}", updated_at=now)
        )
        _close_dead_letters(connection, letter.action_key, resolution="resolved", reason=reason, by=by)
        connection.execute(
            audit_log.insert().values(
                at=now, pair=letter.pair, action_key=letter.action_key, action=letter.action, target=letter.target,
                call="dlq resolve", outcome="resolved", error=reason, actor=by,
            )
        )  # fmt: skip
    return "resolved"


def _close_dead_letters(
    connection: sa.Connection, key: str, *, resolution: str, reason: str | None, by: str | None = None
) -> None:
    connection.execute(
        dead_letters.update()
        .where(dead_letters.c.action_key == key, dead_letters.c.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolution=resolution, reason=reason, resolved_by=by)
    )


# -- the audit log -------------------------------------------------------------------------------------


def audit_rows(
    engine: sa.Engine,
    *,
    pair: str | None = None,
    since: datetime | None = None,
    action_key: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    query = sa.select(audit_log).order_by(audit_log.c.id)
    if pair is not None:
        query = query.where(audit_log.c.pair == pair)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if action_key is not None:
        query = query.where(audit_log.c.action_key == action_key)
    if limit is not None:
        query = query.limit(limit)
    with _reading(engine) as connection:
        return [{**row._mapping, "at": aware(row.at)} for row in connection.execute(query)]
