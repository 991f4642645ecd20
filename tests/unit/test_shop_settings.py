"""A pair's optional ``shop:`` section: declared in finsync.yaml with the names of the variables holding
its secrets, or filled from a running sandbox's sandbox.json; a pair without one works as before."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from finsync_dagster.errors import ConfigError
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.resources.settings import SettingsResource
from finsync_dagster.settings import load_settings

REPO = Path(__file__).resolve().parents[2]

WITH_SHOP = """\
version: 1
pairs:
  - name: acme-us
    freshbooks:
      account_id: ABC123
    infor:
      company: "100"
      ionapi_env: ACME_IONAPI
    shop:
      shop_domain: acme.myshopify.com
      access_token_env: ACME_SHOP_TOKEN
      webhook_secret_env: ACME_SHOP_SECRET
    shop_limits:
      max_concurrency: 2
  - name: acme-ca
    freshbooks:
      account_id: ABC124
    infor:
      company: "200"
      ionapi_env: ACME_CA_IONAPI
"""

SANDBOX_JSON = {
    "infor": {"company": "100", "division": "AAA", "ionapi_file": "/sb/infor.ionapi"},
    "shop": {
        "api_url": "http://127.0.0.1:3",
        "shop_domain": "finsync-demo.myshopify.com",
        "api_version": "2025-10",
        "access_token": "shpat_sandbox_token_xyz",
        "webhook_secret": "shpss_sandbox_secret_xyz",
    },
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "finsync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_declared_shop_names_its_variables_and_a_pair_without_one_has_none(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, WITH_SHOP), env={"FINSYNC_HOME": str(tmp_path)})
    shop = settings.pair("acme-us").shop
    assert shop is not None and (shop.shop_domain, shop.api_version) == ("acme.myshopify.com", "2025-10")
    assert (shop.access_token_env, shop.webhook_secret_env) == ("ACME_SHOP_TOKEN", "ACME_SHOP_SECRET")
    assert settings.pair("acme-ca").shop is None
    clients = PairClients.of(settings)
    assert clients.has_shop("acme-us") and not clients.has_shop("acme-ca")
    resource = clients.shop_resource("acme-us")
    assert (
        isinstance(resource.access_token, dg.EnvVar)
        and resource.access_token.env_var_name == "ACME_SHOP_TOKEN"
    )
    assert resource.base_url() == "https://acme.myshopify.com" and resource.max_concurrency == 2
    with pytest.raises(ConfigError, match="has no shop section"):
        clients.shop_resource("acme-ca")


def test_the_token_is_read_from_its_variable_when_the_client_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = PairClients.of(load_settings(write(tmp_path, WITH_SHOP), env={"FINSYNC_HOME": str(tmp_path)}))
    monkeypatch.delenv("ACME_SHOP_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="ACME_SHOP_TOKEN is not set"):
        clients.shop("acme-us")
    monkeypatch.setenv("ACME_SHOP_TOKEN", "shpat_from_the_environment")
    with clients.shop("acme-us") as client:
        assert "shpat_from_the_environment" not in repr(client)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("access_token_env: ACME_SHOP_TOKEN", "access_token: shpat_literal"),
            "secrets never go in finsync.yaml",
        ),
        (("acme.myshopify.com", "shop.acme.com"), "permanent myshopify.com handle"),
        (
            ("shop_domain: acme.myshopify.com", "shop_domain: acme.myshopify.com\n      api_version: v1"),
            "api_version",
        ),
        (("webhook_secret_env: ACME_SHOP_SECRET", "webhook_secret: abc"), "secrets never go in finsync.yaml"),
    ],
)
def test_a_bad_shop_section_names_the_line_and_the_fix(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = write(tmp_path, WITH_SHOP.replace(*change))
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings(path, env={})
    assert "line" in str(raised.value) and "shpat_literal" not in str(raised.value)


def test_a_running_shop_sandbox_becomes_the_pairs_shop_section(tmp_path: Path) -> None:
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "sandbox.json").write_text(json.dumps(SANDBOX_JSON), encoding="utf-8")
    settings = load_settings(REPO / "finsync.yaml", env={"FINSYNC_HOME": str(tmp_path)})
    shop = settings.pair("sandbox").shop
    assert shop is not None and shop.api_url == "http://127.0.0.1:3"
    assert shop.access_token == "shpat_sandbox_token_xyz"
    assert "shpat_sandbox_token_xyz" not in repr(shop) and "shpss_sandbox_secret_xyz" not in repr(shop)
    resource = SettingsResource.of(settings)
    assert "shpat_sandbox_token_xyz" not in resource.settings_json  # runs read sandbox.json again
    assert resource.get().pair("sandbox").shop == shop


def test_a_sandbox_without_a_shop_leaves_the_pair_without_one(tmp_path: Path) -> None:
    (tmp_path / "sandbox").mkdir()
    without = {"infor": SANDBOX_JSON["infor"]}
    (tmp_path / "sandbox" / "sandbox.json").write_text(json.dumps(without), encoding="utf-8")
    settings = load_settings(REPO / "finsync.yaml", env={"FINSYNC_HOME": str(tmp_path)})
    assert settings.pair("sandbox").shop is None
    with pytest.raises(ConfigError, match="has no shop section; is that sandbox running"):
        PairClients.of(settings).shop("sandbox")
