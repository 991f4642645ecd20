"""The alert rules, pure: what is observed -> which conditions hold -> which notifications are due.

Nothing here reads a database, Dagster or the network. :func:`conditions` turns observations into one
:class:`Condition` per (rule, subject), firing or not; :func:`evaluate` compares them with the stored
states and returns the states that changed and the notifications due, per channel: one when a condition
starts firing, one when it recovers, none while it stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from finsync_dagster.ledger.alert_state import AlertState
from finsync_dagster.masking import mask_text
from finsync_dagster.settings import AlertRules
from finsync_dagster.status.figures import PairStatus, RunInfo

FIRING, OK = "firing", "ok"
RULES = (
    "failed_run",
    "dead_actions",
    "dead_letter_growth",
    "inbox_backlog",
    "webhook_silence",
    "pair_lag",
    "token_unusable",
)


@dataclass(frozen=True)
class Observations:
    """What the runner saw at ``now``: the pairs' figures, each pair's latest finished run per job, and when
    a poll last found FreshBooks changes for each pair."""

    now: datetime
    pairs: Sequence[PairStatus]
    finished_runs: Mapping[str, Sequence[RunInfo]] = field(default_factory=dict)
    poll_changes_at: Mapping[str, datetime] = field(default_factory=dict)
    runs_known: bool = True  # False: no Dagster instance was read, so run-based rules are not evaluated

    @property
    def unobserved(self) -> frozenset[str]:
        """The rules these observations cannot decide; their stored states are left as they are."""
        return frozenset() if self.runs_known else frozenset({"failed_run", "webhook_silence"})


@dataclass(frozen=True)
class Condition:
    rule: str
    subject: str
    firing: bool
    summary: str


@dataclass(frozen=True)
class Notification:
    rule: str
    subject: str
    state: str  # firing or ok (recovered)
    summary: str
    since: datetime

    @property
    def recovered(self) -> bool:
        return self.state == OK


@dataclass(frozen=True)
class Evaluation:
    changed: list[AlertState]
    due: list[tuple[Notification, str]]  # (notification, channel)


def _minutes(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def conditions(observed: Observations, rules: AlertRules) -> list[Condition]:
    """Every condition the enabled rules can see now, firing or not."""
    now = observed.now
    found: list[Condition] = []
    for pair in observed.pairs:
        name = pair.pair
        if rules.failed_run and observed.runs_known:
            latest: dict[str, RunInfo] = {}
            for run in observed.finished_runs.get(name, ()):
                if run.job not in latest or (run.ended_at or now) > (latest[run.job].ended_at or now):
                    latest[run.job] = run
            for job, run in sorted(latest.items()):
                failed = run.status == "FAILURE"
                found.append(Condition(
                    "failed_run", f"{name}/{job}", failed,
                    f"pair {name}: the last {job} run ({run.run_id[:8]}) "
                    + ("failed" + (f": {mask_text(run.error)}" if run.error else "") if failed else "succeeded"),
                ))  # fmt: skip
        if rules.dead_actions is not None:
            firing = pair.dead >= rules.dead_actions
            found.append(Condition(
                "dead_actions", name, firing,
                f"pair {name}: {pair.dead} dead action(s) in the outbox (alert from {rules.dead_actions}); "
                f"see `finsync dlq list --pair {name}`",
            ))  # fmt: skip
        if rules.dead_letter_growth is not None:
            growth = rules.dead_letter_growth
            found.append(Condition(
                "dead_letter_growth", name, pair.dead_letters_new >= growth.count,
                f"pair {name}: {pair.dead_letters_new} new dead letter(s) in the last {growth.window_minutes} min "
                f"(alert from {growth.count}); {pair.dead_letters_open} open",
            ))  # fmt: skip
        if rules.inbox_backlog is not None and pair.inbox_available:
            backlog = rules.inbox_backlog
            age = None if pair.inbox_oldest_at is None else (now - pair.inbox_oldest_at).total_seconds()
            firing = (pair.inbox_backlog or 0) >= backlog.count or (
                age is not None and age >= backlog.age_minutes * 60
            )
            found.append(Condition(
                "inbox_backlog", name, firing,
                f"pair {name}: {pair.inbox_backlog} webhook deliveries waiting"
                + (f", the oldest for {_minutes(age)}" if age is not None else ""),
            ))  # fmt: skip
        if (
            rules.webhook_silence_minutes is not None
            and observed.runs_known
            and pair.inbox_available
            and pair.last_webhook_at is not None
        ):
            silence = timedelta(minutes=rules.webhook_silence_minutes)
            polled = observed.poll_changes_at.get(name)
            quiet = now - pair.last_webhook_at
            firing = quiet > silence and polled is not None and polled - pair.last_webhook_at > silence
            found.append(Condition(
                "webhook_silence", name, firing,
                f"pair {name}: no webhook for {_minutes(quiet.total_seconds())}"
                + (f" while polling found changes ({polled.strftime('%Y-%m-%d %H:%M')} UTC)" if firing and polled else "")
                + ("; check the callbacks registered in FreshBooks" if firing else ""),
            ))  # fmt: skip
        if rules.pair_lag_minutes is not None and pair.declared and pair.lag_seconds is not None:
            firing = pair.lag_seconds > rules.pair_lag_minutes * 60
            found.append(Condition(
                "pair_lag", name, firing,
                f"pair {name}: last sync {_minutes(pair.lag_seconds)} ago (alert after {rules.pair_lag_minutes} min)",
            ))  # fmt: skip
        if rules.token_expiry_hours is not None:
            for token in pair.tokens:
                firing = token.health != "ok"
                why = {
                    "reconnect_needed": f"needs a new connect ({mask_text(token.reason or 'refused')})",
                    "expired": "has expired and has no refresh token",
                    "expiring": "expires soon and has no refresh token",
                    "ok": "works",
                }[token.health]
                found.append(Condition(
                    "token_unusable", f"{name}/{token.provider}", firing,
                    f"pair {name}: the {token.provider} token {why}"
                    + (f"; run `finsync connect {token.provider} --pair {name}`" if firing else ""),
                ))  # fmt: skip
    return found


def evaluate(
    current: Sequence[Condition],
    previous: Mapping[tuple[str, str], AlertState],
    *,
    now: datetime,
    channels: Sequence[str],
    unobserved: frozenset[str] = frozenset(),
) -> Evaluation:
    """The states that changed, and the notifications due on each channel.

    A subject no longer observed (a pair removed, a token deleted) counts as recovered, unless its rule is
    in ``unobserved`` (nothing could be seen of it this time). A condition that never fired and was never
    told anything sends nothing.
    """
    seen = {(c.rule, c.subject): c for c in current}
    for key, state in previous.items():
        if key not in seen and state.firing and state.rule not in unobserved:
            seen[key] = Condition(
                state.rule, state.subject, False, f"{state.summary or state.subject} (no longer observed)"
            )
    changed: list[AlertState] = []
    states = dict(previous)
    for key, condition in seen.items():
        before = previous.get(key)
        if before is None or before.firing != condition.firing:
            state = AlertState(condition.rule, condition.subject, condition.firing, now, condition.summary,
                               dict(before.notified) if before else {})  # fmt: skip
        elif before.summary != condition.summary:
            state = replace(before, summary=condition.summary)
        else:
            continue
        changed.append(state)
        states[key] = state
    due: list[tuple[Notification, str]] = []
    for state in states.values():
        for channel in channels:
            told = state.notified.get(channel)
            if state.firing and told != FIRING:
                due.append(
                    (
                        Notification(state.rule, state.subject, FIRING, state.summary or "", state.since),
                        channel,
                    )
                )
            elif not state.firing and told == FIRING:
                due.append(
                    (Notification(state.rule, state.subject, OK, state.summary or "", state.since), channel)
                )
    return Evaluation(changed=changed, due=due)
