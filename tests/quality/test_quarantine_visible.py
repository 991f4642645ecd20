"""The sync summary's quarantined column counts every held record, not only the id-less rejects."""

from __future__ import annotations

import pytest

from finsync_dagster.cli.sync import print_summary
from finsync_dagster.pipeline import AssetOutcome, CheckOutcome, PipelineResult


def test_the_quarantined_column_counts_records_held_by_the_checks(capsys: pytest.CaptureFixture[str]) -> None:
    staged = {"inserted": 466, "updated": 0, "deleted": 0, "quarantined": 1, "live_rows": 466}
    result = PipelineResult(
        pair="p1",
        run_id="abcdef123456",
        success=True,
        assets=[AssetOutcome(key="staging/infor_order_lines", metadata=staged)],
        checks=[
            CheckOutcome(
                asset="staging/infor_order_lines",
                name="valid_rows",
                passed=True,
                severity="ERROR",
                description="16 of 466 rows quarantined",
                metadata={"rows": 466, "quarantined": 16},
            )
        ],
    )
    print_summary(result)
    line = next(row for row in capsys.readouterr().out.splitlines() if "infor_order_lines" in row)
    cells = [cell.strip() for cell in line.strip(" │").split("│")]
    assert cells == ["infor_order_lines", "466", "466", "0", "0", "17"]  # 1 id-less reject + 16 held
