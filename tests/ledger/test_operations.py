"""The operators' queries and the alert state on SQLite and PostgreSQL: the status figures, dead letters by
pattern, the newest audit entries, retention pruning and what each alert channel was told."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from finsync_dagster.ledger import Ledger, utcnow
from finsync_dagster.ledger.alert_state import AlertState
from finsync_dagster.ledger.schema import audit_log, dead_letters
from tests.ops.ledger_state import build


def test_figures_count_every_pair_in_one_pass(ledger: Ledger) -> None:
    build(ledger, "acme")
    build(ledger, "beta")
    ledger.save_token(
        "freshbooks", "acme", access_token="a", refresh_token=None, expires_at=utcnow() + timedelta(hours=1)
    )
    figures = ledger.figures()
    assert figures.outbox == {
        p: {"dead": 3, "done": 2, "in_doubt": 1, "planned": 1} for p in ("acme", "beta")
    }
    assert set(figures.oldest_in_doubt) == {"acme", "beta"}
    assert figures.dead_letters_open == {"acme": 3, "beta": 3} and figures.dead_letters_new == {
        "acme": 3,
        "beta": 3,
    }
    assert figures.pushes == {"acme": 2, "beta": 2}
    (token,) = figures.tokens
    assert (token.account, token.has_refresh_token, token.reconnect_reason) == ("acme", False, None)
    assert figures.inbox_available is True and figures.inbox_backlog == {}  # an empty inbox


def test_dead_letters_group_by_pattern_and_audit_reads_the_newest(ledger: Ledger) -> None:
    keys = build(ledger, "acme")
    (group,) = ledger.dead_letter_groups(pair="acme")
    assert (group.count, group.actions, group.ids) == (3, {"m3.gl.add": 3}, [1, 2, 3])
    assert ledger.dead_letter_groups(pair="other") == []
    newest = ledger.audit_entries(limit=2)
    assert [e["id"] for e in newest] == [5, 6] and newest[0]["at"].tzinfo is not None
    assert [e["action_key"] for e in ledger.audit_entries(action_keys=[keys["1"]])] == [keys["1"]]
    assert len(list(ledger.iter_audit(pair="acme"))) == 6


def test_prune_keeps_open_letters_and_young_entries(ledger: Ledger) -> None:
    build(ledger, "acme")
    old = utcnow() - timedelta(days=90)
    with ledger.engine.begin() as connection:
        connection.execute(audit_log.update().where(audit_log.c.id <= 4).values(at=old))
        connection.execute(dead_letters.update().values(created_at=old))
        connection.execute(
            dead_letters.update().where(dead_letters.c.id == 2).values(resolved_at=old, resolution="resolved")
        )
    cut = utcnow() - timedelta(days=30)
    dry = ledger.prune(
        audit_before=cut, resolved_dead_letters_before=cut, processed_inbox_before=cut, dry_run=True
    )
    assert (dry.audit_log, dry.dead_letters, dry.inbox) == (4, 1, 0)
    done = ledger.prune(audit_before=cut, resolved_dead_letters_before=cut, processed_inbox_before=None)
    assert (done.audit_log, done.dead_letters) == (4, 1)
    with ledger.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(dead_letters)).scalar() == 2
        assert connection.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar() == 2


def test_alert_state_remembers_each_channel(ledger: Ledger) -> None:
    now = utcnow()
    ledger.save_alert_states([AlertState("dead_actions", "acme", True, now, "3 dead")])
    ledger.mark_alert_notified("dead_actions", "acme", channel="slack", told="firing")
    ledger.save_alert_states([AlertState("dead_actions", "acme", False, now, "0 dead")])
    ledger.mark_alert_notified("dead_actions", "acme", channel="email", told="ok")
    state = ledger.alert_states()[("dead_actions", "acme")]
    assert (state.firing, state.summary, state.notified) == (
        False,
        "0 dead",
        {"email": "ok", "slack": "firing"},
    )
