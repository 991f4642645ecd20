"""The `finsync` command line as a user meets it: help, one-line errors, tracebacks only with --debug."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from finsync_dagster.cli import main
from finsync_dagster.ledger import LATEST_VERSION


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from finsync_dagster.cli import main; sys.exit(main())", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("status", "sandbox", "connect"):
        assert command in result.stdout


def test_errors_are_one_line_without_a_traceback(tmp_path: Path) -> None:
    result = run("--config", str(tmp_path / "missing.yaml"), "status")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0].startswith("error: ")
    assert "missing.yaml: config file not found" in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run("--debug", "--config", str(tmp_path / "missing.yaml"), "status")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "ConfigError" in result.stderr


def test_status_creates_the_ledger(finsync_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = Path(__file__).resolve().parents[1] / "finsync.yaml"
    assert main(["--config", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert f"schema v{LATEST_VERSION} of {LATEST_VERSION}" in out and "pairs:    sandbox" in out
    assert (finsync_home / "ledger.sqlite").exists()
