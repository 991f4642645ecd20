"""The config loader: the shipped finsync.yaml works, and every mistake names the file, line and fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finsync_dagster.errors import ConfigError
from finsync_dagster.resources.settings import SettingsResource
from finsync_dagster.settings import PairConfig, load_settings

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
version: 1
pairs:
  - name: acme-us
    freshbooks:
      account_id: ABC123
      client_id_env: ACME_FB_ID
      client_secret_env: ACME_FB_SECRET
    infor:
      company: "100"
      division: AAA
      ionapi_env: ACME_IONAPI
schedules:
  timezone: America/Toronto
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "finsync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_repository_config_loads() -> None:
    settings = load_settings(REPO / "finsync.yaml", env={})
    assert settings.pair_names == ["sandbox"]
    assert settings.schedules.incremental_cron == "*/15 * * * *"


def test_a_full_pair_and_environment_overrides(tmp_path: Path) -> None:
    env = {"FINSYNC_HOME": str(tmp_path / "home"), "FINSYNC_LEDGER_URL": "postgresql://db/finsync"}
    settings = load_settings(write(tmp_path, GOOD), env=env)
    pair = settings.pair("acme-us")
    assert pair.freshbooks is not None and pair.freshbooks.client_secret_env == "ACME_FB_SECRET"
    assert pair.infor is not None and pair.infor.company == "100"
    assert settings.home == (tmp_path / "home").resolve()
    assert settings.ledger_url == "postgresql://db/finsync"
    assert settings.warehouse_path("acme-us") == settings.home / "warehouse" / "acme-us.duckdb"
    assert settings.schedules.timezone == "America/Toronto"


def test_default_ledger_is_sqlite_under_home(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), env={"FINSYNC_HOME": str(tmp_path)})
    assert settings.ledger_url == f"sqlite:///{tmp_path.resolve() / 'ledger.sqlite'}"


def test_missing_file_names_it_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "nope.yaml", env={})
    message = str(info.value)
    assert "nope.yaml" in message and "not found" in message and "FINSYNC_CONFIG" in message


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\npairs:\n  - name: acme\n   sandbox_dir: x\n")
    with pytest.raises(ConfigError, match=r"finsync.yaml, line 4: not valid YAML"):
        load_settings(path, env={})


def test_unknown_key_names_the_line_and_the_allowed_keys(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("      division: AAA\n", "      divison: AAA\n"))
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    message = str(info.value)
    assert "line 10" in message
    assert "pairs.0.infor.divison" in message
    assert "unknown key 'divison'" in message and "division" in message


def test_invalid_value_names_the_line_and_rule(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('company: "100"', "company: ACME"))
    with pytest.raises(
        ConfigError, match=r"line 9: pairs.0.infor.company: an M3 company \(CONO\) is up to 3 digits"
    ):
        load_settings(path, env={})


def test_missing_required_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("      account_id: ABC123\n", ""))
    with pytest.raises(
        ConfigError, match=r"line 4: pairs.0.freshbooks.account_id: required key 'account_id'"
    ):
        load_settings(path, env={})


def test_duplicate_pairs_are_refused(tmp_path: Path) -> None:
    text = "pairs:\n  - name: a\n    sandbox_dir: x\n  - name: a\n    sandbox_dir: y\n"
    with pytest.raises(ConfigError, match="declared twice"):
        load_settings(write(tmp_path, text), env={})


def test_unknown_pair_lists_the_known_ones(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), env={})
    with pytest.raises(ConfigError, match=r"no pair named 'acme' \(pairs declared: acme-us\)"):
        settings.pair("acme")


def test_sandbox_dir_resolves_under_home(tmp_path: Path) -> None:
    settings = load_settings(REPO / "finsync.yaml", env={"FINSYNC_HOME": str(tmp_path)})
    assert settings.sandbox_path(settings.pair("sandbox")) == tmp_path.resolve() / "sandbox"


SANDBOX_JSON = {
    "freshbooks": {
        "api_url": "http://127.0.0.1:1",
        "auth_url": "http://127.0.0.1:2",
        "client_id": "sandbox-id",
        "client_secret": "sandbox-secret-xyz",
        "redirect_uri": "http://127.0.0.1:1/cb",
        "account_id": "SBX1",
        "business_id": 7,
    },
    "infor": {"company": "100", "division": "AAA", "ionapi_file": "/sb/infor.ionapi"},
}


def test_a_running_sandbox_becomes_ordinary_sections(tmp_path: Path) -> None:
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "sandbox.json").write_text(json.dumps(SANDBOX_JSON), encoding="utf-8")
    pair = load_settings(REPO / "finsync.yaml", env={"FINSYNC_HOME": str(tmp_path)}).pair("sandbox")
    assert pair.freshbooks is not None and pair.infor is not None
    assert (pair.freshbooks.api_url, pair.freshbooks.account_id, pair.freshbooks.client_id) == (
        "http://127.0.0.1:1",
        "SBX1",
        "sandbox-id",
    )
    assert (pair.infor.company, pair.infor.ionapi_file) == ("100", "/sb/infor.ionapi")
    assert "sandbox-secret-xyz" not in repr(pair)


def test_a_sandbox_pair_added_in_code_is_resolved_too(tmp_path: Path) -> None:
    (tmp_path / "sb").mkdir()
    (tmp_path / "sb" / "sandbox.json").write_text(json.dumps(SANDBOX_JSON), encoding="utf-8")
    settings = load_settings(REPO / "finsync.yaml", env={"FINSYNC_HOME": str(tmp_path)})
    pair = settings.with_pair(PairConfig(name="extra", sandbox_dir=str(tmp_path / "sb"))).pair("extra")
    assert pair.infor is not None and pair.infor.division == "AAA"


def test_a_sandbox_not_yet_started_leaves_the_sections_empty(tmp_path: Path) -> None:
    pair = load_settings(REPO / "finsync.yaml", env={"FINSYNC_HOME": str(tmp_path)}).pair("sandbox")
    assert (pair.freshbooks, pair.infor) == (None, None)


def test_run_config_carries_the_sandbox_pair_as_declared_and_the_run_reads_it_again(tmp_path: Path) -> None:
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "sandbox.json").write_text(json.dumps(SANDBOX_JSON), encoding="utf-8")
    resource = SettingsResource.of(load_settings(REPO / "finsync.yaml", env={"FINSYNC_HOME": str(tmp_path)}))
    assert "sandbox-secret-xyz" not in resource.settings_json
    fb = resource.get().pair("sandbox").freshbooks
    assert fb is not None and fb.client_secret == "sandbox-secret-xyz"


def test_a_literal_client_secret_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("client_secret_env: ACME_FB_SECRET", "client_secret: hunter2"))
    with pytest.raises(ConfigError, match=r"secrets never go in finsync\.yaml"):
        load_settings(path, env={})


def test_unknown_time_zone_is_refused_with_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("America/Toronto", "Mars/Olympus"))
    with pytest.raises(ConfigError, match=r"line 13: schedules.timezone: unknown time zone 'Mars/Olympus'"):
        load_settings(path, env={})
