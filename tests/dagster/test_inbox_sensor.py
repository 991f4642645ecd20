"""The inbox sensor: webhook deliveries become one event-sync run per pair per batch, keyed by the batch.

The batching is tested as a plain function (with generated inboxes), then the sensor is evaluated against
a real ledger and a real Dagster instance, tick after tick, as the daemon would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from finsync_dagster.assets.outbox import planned_by
from finsync_dagster.automation.decisions import INBOX_BATCH, inbox_batches
from finsync_dagster.definitions import build_definitions
from finsync_dagster.ledger import Delivery, Ledger, Outcome, PlannedAction, freshbooks_key
from finsync_dagster.resources import LedgerResource
from finsync_dagster.settings import PairConfig, load_settings

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def delivery(object_id: str, *, pair: str = "acme", name: str = "invoice.update") -> Delivery:
    fields = {"name": name, "object_id": object_id, "account_id": "A1", "business_id": "7", "user_id": "1"}
    return Delivery(
        pair=pair, system="freshbooks", event=name, object_id=object_id, account_id="A1", business_id="7",
        dedupe_key=freshbooks_key(fields), body="", received_at=T0,
    )  # fmt: skip


_PAIRS = st.sampled_from(["a", "b", "gone"])


@given(st.lists(st.tuples(st.integers(1, 10_000), _PAIRS), unique_by=lambda row: row[0]))
def test_every_waiting_row_is_in_exactly_one_batch_of_its_pair(pairs: list[tuple[int, str]]) -> None:
    rows = [(row_id, pair, None) for row_id, pair in pairs]
    batches, orphans = inbox_batches(rows, pairs=["a", "b"])
    assert len({batch.pair for batch in batches}) == len(batches)  # one run per pair
    taken = [row_id for batch in batches for row_id in batch.ids] + orphans
    assert sorted(taken) == sorted(row_id for row_id, _ in pairs)
    by_id = dict(pairs)
    for batch in batches:
        assert list(batch.ids) == sorted(batch.ids) and batch.fresh
        assert all(by_id[row_id] == batch.pair for row_id in batch.ids)
        assert batch.run_key == f"inbox:{batch.pair}:{batch.ids[0]}-{batch.ids[-1]}"
    assert all(by_id[row_id] == "gone" for row_id in orphans)


@given(st.lists(st.tuples(st.integers(1, 10_000), _PAIRS), unique_by=lambda row: row[0]))
def test_taking_the_batches_and_reading_again_asks_for_the_same_runs(pairs: list[tuple[int, str]]) -> None:
    first, _orphans = inbox_batches([(row_id, pair, None) for row_id, pair in pairs], pairs=["a", "b"])
    run_of = {row_id: batch.run_key for batch in first for row_id in batch.ids}
    again, orphans = inbox_batches(
        [(i, p, run_of.get(i, "no such pair")) for i, p in pairs], pairs=["a", "b"]
    )
    assert orphans == [] and not any(batch.fresh for batch in again)
    assert [(b.pair, b.ids, b.run_key) for b in again] == [(b.pair, b.ids, b.run_key) for b in first]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[dg.Definitions, Ledger]:
    config = tmp_path / "finsync.yaml"
    config.write_text("version: 1\npairs: []\n", encoding="utf-8")
    settings = load_settings(config, env={"FINSYNC_HOME": str(tmp_path / "home")})
    for name in ("acme", "beta"):
        settings = settings.with_pair(PairConfig(name=name, sandbox_dir="sandbox"))
    ledger = Ledger(settings.ledger_url)
    ledger.migrate()
    return build_definitions(settings), ledger


@dataclass
class Tick:
    requests: list[dg.RunRequest]
    cursor: str | None

    @property
    def keys(self) -> list[str]:
        return [request.run_key or "" for request in self.requests]


def tick(
    definitions: dg.Definitions, ledger: Ledger, instance: dg.DagsterInstance, cursor: str | None
) -> Tick:
    sensor = definitions.resolve_sensor_def("inbox_sensor")
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"ledger": LedgerResource(url=ledger.url)}
    )
    result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return Tick(list(result.run_requests or []), result.cursor)


def test_it_is_stopped_unless_the_config_says_running(setup) -> None:
    definitions, _ledger = setup
    assert definitions.resolve_sensor_def("inbox_sensor").default_status == dg.DefaultSensorStatus.STOPPED


def test_deliveries_become_one_run_per_pair_and_are_marked_taken(setup) -> None:
    definitions, ledger = setup
    with dg.instance_for_test() as instance:
        empty = tick(definitions, ledger, instance, None)
        assert empty.requests == [] and empty.cursor is None
        ledger.add_to_inbox([delivery("1"), delivery("2"), delivery("9", pair="beta"), delivery("3")])
        result = tick(definitions, ledger, instance, None)
        keys = {r.partition_key: r.run_key for r in result.requests}
        assert keys == {"acme": "inbox:acme:1-4", "beta": "inbox:beta:3-3"}
        assert all(r.job_name in (None, "event_sync") for r in result.requests)
        assert result.cursor == "4"
        rows = ledger.inbox_after(0)
        assert {row.processed_run for row in rows} == {"inbox:acme:1-4", "inbox:beta:3-3"}
        assert ledger.inbox_backlog().pending == 0
        assert tick(definitions, ledger, instance, result.cursor).requests == []


def test_a_tick_whose_cursor_was_lost_asks_for_the_same_runs(setup) -> None:
    definitions, ledger = setup
    with dg.instance_for_test() as instance:
        ledger.add_to_inbox([delivery("1"), delivery("2")])
        first = tick(definitions, ledger, instance, None)
        again = tick(definitions, ledger, instance, None)  # as if the first tick's cursor was never saved
        assert first.keys == ["inbox:acme:1-2"]
        assert again.keys == ["inbox:acme:1-2"]  # Dagster skips it if launched
        assert again.cursor == first.cursor


def test_an_object_announced_three_times_while_waiting_is_one_row_and_one_run(setup) -> None:
    definitions, ledger = setup
    with dg.instance_for_test() as instance:
        assert ledger.add_to_inbox([delivery("7"), delivery("7"), delivery("7")]) == [True, False, False]
        result = tick(definitions, ledger, instance, None)
        assert result.keys == ["inbox:acme:1-1"]
        # announced again after the run was asked for: a new prompt, a new run (it may be a new change)
        ledger.add_to_inbox([delivery("7")])
        later = tick(definitions, ledger, instance, result.cursor)
        assert later.keys == ["inbox:acme:2-2"]


def test_a_flood_launches_at_most_one_run_per_pair_per_batch(setup) -> None:
    definitions, ledger = setup
    flood = 2 * INBOX_BATCH + 37
    ledger.add_to_inbox([delivery(str(n)) for n in range(flood)])
    runs: list[str] = []
    cursor = None
    with dg.instance_for_test() as instance:
        for _ in range(5):
            result = tick(definitions, ledger, instance, cursor)
            runs += result.keys
            cursor = result.cursor or cursor
    assert runs == [
        f"inbox:acme:1-{INBOX_BATCH}",
        f"inbox:acme:{INBOX_BATCH + 1}-{2 * INBOX_BATCH}",
        f"inbox:acme:{2 * INBOX_BATCH + 1}-{flood}",
    ]
    assert ledger.inbox_backlog().pending == 0


def test_rows_for_a_pair_no_longer_configured_are_set_aside(setup) -> None:
    definitions, ledger = setup
    ledger.add_to_inbox([delivery("1", pair="gone"), delivery("2")])
    with dg.instance_for_test() as instance:
        result = tick(definitions, ledger, instance, None)
    assert result.keys == ["inbox:acme:2-2"]
    assert {row.processed_run for row in ledger.inbox_after(0)} == {"no such pair", "inbox:acme:2-2"}


def test_the_latency_of_a_batch_runs_from_each_delivery_to_the_first_write_it_planned(setup) -> None:
    definitions, ledger = setup
    ledger.add_to_inbox([delivery("1"), delivery("2")])
    with dg.instance_for_test() as instance:
        [request] = tick(definitions, ledger, instance, None).requests
        run = instance.create_run_for_job(
            definitions.resolve_job_def("event_sync"),
            tags={**request.tags, "dagster/run_key": request.run_key or ""},
        )
    assert planned_by(run) == request.run_key == "inbox:acme:1-2"
    assert ledger.event_latencies(planned_by(run)) == []  # nothing written yet
    action = PlannedAction(
        pair="acme", action="m3.customer.add", target="infor", entity="customers", source_system="freshbooks",
        source_id="1", source_version="v1", payload={"CUNO": "FB1"},
    )  # fmt: skip
    ledger.plan([action], planned_by=planned_by(run))
    [claimed] = ledger.claim(pair="acme", target="infor", owner="t@h/b/n")
    ledger.finish(claimed, Outcome.done("FB1"))
    latencies = ledger.event_latencies(planned_by(run))
    assert len(latencies) == 2 and all(seconds > 0 for seconds in latencies)  # received at T0, done now
    assert sorted(ledger.figures().latency_seconds["acme"]) == sorted(
        latencies
    )  # what `finsync status` shows


def test_a_run_no_webhook_started_plans_under_its_own_id(setup) -> None:
    definitions, _ledger = setup
    with dg.instance_for_test() as instance:
        job = definitions.resolve_job_def("event_sync")
        run = instance.create_run_for_job(job, tags={"dagster/run_key": "poll:infor:acme:abc"})
    assert planned_by(run) == f"run {run.run_id}"


def test_a_pair_with_two_event_syncs_in_flight_is_held_until_one_is_done(setup) -> None:
    definitions, ledger = setup
    job = definitions.resolve_job_def("event_sync")
    with dg.instance_for_test() as instance:
        runs = [instance.create_run_for_job(job, tags={"finsync/pair": "acme"}) for _ in range(2)]
        ledger.add_to_inbox([delivery("1"), delivery("2", pair="beta"), delivery("3")])
        held = tick(definitions, ledger, instance, None)
        assert held.keys == ["inbox:beta:2-2"] and held.cursor is None  # acme's row 1 stays unread
        assert [row.processed_run for row in ledger.inbox_after(0)] == [None, "inbox:beta:2-2", None]
        ledger.add_to_inbox([delivery("4")])
        instance.report_run_failed(runs[0])
        later = tick(definitions, ledger, instance, held.cursor)
        assert later.keys == ["inbox:acme:1-4", "inbox:beta:2-2"]  # beta's again, under its key: skipped
        assert later.cursor == "4"
