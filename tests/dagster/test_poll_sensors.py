"""The poll sensors against both sandboxes (empty seed): a record created in M3 through MI, or in FreshBooks
through its API, makes one event-sync run of its pair at the next tick, and nothing at the tick after."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.definitions import build_definitions
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.runner import SandboxOptions, start
from finsync_dagster.settings import Settings, load_settings

pytestmark = pytest.mark.slow  # two sandboxes, two connects, API calls: about 15-30 s

PAIR = "sandbox"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    root = tmp_path_factory.mktemp("polls")
    running = start(SandboxOptions(dir=root / "sandbox", seed="empty"))
    try:
        config = root / "finsync.yaml"
        config.write_text(
            f"version: 1\npairs:\n  - name: {PAIR}\n    sandbox_dir: {root / 'sandbox'}\n", "utf-8"
        )
        env = {"FINSYNC_HOME": str(root / "home"), "FINSYNC_CONFIG": str(config), "FINSYNC_LEDGER_URL": ""}
        for system in ("freshbooks", "infor"):
            argv = ["connect", system, "--sandbox", str(root / "sandbox"), "--pair", PAIR]
            done = CliRunner().invoke(cli, argv, env=env)
            assert done.exit_code == 0, done.output
        yield load_settings(config, env=env)
    finally:
        running.stop()


class Poller:
    def __init__(self, settings: Settings, system: str) -> None:
        self.sensor = build_definitions(settings).resolve_sensor_def(f"{system}_poll_sensor")
        self.clients = PairClients.of(settings)
        self.cursor: str | None = None

    def tick(self) -> list[dg.RunRequest]:
        with dg.instance_for_test() as instance:
            context = dg.build_sensor_context(
                instance=instance, cursor=self.cursor, resources={"clients": self.clients}
            )
            result = self.sensor(context)
        assert isinstance(result, dg.SensorResult)
        self.cursor = result.cursor
        return list(result.run_requests or [])


def test_an_m3_customer_added_through_mi_makes_one_run(settings: Settings) -> None:
    poller = Poller(settings, "infor")
    poller.tick()  # whatever the seed left today
    assert poller.tick() == []
    with poller.clients.infor(PAIR) as m3:
        m3.execute(
            program="CRS610MI",
            transaction="Add",
            params={"CUNO": "POLL001", "CUNM": "Polled Customer Ltd", "CUTM": "TSTD", "CUA1": "1 Poll St",
                    "TOWN": "Toronto", "CSCD": "CA", "MAIL": "ap@polled.example"},
        )  # fmt: skip
    [request] = poller.tick()
    assert (
        request.partition_key == PAIR
        and request.run_key
        and request.run_key.startswith("poll:infor:sandbox:")
    )
    assert request.tags["finsync/poll"] == "infor"
    assert poller.tick() == []


def test_a_freshbooks_client_created_without_a_webhook_makes_one_run(settings: Settings) -> None:
    poller = Poller(settings, "freshbooks")
    poller.tick()
    assert poller.tick() == []
    with poller.clients.freshbooks(PAIR) as fb:
        fb.create("clients", {"organization": "Unannounced Ltd", "email": "ap@quiet.example"})
    [request] = poller.tick()
    assert request.run_key and request.run_key.startswith("poll:freshbooks:sandbox:")
    assert poller.tick() == []
