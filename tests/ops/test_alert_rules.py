"""The alert rules as pure functions: a notification when a condition starts firing, one when it
recovers, nothing while it stays as it was, per channel; a failed delivery stays due."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from finsync_dagster.alerts import Condition, Observations, conditions, evaluate
from finsync_dagster.ledger.alert_state import AlertState
from finsync_dagster.settings import AlertRules, DeadLetterGrowth
from finsync_dagster.status import PairStatus, RunInfo, TokenStatus

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
CHANNELS = ["slack", "email"]


def pair(**figures: object) -> PairStatus:
    values: dict[str, object] = {
        "pair": "acme", "declared": True, "last_sync_at": NOW, "lag_seconds": 60.0, "last_run": None,
        "exceptions": 0, "at_stake": {}, "report": None, "outbox": {}, "dead": 0, "in_doubt": 0,
        "oldest_in_doubt_at": None, "dead_letters_open": 0, "dead_letters_new": 0, "pushes_last_hour": 0,
        "inbox_available": False, "inbox_backlog": None, "inbox_oldest_at": None, "last_webhook_at": None,
        "latency_p50_seconds": None, "latency_p95_seconds": None, "tokens": [],
    }  # fmt: skip
    values.update(figures)
    return PairStatus(**values)  # type: ignore[arg-type]


def apply(
    states: dict, found: list[Condition], *, now: datetime = NOW, delivered: bool = True, **options
) -> list:
    """One check: evaluate, store the changed states, and (if delivered) mark each channel told."""
    evaluation = evaluate(found, states, now=now, channels=CHANNELS, **options)
    for state in evaluation.changed:
        states[state.key] = state
    if delivered:
        for notification, channel in evaluation.due:
            state = states[(notification.rule, notification.subject)]
            states[state.key] = replace(state, notified={**state.notified, channel: notification.state})
    return [(n.rule, n.subject, n.state, channel) for n, channel in evaluation.due]


def test_one_notification_per_change_of_state_and_one_on_recovery() -> None:
    states: dict = {}
    rules = AlertRules()
    healthy = conditions(Observations(NOW, [pair()]), rules)
    assert apply(states, healthy) == []  # never fired: nothing to say
    broken = conditions(Observations(NOW, [pair(dead=1, outbox={"dead": 1})]), rules)
    assert apply(states, broken) == [
        ("dead_actions", "acme", "firing", "slack"),
        ("dead_actions", "acme", "firing", "email"),
    ]
    assert apply(states, broken) == []  # still firing: told already
    still = conditions(Observations(NOW, [pair(dead=4, outbox={"dead": 4})]), rules)
    assert apply(states, still) == []  # worse, but the same state
    assert apply(states, healthy) == [
        ("dead_actions", "acme", "ok", "slack"),
        ("dead_actions", "acme", "ok", "email"),
    ]
    assert apply(states, healthy) == []


def test_a_failed_delivery_stays_due_on_that_channel_only() -> None:
    states: dict = {}
    broken = [Condition("dead_actions", "acme", True, "pair acme: 1 dead action")]
    evaluation = evaluate(broken, states, now=NOW, channels=CHANNELS)
    for state in evaluation.changed:
        states[state.key] = replace(state, notified={"slack": "firing"})  # e-mail failed
    again = evaluate(broken, states, now=NOW, channels=CHANNELS)
    assert [(n.state, c) for n, c in again.due] == [("firing", "email")]


def test_the_dead_action_threshold_is_configurable_down_to_one() -> None:
    one = conditions(Observations(NOW, [pair(dead=1)]), AlertRules(dead_actions=1))
    three = conditions(Observations(NOW, [pair(dead=2)]), AlertRules(dead_actions=3))
    assert [c.firing for c in one if c.rule == "dead_actions"] == [True]
    assert [c.firing for c in three if c.rule == "dead_actions"] == [False]
    assert not [
        c
        for c in conditions(Observations(NOW, [pair(dead=5)]), AlertRules(dead_actions=None))
        if c.rule == "dead_actions"
    ]


def test_each_rule_fires_on_its_condition() -> None:
    rules = AlertRules(dead_letter_growth=DeadLetterGrowth(count=5, window_minutes=60), pair_lag_minutes=60)
    figures = pair(
        dead_letters_new=5, lag_seconds=2 * 3600.0, inbox_available=True, inbox_backlog=2,
        inbox_oldest_at=NOW - timedelta(minutes=20), last_webhook_at=NOW - timedelta(hours=3),
        tokens=[TokenStatus("freshbooks", "reconnect_needed", None, True, "refresh token refused"),
                TokenStatus("infor", "ok", NOW + timedelta(hours=1), True, None)],
    )  # fmt: skip
    failed = RunInfo("1234abcd-run", "read_side", "acme", "FAILURE", NOW - timedelta(minutes=5), NOW)
    observed = Observations(NOW, [figures], {"acme": [failed]}, {"acme": NOW - timedelta(minutes=10)})
    firing = {(c.rule, c.subject) for c in conditions(observed, rules) if c.firing}
    assert firing == {
        ("failed_run", "acme/read_side"), ("dead_letter_growth", "acme"), ("inbox_backlog", "acme"),
        ("webhook_silence", "acme"), ("pair_lag", "acme"), ("token_unusable", "acme/freshbooks"),
    }  # fmt: skip
    recovered = replace(failed, run_id="5678", status="SUCCESS", ended_at=NOW + timedelta(minutes=1))
    later = Observations(NOW, [figures], {"acme": [failed, recovered]})
    assert [c.firing for c in conditions(later, rules) if c.rule == "failed_run"] == [False]


def test_webhook_silence_needs_polls_that_saw_changes() -> None:
    quiet = pair(inbox_available=True, inbox_backlog=0, last_webhook_at=NOW - timedelta(hours=3))
    nothing_changed = Observations(NOW, [quiet], poll_changes_at={})
    assert [c.firing for c in conditions(nothing_changed, AlertRules()) if c.rule == "webhook_silence"] == [
        False
    ]


def test_rules_that_could_not_be_observed_keep_their_state() -> None:
    states = {
        ("failed_run", "acme/read_side"): AlertState("failed_run", "acme/read_side", True, NOW, "failed",
                                                     {"slack": "firing", "email": "firing"}),
    }  # fmt: skip
    without_runs = Observations(NOW, [pair()], runs_known=False)
    found = conditions(without_runs, AlertRules())
    assert apply(states, found, unobserved=without_runs.unobserved) == []
    assert states[("failed_run", "acme/read_side")].firing
    # Observed and gone (the pair's runs are no longer seen): that is a recovery.
    assert apply(states, found) == [("failed_run", "acme/read_side", "ok", c) for c in CHANNELS]
