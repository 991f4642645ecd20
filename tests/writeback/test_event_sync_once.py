"""A change announced three times, announced again after it was taken, and seen by the poller too: one
write to the other system.

Against both sandboxes (empty seed): a client is created in FreshBooks through its API; the inbox gets its
callback three times (one row: identical prompts fold while the first waits), the inbox sensor takes it
and the event sync runs; the callback comes once more (a FreshBooks retry after the run was asked for:
a new row, a new run); then the pair's incremental read runs as a poller's would. The outbox holds one
action for the client, done, and M3 holds one customer for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from click.testing import CliRunner

from finsync_dagster.automation import EVENT_SYNC_JOB, READ_SIDE_JOB
from finsync_dagster.cli import cli
from finsync_dagster.definitions import build_definitions
from finsync_dagster.ledger import Delivery, Ledger, State, freshbooks_key
from finsync_dagster.pipeline import run_job
from finsync_dagster.resources import LedgerResource
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.runner import SandboxOptions, start
from finsync_dagster.settings import Settings, load_settings

pytestmark = pytest.mark.slow

PAIR = "sandbox"
NEW_CLIENT = {
    "organization": "Announced Thrice Ltd", "currency_code": "USD", "email": "ap@thrice.example",
    "p_street": "12 Repeat Road", "p_city": "Toronto", "p_province": "ON", "p_code": "M5V 2T6",
    "p_country": "Canada",
}  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Settings, Ledger]]:
    sandbox_dir = tmp_path / "sandbox"
    running = start(SandboxOptions(dir=sandbox_dir, seed="empty"))
    try:
        config = tmp_path / "finsync.yaml"
        config.write_text(f"version: 1\npairs:\n  - name: {PAIR}\n    sandbox_dir: {sandbox_dir}\n", "utf-8")
        env = {
            "FINSYNC_HOME": str(tmp_path / "home"),
            "FINSYNC_CONFIG": str(config),
            "FINSYNC_LEDGER_URL": "",
        }
        for system in ("freshbooks", "infor"):
            done = CliRunner().invoke(
                cli, ["connect", system, "--sandbox", str(sandbox_dir), "--pair", PAIR], env=env
            )
            assert done.exit_code == 0, done.output
        settings = load_settings(config, env=env)
        yield settings, Ledger(settings.ledger_url)
    finally:
        running.stop()


def callback(client_id: str, account: str) -> Delivery:
    fields = {"name": "client.create", "object_id": client_id, "account_id": account, "user_id": "1"}
    return Delivery(
        pair=PAIR, system="freshbooks", event="client.create", object_id=client_id, account_id=account,
        business_id=None, dedupe_key=freshbooks_key(fields), body="", received_at=datetime.now(UTC),
    )  # fmt: skip


def test_three_announcements_a_retry_and_the_poller_make_one_action(world) -> None:
    settings, ledger = world
    definitions = build_definitions(settings)
    sensor = definitions.resolve_sensor_def("inbox_sensor")
    clients = PairClients.of(settings)
    with clients.freshbooks(PAIR) as fb:
        client = fb.create("clients", NEW_CLIENT)
    account = settings.pair(PAIR).freshbooks.account_id
    cursor = None

    def tick(instance: dg.DagsterInstance) -> list[dg.RunRequest]:
        nonlocal cursor
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"ledger": LedgerResource(url=ledger.url)}
        )
        result: Any = sensor(context)
        cursor = result.cursor or cursor
        return list(result.run_requests)

    with dg.instance_for_test() as instance:
        assert ledger.add_to_inbox([callback(str(client["id"]), account)] * 3) == [True, False, False]
        [first] = tick(instance)
        assert run_job(settings, PAIR, EVENT_SYNC_JOB, instance=instance, run_config={}).success
        ledger.add_to_inbox([callback(str(client["id"]), account)])
        [second] = tick(instance)
        assert second.run_key != first.run_key
        assert run_job(settings, PAIR, EVENT_SYNC_JOB, instance=instance, run_config={}).success
        assert run_job(settings, PAIR, READ_SIDE_JOB, instance=instance, run_config={}).success  # the poller
        assert run_job(settings, PAIR, EVENT_SYNC_JOB, instance=instance, run_config={}).success

    mine = [a for a in ledger.actions(pair=PAIR) if a.source_id == str(client["id"])]
    errors = [a.last_error for a in mine]
    assert [(a.action, a.state) for a in mine] == [("m3.customer.add", State.DONE)], errors
    with clients.infor(PAIR) as m3:
        customers = m3.list_transaction("CRS610MI", "LstByNumber")
        named = [row for row in customers if row.get("CUNM") == "Announced Thrice Ltd"]
    assert len(named) == 1
