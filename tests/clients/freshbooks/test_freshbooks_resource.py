"""FreshBooksResource: built by PairClients from a pair in finsync.yaml (env-var secrets or a
sandbox.json), with the pair's limits, secrets resolved at use and never shown."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from finsync_dagster.errors import ConfigError
from finsync_dagster.resources.freshbooks import FreshBooksResource
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.settings import Settings, load_settings

SANDBOX_SECTION = {
    "api_url": "http://127.0.0.1:1234",
    "auth_url": "http://127.0.0.1:1234",
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret-xyz",
    "redirect_uri": "https://localhost/finsync/callback",
    "account_id": "SBX1",
    "business_id": 77,
}


def settings_with(tmp_path: Path, yaml_text: str) -> Settings:
    config = tmp_path / "finsync.yaml"
    config.write_text(yaml_text, encoding="utf-8")
    return load_settings(config, env={"FINSYNC_HOME": str(tmp_path / "home")})


def test_sandbox_pair_takes_everything_from_sandbox_json(tmp_path: Path) -> None:
    sandbox = tmp_path / "sb"
    sandbox.mkdir()
    (sandbox / "sandbox.json").write_text(json.dumps({"freshbooks": SANDBOX_SECTION}), encoding="utf-8")
    settings = settings_with(tmp_path, f"pairs:\n  - name: demo\n    sandbox_dir: {sandbox}\n")

    resource = PairClients.of(settings).freshbooks_resource("demo", max_concurrency=3)

    assert (resource.account_id, resource.business_id, resource.api_url) == (
        "SBX1",
        77,
        "http://127.0.0.1:1234",
    )
    assert resource.token_key == "demo"
    assert resource.policy().max_concurrency == 3
    assert resource.oauth_app().client_secret == "sandbox-secret-xyz"
    assert "sandbox-secret-xyz" not in repr(resource)
    assert "sandbox-secret-xyz" not in repr(resource.oauth_app())


def test_pair_limits_reach_the_client_policy_in_requests_per_minute(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, REAL_PAIR + "    freshbooks_limits: {requests_per_minute: 90}\n")
    resource = PairClients.of(settings).freshbooks_resource("acme")
    assert resource.policy().requests_per_minute == 90


def test_ledger_password_is_masked_in_the_clients_repr(tmp_path: Path) -> None:
    url = "postgresql+psycopg://finsync:ledger-pw-42@db.internal/finsync"
    settings = settings_with(tmp_path, REAL_PAIR).model_copy(update={"ledger_url": url})
    text = repr(PairClients.of(settings))
    assert "ledger-pw-42" not in text
    assert "finsync:***@db.internal/finsync" in text


def test_sandbox_pair_without_a_freshbooks_section_is_a_config_error(tmp_path: Path) -> None:
    sandbox = tmp_path / "sb"
    sandbox.mkdir()
    (sandbox / "sandbox.json").write_text(json.dumps({"infor": {}}), encoding="utf-8")
    settings = settings_with(tmp_path, f"pairs:\n  - name: demo\n    sandbox_dir: {sandbox}\n")
    with pytest.raises(ConfigError, match="no freshbooks section"):
        PairClients.of(settings).freshbooks_resource("demo")


REAL_PAIR = """
pairs:
  - name: acme
    freshbooks:
      account_id: ABC123
      client_id_env: ACME_FB_ID
      client_secret_env: ACME_FB_SECRET
    infor:
      company: "100"
      ionapi_env: ACME_IONAPI
"""


def test_real_pair_reads_secrets_from_the_named_env_vars_at_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource = PairClients.of(settings_with(tmp_path, REAL_PAIR)).freshbooks_resource("acme")
    monkeypatch.setenv("ACME_FB_ID", "real-id")
    monkeypatch.setenv("ACME_FB_SECRET", "real-secret-123")

    app = resource.oauth_app()

    assert (app.client_id, app.client_secret) == ("real-id", "real-secret-123")
    assert app.token_url == "https://api.freshbooks.com/auth/oauth/token"
    assert "real-secret-123" not in repr(resource)


def test_unset_secret_env_var_is_named_in_the_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_FB_ID", "real-id")
    monkeypatch.delenv("ACME_FB_SECRET", raising=False)
    resource = PairClients.of(settings_with(tmp_path, REAL_PAIR)).freshbooks_resource("acme")
    with pytest.raises(ConfigError, match="ACME_FB_SECRET is not set"):
        resource.oauth_app()


def test_env_var_secrets_resolve_inside_a_dagster_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FB_TEST_SECRET", "run-secret-456")
    seen: list[str] = []

    @dg.asset
    def probe(freshbooks: FreshBooksResource) -> None:
        seen.append(freshbooks.oauth_app().client_secret)

    resource = FreshBooksResource(
        account_id="A",
        redirect_uri="https://localhost/cb",
        client_id="id",
        client_secret=dg.EnvVar("FB_TEST_SECRET"),
        token_key="acme",
    )
    assert dg.materialize([probe], resources={"freshbooks": resource}).success
    assert seen == ["run-secret-456"]
