"""A report is all there or not there: a crash while writing leaves the previous report as `latest`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from finsync_dagster.reports import latest_report, write_report, writer
from tests.recon.test_reports import _warehouse

AS_OF = date(2026, 10, 31)


def test_a_crash_mid_report_leaves_no_half_folder_and_latest_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _warehouse() as con:
        _, first = write_report(con, tmp_path, pair="demo", run_id="run-1", as_of=AS_OF,
                                now=datetime(2026, 11, 1, tzinfo=UTC))  # fmt: skip

        def crash(*_args: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(writer, "write_workbook", crash)
        with pytest.raises(OSError, match="disk full"):
            write_report(con, tmp_path, pair="demo", run_id="run-2", as_of=AS_OF,
                         now=datetime(2026, 11, 2, tzinfo=UTC))  # fmt: skip

    visible = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert visible == ["20261101T000000Z-run-1", "latest", "latest.json"]
    assert latest_report(tmp_path) == first
    assert (tmp_path / "latest").resolve() == Path(first.directory).resolve()
    assert json.loads((tmp_path / "latest.json").read_text())["directory"] == first.directory


def test_a_new_report_swaps_both_pointers(tmp_path: Path) -> None:
    with _warehouse() as con:
        write_report(
            con, tmp_path, pair="demo", run_id="run-1", as_of=AS_OF, now=datetime(2026, 11, 1, tzinfo=UTC)
        )
        _, second = write_report(con, tmp_path, pair="demo", run_id="run-2", as_of=AS_OF,
                                 now=datetime(2026, 11, 2, tzinfo=UTC))  # fmt: skip
    assert latest_report(tmp_path) == second
    assert (tmp_path / "latest" / "summary.md").read_text() == Path(second.summary).read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".partial"))]
