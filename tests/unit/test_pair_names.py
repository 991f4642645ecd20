"""Pair names are identifiers: a name from the file or the command line can never become a path elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finsync_dagster.cli import main
from finsync_dagster.errors import ConfigError
from finsync_dagster.settings import check_pair_name, load_settings

HOSTILE = ["../..", "..", "a/../../b", "/etc", "A", "a b", "a\x00", "", "a" * 64, "-a", "1a", "a.b"]
REPORT_FILES = {"html": "report.html", "xlsx": "report.xlsx", "summary": "summary.md"}


@pytest.mark.parametrize("name", HOSTILE)
def test_check_pair_name_refuses_anything_but_an_identifier(name: str) -> None:
    with pytest.raises(ConfigError, match="not a pair name"):
        check_pair_name(name)


@pytest.mark.parametrize("name", ["a", "acme-us", "acme_ca2", "a" * 63])
def test_check_pair_name_keeps_identifiers(name: str) -> None:
    assert check_pair_name(name) == name


def test_the_config_file_uses_the_same_check(tmp_path: Path) -> None:
    path = tmp_path / "finsync.yaml"
    path.write_text('pairs:\n  - name: "../x"\n    sandbox_dir: sb\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 2: pairs\.0\.name: '../x' is not a pair name"):
        load_settings(path, env={})


def test_paths_built_from_a_pair_name_check_it(tmp_path: Path) -> None:
    settings = load_settings(None, env={"FINSYNC_HOME": str(tmp_path)}, require_file=False)
    for build in (settings.reports_dir, settings.warehouse_path):
        with pytest.raises(ConfigError, match="not a pair name"):
            build("../..")


def plant_report(folder: Path, pointer_dir: Path) -> None:
    """A report folder outside the home, and a latest.json in ``pointer_dir`` that points at it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in REPORT_FILES.values():
        (folder / name).write_text("planted secret summary", encoding="utf-8")
    paths = {key: str(folder / name) for key, name in REPORT_FILES.items()}
    pointer_dir.mkdir(parents=True, exist_ok=True)
    (pointer_dir / "latest.json").write_text(
        json.dumps({**paths, "directory": str(folder), "csvs": [], "sheets": []}), encoding="utf-8"
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "base" / "home"
    (home / "reports").mkdir(parents=True)
    monkeypatch.setenv("FINSYNC_HOME", str(home))
    monkeypatch.delenv("FINSYNC_LEDGER_URL", raising=False)
    monkeypatch.delenv("FINSYNC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return home


@pytest.mark.parametrize("command", [["report"], ["sync"], ["mapping", "check"], ["connect", "freshbooks"]])
def test_every_pair_option_refuses_a_path(
    home: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    plant_report(home.parent / "outside", home.parent.parent)
    assert main([*command, "--pair", "../.."]) == 2
    err = capsys.readouterr().err
    assert "'../..' is not a pair name" in err and "planted" not in err


def test_report_does_not_follow_a_pointer_out_of_the_home(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plant_report(home.parent / "outside", home / "reports" / "acme")
    assert main(["report", "--pair", "acme"]) == 1
    captured = capsys.readouterr()
    assert "planted" not in captured.out and "outside FINSYNC_HOME" in captured.err


def test_report_does_not_follow_a_symlinked_pair_folder_out_of_the_home(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = home.parent / "elsewhere"
    plant_report(elsewhere / "run", elsewhere)
    (home / "reports" / "acme").symlink_to(elsewhere, target_is_directory=True)
    assert main(["report"]) == 1
    captured = capsys.readouterr()
    assert "planted" not in captured.out and "outside FINSYNC_HOME" in captured.err


def test_report_skips_folders_that_are_not_pair_names(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plant_report(home.parent / "outside", home / "reports" / "Not A Pair")
    assert main(["report"]) == 1
    captured = capsys.readouterr()
    assert "planted" not in captured.out and "no reports under" in captured.err
