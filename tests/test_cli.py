"""The `finsync` command line as a user meets it: help, one-line errors, tracebacks only with --debug,
and summaries as terminal tables rather than raw Markdown."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from finsync_dagster.cli import main
from finsync_dagster.cli.report import print_summary
from finsync_dagster.ledger import LATEST_VERSION
from finsync_dagster.reports import ReportData


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


def test_the_report_summary_is_a_terminal_table_not_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    data = ReportData(
        pair="demo",
        run_id="r1",
        as_of=date(2026, 11, 24),
        counts={"customers": {"matched": 30, "missing_in_infor": 1}, "invoices": {"matched": 170}},
        exceptions=[{"amount_at_stake": Decimal("2598.00"), "currency_code": "USD"}],
        anomalies=[],
    )
    print_summary(data.markdown())
    out = capsys.readouterr().out
    assert "**" not in out and "|" not in out and "---" not in out
    lines = out.splitlines()
    assert lines[0] == "201 records compared; 1 need attention (USD 2,598.00 at stake)."
    assert cells(next(line for line in lines if "Customers" in line))[-2:] == ["Customers", "Invoices"]
    assert cells(next(line for line in lines if "Matched " in line)) == ["Matched", "30", "170"]
    assert cells(next(line for line in lines if "Missing in Infor" in line)) == ["Missing in Infor", "1", "0"]
    assert lines[-1] == "Validation: 0 anomalies flagged."


def cells(line: str) -> list[str]:
    """The cells of one rendered table row, whatever box characters rich draws between them."""
    return [cell.strip() for cell in re.split(r"[│┃]", line) if cell.strip()]


def test_the_paired_by_table_is_shown_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    print_summary(
        "How records were paired:\n\n| Record type | Rule | Pairs | Confidence |\n|---|---|---|---|\n"
        "| Customers | email | 29 | 0.99 |\n| Customers | name_and_postcode | 3 | 0.97 |\n"
    )
    lines = capsys.readouterr().out.splitlines()
    assert cells(next(line for line in lines if "Rule" in line)) == [
        "Record type",
        "Rule",
        "Pairs",
        "Confidence",
    ]
    assert cells(next(line for line in lines if "name_and_postcode" in line)) == [
        "Customers",
        "name_and_postcode",
        "3",
        "0.97",
    ]


def test_a_pipe_in_a_held_record_stays_in_its_cell(capsys: pytest.CaptureFixture[str]) -> None:
    data = ReportData(pair="demo", run_id="r1", as_of=date(2026, 11, 24), anomalies=[])
    data.quarantined = [
        {
            "entity": "infor_customers",
            "record_id": "C|7",
            "rule": "required_fields",
            "reason": "A | B [bold]Ltd[/]",
        }
    ]
    print_summary(data.markdown())
    lines = capsys.readouterr().out.splitlines()
    assert cells(next(line for line in lines if "C|7" in line)) == [
        "infor_customers",
        "C|7",
        "required_fields",
        "A | B [bold]Ltd[/]",
    ]
