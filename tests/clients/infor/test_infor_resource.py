"""InforResource built by PairClients from finsync settings: a pair's ``infor:`` section or its
sandbox.json, with the pair's limits in the same unit as FreshBooks', and its token in the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import httpx
import pytest
import yaml

from finsync_dagster.errors import ConfigError
from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.infor import InforResource
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.settings import Settings, load_settings
from tests.clients.infor.fakes import FAST, IONAPI, SECRETS, FakeGateway, mi_ok, write_ionapi


def _settings(tmp_path: Path, pair: dict[str, object]) -> Settings:
    config = tmp_path / "finsync.yaml"
    config.write_text(yaml.safe_dump({"pairs": [pair]}), encoding="utf-8")
    return load_settings(config, env={"FINSYNC_HOME": str(tmp_path / "home")})


def test_pair_with_ionapi_in_an_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_IONAPI", json.dumps(IONAPI))
    settings = _settings(
        tmp_path,
        {"name": "acme", "freshbooks": {"account_id": "x"},
         "infor": {"company": "100", "division": "AAA", "ionapi_env": "ACME_IONAPI"},
         "infor_limits": {"requests_per_minute": 120}},
    )  # fmt: skip
    resource = PairClients.of(settings).infor_resource("acme")
    assert isinstance(resource.ionapi_json, dg.EnvVar)
    assert (resource.company, resource.division, resource.token_key) == ("100", "AAA", "acme")
    assert resource.policy().requests_per_minute == 120
    assert resource.load_credentials().tenant == IONAPI["ti"]
    for secret in SECRETS:
        assert secret not in repr(resource)


def test_unset_environment_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_IONAPI", raising=False)
    resource = InforResource(company="100", ionapi_json=dg.EnvVar("NOPE_IONAPI"), token_key="acme")
    with pytest.raises(ConfigError, match="NOPE_IONAPI"):
        resource.load_credentials()


def test_sandbox_pair_reads_sandbox_json(tmp_path: Path) -> None:
    sandbox = tmp_path / "sb"
    sandbox.mkdir()
    ionapi = write_ionapi(sandbox)
    (sandbox / "sandbox.json").write_text(
        json.dumps({"infor": {"company": "100", "division": "AAA", "ionapi_file": str(ionapi)}}),
        encoding="utf-8",
    )
    settings = _settings(tmp_path, {"name": "demo", "sandbox_dir": str(sandbox)})
    resource = PairClients.of(settings).infor_resource("demo")
    assert (resource.ionapi_file, resource.token_key) == (str(ionapi), "demo")


def test_sandbox_that_is_not_running_says_how_to_start_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path, {"name": "demo", "sandbox_dir": str(tmp_path / "nowhere")})
    with pytest.raises(ConfigError, match="finsync sandbox --dir"):
        PairClients.of(settings).infor("demo")


def test_clients_share_their_token_through_the_ledger(tmp_path: Path) -> None:
    gateway = FakeGateway(api=lambda r: mi_ok([]))
    resource = InforResource(
        company="100", ionapi_file=str(write_ionapi(tmp_path)), token_key="acme", revoke_on_close=False
    )
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    for _ in range(2):
        with resource.get_client(ledger, transport=httpx.MockTransport(gateway), policy=FAST) as m3:
            m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert len(gateway.token_forms) == 1
    assert ledger.get_token("infor", "acme") is not None
