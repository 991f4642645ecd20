"""A failed Dagster run of a pair is an alert, and the next successful run of that job its recovery; read
from the instance through Dagster's public API, as a sensor or `finsync serve` would pass it."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from finsync_dagster.alerts import Notification, check_once
from finsync_dagster.partitions import PAIR_TAG
from finsync_dagster.settings import load_settings


@dataclass
class Recorder:
    name: str = "recorder"
    sent: list[Notification] = field(default_factory=list)

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


def _job(fail: bool) -> dg.JobDefinition:
    @dg.op
    def step() -> None:
        if fail:
            raise RuntimeError("M3 answered 503")

    @dg.job(name="read_side")
    def read_side() -> None:
        step()

    return read_side


def test_a_failed_run_alerts_once_and_the_next_success_recovers(filled, config) -> None:
    ledger, _keys = filled
    settings = load_settings(config)
    channel = Recorder()
    with dg.instance_for_test() as instance:
        _job(fail=True).execute_in_process(instance=instance, tags={PAIR_TAG: "acme"}, raise_on_error=False)
        first = check_once(settings, ledger, instance=instance, channels=[channel])
        assert "failed_run acme/read_side" in first.firing
        failed = [n for n in channel.sent if n.rule == "failed_run"]
        assert [(n.subject, n.state) for n in failed] == [("acme/read_side", "firing")]
        assert "the last read_side run" in failed[0].summary and "failed" in failed[0].summary

        check_once(settings, ledger, instance=instance, channels=[channel])
        assert len([n for n in channel.sent if n.rule == "failed_run"]) == 1  # told once

        # Without the instance (e.g. `finsync alerts check` with no Dagster home) nothing is decided about runs.
        check_once(settings, ledger, channels=[channel])
        assert len([n for n in channel.sent if n.rule == "failed_run"]) == 1

        _job(fail=False).execute_in_process(instance=instance, tags={PAIR_TAG: "acme"})
        check_once(settings, ledger, instance=instance, channels=[channel])
        assert [(n.subject, n.state) for n in channel.sent if n.rule == "failed_run"] == [
            ("acme/read_side", "firing"), ("acme/read_side", "ok"),
        ]  # fmt: skip
