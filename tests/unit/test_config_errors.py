"""Mistakes in finsync.yaml a person makes by hand: each is one line naming the file, the line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from finsync_dagster.cli import main
from finsync_dagster.errors import ConfigError
from finsync_dagster.settings import load_settings

PAIR = "pairs:\n  - name: acme\n    sandbox_dir: sb\n"


@pytest.fixture(autouse=True)
def _home(finsync_home: Path) -> Path:
    return finsync_home


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "finsync.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("character", ["\x07", "\x1b", "\x00"])
def test_a_control_character_names_the_file_and_line(tmp_path: Path, character: str) -> None:
    path = write(tmp_path, f"version: 1\n{PAIR}schedules:\n  timezone: UT{character}C\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    message = str(info.value)
    assert message.startswith(f"{path}, line 6: ")
    assert "control character" in message and "remove" in message
    assert "\n" not in message


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"version: 1\n" + PAIR.encode() + b"# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"finsync\.yaml, line 5: not UTF-8"):
        load_settings(path, env={})


@pytest.mark.parametrize(
    ("cron", "line"),
    [("61 * * * *", 6), ("every day", 6), ("0 2 * * * *", 6), ("*/0 * * * *", 6)],
)
def test_a_bad_cron_is_refused_at_load_with_the_line(tmp_path: Path, cron: str, line: int) -> None:
    path = write(tmp_path, f'version: 1\n{PAIR}schedules:\n  incremental_cron: "{cron}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    message = str(info.value)
    assert message.startswith(f"{path}, line {line}: schedules.incremental_cron: ")
    assert repr(cron) in message and "minute hour day-of-month month day-of-week" in message


def test_cron_shorthands_dagster_accepts_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, f'{PAIR}schedules:\n  full_refresh_cron: "@daily"\n')
    assert load_settings(path, env={}).schedules.full_refresh_cron == "@daily"


def test_status_refuses_a_bad_cron(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, f'{PAIR}schedules:\n  full_refresh_cron: "0 25 * * *"\n')
    assert main(["--config", str(path), "status"]) == 1
    assert "line 5: schedules.full_refresh_cron" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["version: 1\n", "version: 1\npairs: []\n", ""])
def test_sync_with_zero_pairs_is_an_error_that_says_what_to_add(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, text)
    assert main(["--config", str(path), "sync"]) == 1
    err = capsys.readouterr().err
    assert f"{path}, line " in err and "no pairs declared" in err and "--sandbox" in err


def test_zero_pairs_names_the_line_of_the_empty_list(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "version: 1\n\npairs: []\n"), env={})
    with pytest.raises(ConfigError, match=r"finsync\.yaml, line 3: no pairs declared"):
        settings.require_pairs()
