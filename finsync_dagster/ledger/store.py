"""The ledger: transactional state shared by the webhook receiver, the daemon and runs.

One SQLAlchemy URL chooses the database (a SQLite file by default, PostgreSQL in production). DuckDB is
not used here because only one process may write a DuckDB file at a time.

``Ledger`` is a facade: each concern is a module of functions over the engine (``cursors``, ``tokens``,
``outbox``, ``inbox``, ``callbacks``, ``migrations``; the tables are in ``schema``). A new concern adds its
tables and a migration to ``schema``, its own module, and one-line methods here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from finsync_dagster.ledger import (
    alert_state,
    callbacks,
    cursors,
    inbox,
    migrations,
    operations,
    outbox,
    review,
    tokens,
    users,
)
from finsync_dagster.ledger.alert_state import AlertState
from finsync_dagster.ledger.callbacks import WebhookCallback
from finsync_dagster.ledger.engine import make_engine, masked_url, utcnow
from finsync_dagster.ledger.inbox import Backlog, Delivery, InboxRow
from finsync_dagster.ledger.operations import LedgerFigures, LetterGroup, Pruned
from finsync_dagster.ledger.outbox import Action, Call, Link, Outcome, PlannedAction, PlanResult
from finsync_dagster.ledger.review import Decision, ReviewDecision
from finsync_dagster.ledger.sealing import TokenCipher
from finsync_dagster.ledger.tokens import StoredToken, TokenWrite
from finsync_dagster.ledger.users import Role, Session, User

__all__ = ["Ledger", "StoredToken", "masked_url", "utcnow"]


class Ledger:
    """One ledger database; every method opens and closes its own connection or transaction.

    Tokens are sealed with ``token_key`` (Fernet keys, comma-separated), else ``$FINSYNC_TOKEN_KEY``, else
    the key file beside a SQLite ledger (``sealing``).
    """

    def __init__(self, url: str, *, engine: sa.Engine | None = None, token_key: str | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self.cipher = TokenCipher.for_ledger(url, keys=token_key)

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for logs and metadata."""
        return masked_url(self.url)

    # -- schema ------------------------------------------------------------------------------------

    def migrate(self) -> int:
        """Bring the schema to the latest version and seal any plaintext tokens; safe from many processes."""
        version = migrations.migrate(self.engine, self.url)
        tokens.seal_plaintext(self.engine, self.cipher)
        return version

    def schema_version(self) -> int:
        with self.engine.connect() as connection:
            return migrations.applied_version(connection)

    # -- cursors -----------------------------------------------------------------------------------

    def get_cursor(self, pair: str, entity: str) -> dict[str, Any] | None:
        return cursors.get_cursor(self.engine, pair, entity)

    def set_cursor(self, pair: str, entity: str, cursor: dict[str, Any]) -> None:
        """Advance a cursor; call only after the rows it covers are committed."""
        cursors.set_cursor(self.engine, pair, entity, cursor)

    def clear_cursors(self, pair: str) -> None:
        cursors.clear_cursors(self.engine, pair)

    # -- OAuth tokens ------------------------------------------------------------------------------

    def get_token(self, provider: str, account: str) -> StoredToken | None:
        return tokens.get_token(self.engine, self.cipher, provider, account)

    def save_token(
        self,
        provider: str,
        account: str,
        *,
        access_token: str,
        refresh_token: str | None,
        expires_at: datetime | None,
        scope: str | None = None,
        expected_generation: int | None = None,
    ) -> StoredToken | None:
        """Store a token set and release any refresh lease; a compare-and-swap with ``expected_generation``."""
        return tokens.save_token(
            self.engine,
            self.cipher,
            provider,
            account,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            scope=scope,
            expected_generation=expected_generation,
        )

    def delete_token(self, provider: str, account: str) -> None:
        tokens.delete_token(self.engine, provider, account)

    def refresh_lease(
        self, provider: str, account: str, *, hold_seconds: float = 30.0, wait_seconds: float = 60.0
    ) -> AbstractContextManager[StoredToken | None]:
        """Hold the right to refresh a token set, across processes (see ``tokens.refresh_lease``)."""
        return tokens.refresh_lease(
            self.engine, self.cipher, provider, account, hold_seconds=hold_seconds, wait_seconds=wait_seconds
        )

    def refresh_write(
        self, provider: str, account: str, *, generation: int, lease_owner: str | None
    ) -> AbstractContextManager[TokenWrite]:
        """The write-locked transaction around one refresh-token call (see ``tokens.refresh_write``)."""
        return tokens.refresh_write(
            self.engine, self.cipher, provider, account, generation=generation, lease_owner=lease_owner
        )

    def mark_reconnect(self, provider: str, account: str, *, reason: str, generation: int) -> None:
        """Record that the token of ``generation`` is dead and why, so later callers fail fast."""
        tokens.mark_reconnect(self.engine, provider, account, reason=reason, generation=generation)

    # -- the outbox (see ``outbox`` for the state machine) --------------------------------------------

    def plan(self, actions: Sequence[PlannedAction], *, planned_by: str | None = None) -> PlanResult:
        return outbox.plan(self.engine, actions, planned_by=planned_by)

    def claim(
        self,
        *,
        pair: str,
        target: str,
        owner: str,
        limit: int = 100,
        lease_seconds: float = 30.0,
        hang_seconds: float = 600.0,
        actions: Sequence[str] | None = None,
    ) -> list[Action]:
        return outbox.claim(
            self.engine,
            pair=pair,
            target=target,
            owner=owner,
            limit=limit,
            lease_seconds=lease_seconds,
            hang_seconds=hang_seconds,
            actions=actions,
        )

    def renew(self, action: Action, *, lease_seconds: float = 30.0) -> bool:
        return outbox.renew(self.engine, action, lease_seconds=lease_seconds)

    def renew_many(self, actions: Sequence[Action], *, lease_seconds: float = 30.0) -> list[bool]:
        return outbox.renew_many(self.engine, actions, lease_seconds=lease_seconds)

    def record(
        self, action: Action, calls: Iterable[Call], *, progress: dict[str, Any] | None = None
    ) -> bool:
        return outbox.record(self.engine, action, calls, progress=progress)

    def record_many(
        self, entries: Sequence[tuple[Action, Sequence[Call], dict[str, Any] | None]]
    ) -> list[bool]:
        return outbox.record_many(self.engine, entries)

    def finish(self, action: Action, outcome: Outcome) -> bool:
        return outbox.finish(self.engine, action, outcome)

    def finish_many(self, results: Sequence[tuple[Action, Outcome]]) -> list[bool]:
        return outbox.finish_many(self.engine, results)

    def release(self, actions: Sequence[Action]) -> None:
        outbox.release(self.engine, actions)

    def action(self, key: str) -> Action | None:
        return outbox.get(self.engine, key)

    def find_actions(self, key_prefix: str) -> list[Action]:
        return outbox.find(self.engine, key_prefix)

    def actions(
        self, *, pair: str | None = None, states: Sequence[str] | None = None, limit: int | None = None
    ) -> list[Action]:
        return outbox.list_actions(self.engine, pair=pair, states=states, limit=limit)

    def outbox_counts(self, pair: str | None = None) -> dict[str, int]:
        return outbox.counts(self.engine, pair)

    def oldest_in_doubt(self, pair: str | None = None) -> datetime | None:
        return outbox.oldest_in_doubt(self.engine, pair)

    def due_summary(self, pair: str | None = None) -> tuple[int, datetime | None, int]:
        return outbox.due_summary(self.engine, pair)

    # -- the crosswalk --------------------------------------------------------------------------------

    def link(self, pair: str, entry: Link, *, origin: str = "confirmed", by: str | None = None) -> None:
        outbox.link(self.engine, pair, entry, origin=origin, by=by)

    def unlink(self, pair: str, entity: str, *, freshbooks_id: str, infor_id: str) -> int:
        return outbox.unlink(self.engine, pair, entity, freshbooks_id=freshbooks_id, infor_id=infor_id)

    def links(self, pair: str, entity: str | None = None) -> list[dict[str, Any]]:
        return outbox.links(self.engine, pair, entity)

    # -- dead letters and the audit log ---------------------------------------------------------------

    def dead_letters(
        self, *, pair: str | None = None, include_resolved: bool = False
    ) -> list[dict[str, Any]]:
        return outbox.dead_letter_rows(self.engine, pair=pair, include_resolved=include_resolved)

    def dead_letter(self, letter_id: int) -> dict[str, Any] | None:
        return outbox.dead_letter(self.engine, letter_id)

    def retry_dead(self, letter_id: int, *, by: str | None, payload: dict[str, Any] | None = None) -> str:
        return outbox.retry_dead(self.engine, letter_id, by=by, payload=payload)

    def resolve_dead(self, letter_id: int, *, reason: str, by: str | None) -> str:
        return outbox.resolve_dead(self.engine, letter_id, reason=reason, by=by)

    def audit(
        self,
        *,
        pair: str,
        call: str,
        outcome: str,
        actor: str | None,
        action_key: str | None = None,
        error: str | None = None,
    ) -> None:
        outbox.audit(
            self.engine,
            pair=pair,
            call=call,
            outcome=outcome,
            actor=actor,
            action_key=action_key,
            error=error,
        )

    def audit_rows(
        self,
        *,
        pair: str | None = None,
        since: datetime | None = None,
        action_key: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        return outbox.audit_rows(self.engine, pair=pair, since=since, action_key=action_key, limit=limit)

    # -- operations: status figures, dead letters by pattern, alert state, retention (``operations``) -------

    def figures(
        self, *, now: datetime | None = None, window: timedelta = timedelta(hours=1)
    ) -> LedgerFigures:
        return operations.figures(self.engine, now=now, window=window)

    def dead_letter_groups(self, *, pair: str | None = None) -> list[LetterGroup]:
        return operations.dead_letter_groups(self.engine, pair=pair)

    def dead_letters_since(
        self, *, pair: str | None = None, since: datetime | None = None, include_resolved: bool = True
    ) -> list[dict[str, Any]]:
        return operations.dead_letters_since(
            self.engine, pair=pair, since=since, include_resolved=include_resolved
        )

    def audit_entries(
        self,
        *,
        pair: str | None = None,
        since: datetime | None = None,
        action_keys: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        return operations.audit_entries(
            self.engine, pair=pair, since=since, action_keys=action_keys, limit=limit
        )

    def iter_audit(
        self, *, pair: str | None = None, since: datetime | None = None
    ) -> Iterator[dict[str, Any]]:
        return operations.iter_audit(self.engine, pair=pair, since=since)

    def alert_states(self) -> dict[tuple[str, str], AlertState]:
        return alert_state.load(self.engine)

    def save_alert_states(self, states: Sequence[AlertState]) -> None:
        alert_state.save(self.engine, states)

    def mark_alert_notified(self, rule: str, subject: str, *, channel: str, told: str) -> None:
        alert_state.mark_notified(self.engine, rule, subject, channel=channel, told=told)

    def prune(
        self,
        *,
        audit_before: datetime | None,
        resolved_dead_letters_before: datetime | None,
        processed_inbox_before: datetime | None,
        dry_run: bool = False,
    ) -> Pruned:
        return operations.prune(
            self.engine,
            audit_before=audit_before,
            resolved_dead_letters_before=resolved_dead_letters_before,
            processed_inbox_before=processed_inbox_before,
            dry_run=dry_run,
        )

    # -- console users, sessions and sign-in attempts (see ``users``) ---------------------------------

    def add_user(self, name: str, role: Role, password: str, *, by: str | None = None) -> User:
        return users.add_user(self.engine, name, role, password, by=by)

    def remove_user(self, name: str) -> bool:
        return users.remove_user(self.engine, name)

    def users(self) -> list[User]:
        return users.list_users(self.engine)

    def user(self, name: str) -> User | None:
        return users.get_user(self.engine, name)

    def verify_password(self, name: str, password: str) -> User | None:
        return users.verify_password(self.engine, name, password)

    def open_session(self, user: User, *, ip: str | None, lifetime: timedelta) -> tuple[str, Session]:
        return users.open_session(self.engine, user, ip=ip, lifetime=lifetime)

    def session(self, token: str) -> Session | None:
        return users.session(self.engine, token)

    def close_session(self, token: str) -> None:
        users.close_session(self.engine, token)

    def record_login(self, *, name: str, ip: str, ok: bool) -> None:
        users.record_login(self.engine, name=name, ip=ip, ok=ok)

    def recent_login_failures(
        self, *, name: str | None = None, ip: str | None = None, window: timedelta
    ) -> int:
        return users.recent_failures(self.engine, name=name, ip=ip, window=window)

    # -- review decisions (see ``review``) --------------------------------------------------------------

    def decide(
        self,
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
        return review.decide(
            self.engine,
            pair=pair,
            entity=entity,
            freshbooks_id=freshbooks_id,
            infor_id=infor_id,
            decision=decision,
            actor=actor,
            session=session,
            reason=reason,
        )

    def decisions(
        self,
        pair: str,
        *,
        session: str | None = None,
        include_undone: bool = False,
        kinds: tuple[Decision, ...] | None = None,
    ) -> list[ReviewDecision]:
        return review.decisions(
            self.engine, pair, session=session, include_undone=include_undone, kinds=kinds
        )

    def decision(self, decision_id: int) -> ReviewDecision | None:
        return review.get_decision(self.engine, decision_id)

    def undo_decision(self, decision_id: int, *, by: str) -> bool:
        return review.undo_decision(self.engine, decision_id, by=by)

    # -- webhook inbox -----------------------------------------------------------------------------

    def add_to_inbox(self, deliveries: Sequence[Delivery]) -> list[bool]:
        """Store deliveries in one transaction, committed on return; per delivery, False for a duplicate."""
        return inbox.add_many(self.engine, deliveries)

    def inbox_after(self, after_id: int, *, limit: int = 500, pair: str | None = None) -> list[InboxRow]:
        """Inbox rows above ``after_id``, oldest first: what an inbox sensor reads past its cursor."""
        return inbox.read_after(self.engine, after_id, limit=limit, pair=pair)

    def mark_inbox_processed(self, ids: Iterable[int], *, run: str) -> int:
        """Mark rows taken by ``run``; call when the re-fetching run is requested (see ``inbox``)."""
        return inbox.mark_processed(self.engine, ids, run=run, at=utcnow())

    def event_latencies(self, run: str) -> list[float]:
        """Seconds from each delivery ``run`` took to the first write it planned that is done."""
        return operations.run_latencies(self.engine, run)

    def inbox_backlog(self, *, pair: str | None = None) -> Backlog:
        return inbox.backlog(self.engine, pair=pair)

    # -- webhook callbacks -------------------------------------------------------------------------

    def record_callback(
        self, *, pair: str, system: str, callback_id: str, event: str, url: str
    ) -> WebhookCallback | None:
        """Record a subscription just created (unverified); None if it was already recorded as it is."""
        return callbacks.record_callback(
            self.engine, pair=pair, system=system, callback_id=callback_id, event=event, url=url
        )

    def webhook_callbacks(
        self, *, pair: str | None = None, system: str | None = None
    ) -> list[WebhookCallback]:
        return callbacks.list_callbacks(self.engine, self.cipher, pair=pair, system=system)

    def webhook_callback(self, pair: str, system: str, callback_id: str) -> WebhookCallback | None:
        return callbacks.get_callback(self.engine, self.cipher, pair, system, callback_id)

    def mark_callback_verified(self, *, pair: str, system: str, callback_id: str, secret: str) -> bool:
        """Seal and keep the secret the provider accepted; False unless recorded and still unverified."""
        return callbacks.mark_verified(
            self.engine, self.cipher, pair=pair, system=system, callback_id=callback_id, secret=secret
        )

    def forget_callback(self, *, pair: str, system: str, callback_id: str) -> None:
        callbacks.forget_callback(self.engine, pair=pair, system=system, callback_id=callback_id)
