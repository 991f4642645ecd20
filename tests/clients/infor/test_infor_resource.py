"""InforResource built from finsync settings: a pair's ``infor:`` section or its sandbox.json."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import httpx
import pytest
import yaml

from finsync_dagster.errors import ConfigError
from finsync_dagster.resources.infor import InforResource
from finsync_dagster.settings import load_settings
from tests.clients.infor.fakes import FAST, IONAPI, SECRETS, FakeGateway, mi_ok, write_ionapi


def _settings(tmp_path: Path, pair: dict[str, object]) -> object:
    config = tmp_path / "finsync.yaml"
    config.write_text(yaml.safe_dump({"pairs": [pair]}), encoding="utf-8")
    return load_settings(config, env={"FINSYNC_HOME": str(tmp_path / "home")})


def test_pair_with_ionapi_in_an_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_IONAPI", json.dumps(IONAPI))
    settings = _settings(
        tmp_path,
        {"name": "acme", "freshbooks": {"account_id": "x"},
         "infor": {"company": "100", "division": "AAA", "ionapi_env": "ACME_IONAPI"}},
    )  # fmt: skip
    resource = InforResource.for_pair(settings, "acme")  # type: ignore[arg-type]
    assert isinstance(resource.ionapi_json, dg.EnvVar)
    assert (resource.company, resource.division, resource.token_account) == ("100", "AAA", "acme")
    assert resource.load_credentials().tenant == IONAPI["ti"]
    for secret in SECRETS:
        assert secret not in repr(resource)


def test_unset_environment_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_IONAPI", raising=False)
    resource = InforResource(company="100", ionapi_json=dg.EnvVar("NOPE_IONAPI"))
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
    resource = InforResource.for_pair(settings, "demo")  # type: ignore[arg-type]
    assert resource.ionapi_file == str(ionapi)
    assert resource.ledger_url == settings.ledger_url  # type: ignore[attr-defined]


def test_open_client_shares_its_token_through_the_ledger(tmp_path: Path) -> None:
    gateway = FakeGateway(api=lambda r: mi_ok([]))
    resource = InforResource(
        company="100",
        ionapi_file=str(write_ionapi(tmp_path)),
        ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        token_account="acme",
        revoke_on_close=False,
    )
    for _ in range(2):
        with resource.open_client(transport=httpx.MockTransport(gateway), policy=FAST) as m3:
            m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert len(gateway.token_forms) == 1
