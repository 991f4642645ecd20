"""The write side's sensors: a push launched when an outbox has due actions, once per new plan or retry
window; a plan launched after each successful reconciliation of a pair that writes back.

Decisions are tested as plain functions, then the sensors are evaluated against a real ledger and a real
(ephemeral) Dagster instance, as the daemon would.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from finsync_dagster.automation.decisions import RETRY_PUSH_MINUTES, plans_after, push_run_key
from finsync_dagster.definitions import build_definitions
from finsync_dagster.ledger import Ledger, Outcome, PlannedAction, State, utcnow
from finsync_dagster.resources import LedgerResource
from finsync_dagster.settings import PairConfig, load_settings
from finsync_dagster.writeback.config import Rules, WriteBackConfig

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_nothing_due_launches_nothing() -> None:
    assert push_run_key("acme", due=0, highest_id=40, now=NOW) is None


def test_a_new_plan_launches_a_push_at_once_and_only_once() -> None:
    first = push_run_key("acme", due=3, highest_id=40, now=NOW)
    again = push_run_key("acme", due=3, highest_id=40, now=NOW + timedelta(seconds=30))
    newer = push_run_key("acme", due=4, highest_id=41, now=NOW + timedelta(seconds=30))
    assert first == again  # the same key: Dagster skips it
    assert newer != first  # something newly planned: a new push at once


def test_retries_launch_at_most_one_push_per_window() -> None:
    keys = {
        push_run_key("acme", due=1, highest_id=40, now=NOW + timedelta(seconds=s)) for s in range(0, 600, 30)
    }
    assert len(keys) == 600 // (RETRY_PUSH_MINUTES * 60)


def test_only_reconciling_runs_of_writing_pairs_plan() -> None:
    watched, writes = frozenset({"read_side", "full_refresh"}), frozenset({"acme"})
    assert plans_after("read_side", pair="acme", watched=watched, writes=writes)
    assert not plans_after("push", pair="acme", watched=watched, writes=writes)
    assert not plans_after("read_side", pair="other", watched=watched, writes=writes)
    assert not plans_after("read_side", pair=None, watched=watched, writes=writes)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[dg.Definitions, Ledger]:
    config = tmp_path / "finsync.yaml"
    config.write_text("version: 1\npairs: []\n", encoding="utf-8")
    settings = load_settings(config, env={"FINSYNC_HOME": str(tmp_path / "home")})
    settings = settings.with_pair(PairConfig(name="acme", sandbox_dir="sandbox"))
    settings = settings.with_pair(
        PairConfig(
            name="readonly",
            sandbox_dir="sandbox",
            write_back=WriteBackConfig(rules=Rules.model_validate(dict.fromkeys(Rules.model_fields, "off"))),
        )
    )
    ledger = Ledger(settings.ledger_url)
    ledger.migrate()
    return build_definitions(settings), ledger


def _plan(ledger: Ledger, source_id: str) -> None:
    ledger.plan(
        [
            PlannedAction(
                pair="acme", action="m3.customer.add", target="infor", entity="customers",
                source_system="freshbooks", source_id=source_id, source_version="v1", payload={"CUNO": "FB1"},
            )
        ]
    )  # fmt: skip


def test_the_outbox_sensor_launches_a_push_for_the_pair_with_due_actions(setup) -> None:
    definitions, ledger = setup
    sensor = definitions.resolve_sensor_def("outbox_sensor")
    resources = {"ledger": LedgerResource(url=ledger.url)}
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=resources)
        assert sensor(context).run_requests == []
        _plan(ledger, "1")
        [request] = sensor(dg.build_sensor_context(instance=instance, resources=resources)).run_requests
        assert request.partition_key == "acme" and request.tags["finsync/pair"] == "acme"
        [claimed] = ledger.claim(pair="acme", target="infor", owner="t@h/b/n")
        ledger.finish(claimed, Outcome(State.RETRY_WAIT, next_attempt_at=utcnow() + timedelta(hours=1)))
        assert sensor(dg.build_sensor_context(instance=instance, resources=resources)).run_requests == []


def test_a_successful_reconciliation_launches_write_back_for_a_writing_pair_only(setup) -> None:
    definitions, _ledger = setup
    sensor = definitions.resolve_sensor_def("plan_after_reconciliation")
    with dg.instance_for_test() as instance:
        for pair, expected in (("acme", 1), ("readonly", 0)):
            run = instance.create_run_for_job(
                definitions.resolve_job_def("read_side"), run_id=str(uuid.uuid4()),
                tags={"finsync/pair": pair, "dagster/partition": pair},
            )  # fmt: skip
            event = dg.DagsterEvent(event_type_value="PIPELINE_SUCCESS", job_name="read_side", message="ok")
            context = dg.build_run_status_sensor_context(
                sensor_name="plan_after_reconciliation",
                dagster_event=event,
                dagster_instance=instance,
                dagster_run=run,
            )
            requests = [r for r in (sensor(context) or []) if isinstance(r, dg.RunRequest)]
            assert len(requests) == expected
            if expected:
                assert requests[0].run_key == f"write_back:{run.run_id}" and requests[0].partition_key == pair
