"""A refused write dead-letters that action alone; fixing the mapping and retrying completes it, once;
``finsync push --dry-run`` names exactly the writes the following push makes.

The scenario is entered through the APIs into empty sandboxes: three FreshBooks clients M3 lacks, and a
team mapping (``mapping.specs_dir``) that gives two of them a customer template M3 does not have.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.ledger import Ledger, State
from finsync_dagster.mapping.registry import SPECS_DIR
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.runner import SandboxOptions, start
from finsync_dagster.settings import load_settings
from tests.writeback.homes import finsync_home

pytestmark = pytest.mark.slow
SHIPPED = SPECS_DIR / "core_to_m3" / "customers_crs610mi_add.yaml"
BROKEN = "  CUTM:\n    when:\n      - if: {field: city, equals: Oslo}\n        then: {value: NOPE}\n    else: {from: customer_template, default: TSTD}\n"
CLIENTS = [("Fjord Fisk AS", "Oslo"), ("Nordlys AS", "Oslo"), ("Bergen Bryggeri AS", "Bergen")]


def _json(output: str) -> dict:
    return json.loads(output[output.index("{") :])


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    home = tmp_path_factory.mktemp("dlq")
    sandbox_dir = home / "sandbox"
    specs = home / "specs"
    specs.mkdir()
    shipped = SHIPPED.read_text(encoding="utf-8")
    team_spec = specs / "customers_crs610mi_add.yaml"
    team_spec.write_text(shipped.replace("  CUTM: {from: customer_template, default: TSTD}\n", BROKEN))
    config = home / "finsync.yaml"
    config.write_text(
        f"version: 1\npairs:\n  - name: sandbox\n    sandbox_dir: {sandbox_dir}\nmapping:\n  specs_dir: specs\n",
        encoding="utf-8",
    )
    running = start(SandboxOptions(dir=sandbox_dir, seed="empty"))
    try:
        with finsync_home(home):
            runner = CliRunner()

            def run(*args: str) -> str:
                result = runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
                assert result.exit_code == 0, result.output
                return result.output

            run("connect", "freshbooks", "--sandbox", str(sandbox_dir))
            run("connect", "infor", "--sandbox", str(sandbox_dir))
            settings = load_settings(config, env={"FINSYNC_HOME": str(home)})
            with PairClients.of(settings).freshbooks("sandbox") as fb:
                for name, city in CLIENTS:
                    fb.create("clients", {"organization": name, "email": f"post@{name.split()[0].lower()}.example",
                                          "p_street": "1 Kaien", "p_city": city, "p_code": "5003", "p_country": "Norway"})  # fmt: skip
            run("sync")
            yield {"run": run, "settings": settings, "ledger": Ledger(settings.ledger_url),
                   "team_spec": team_spec, "shipped": shipped}  # fmt: skip
    finally:
        running.stop()


def _m3_customers(settings) -> list[str]:
    with PairClients.of(settings).infor("sandbox") as m3:
        return sorted(r["CUNO"] for r in m3.list_transaction("CRS610MI", "LstByNumber"))


def test_dry_run_names_exactly_what_the_push_does_and_a_refusal_dead_letters_only_its_action(
    scenario,
) -> None:
    run, ledger = scenario["run"], scenario["ledger"]
    dry = _json(run("push", "--dry-run", "--json"))
    assert ledger.actions(pair="sandbox") == []  # a dry run writes nothing, not even the outbox
    pushed = _json(run("push", "--json"))
    assert sorted(a["key"] for a in dry["actions"]) == sorted(a["key"] for a in pushed["actions"])
    assert {a["verb"] for a in dry["actions"]} == {"create"} and len(dry["actions"]) == 3
    states = {a["source_id"]: a["state"] for a in pushed["actions"]}
    assert sorted(states.values()) == ["dead", "dead", "done"]  # the good one went through
    letters = ledger.dead_letters(pair="sandbox")
    assert len(letters) == 2 and len({letter["pattern"] for letter in letters}) == 1  # one error pattern
    assert "Customer template NOPE does not exist" in letters[0]["message"]
    assert json.loads(letters[0]["request"])["record"]["CUTM"] == "NOPE"
    assert len(_m3_customers(scenario["settings"])) == 1


def test_fixing_the_mapping_and_retrying_completes_it_once(scenario) -> None:
    run, ledger = scenario["run"], scenario["ledger"]
    letters = ledger.dead_letters(pair="sandbox")
    scenario["team_spec"].write_text(scenario["shipped"], encoding="utf-8")  # the mapping is fixed
    for letter in letters:
        assert ledger.retry_dead(letter["id"], by="test") == "retried"
        assert ledger.retry_dead(letter["id"], by="test") == "already retried"  # twice: one effect
    pushed = _json(run("push", "--json"))
    assert pushed["summary"]["created"] == 2 and pushed["summary"]["dead"] == 0
    assert len(_m3_customers(scenario["settings"])) == 3
    assert all(a.state == State.DONE for a in ledger.actions(pair="sandbox"))
    again = _json(run("push", "--json"))  # and nothing more, however often it is run
    assert again["actions"] == [] and len(_m3_customers(scenario["settings"])) == 3
