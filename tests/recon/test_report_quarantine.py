"""The report lists every record held in quarantine with its reason."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from finsync_dagster.reports import write_report
from finsync_dagster.warehouse.schemas import ensure_quality_tables
from tests.recon.test_reports import _warehouse

HELD = [
    ("infor_order_lines", f"100000{n}-1-0", "order_line_item_exists", f"item W{n} is not in M3")
    for n in range(16)
]


def test_every_held_record_is_listed_with_its_reason(tmp_path: Path) -> None:
    with _warehouse() as con:
        ensure_quality_tables(con)
        for entity, record, rule, reason in HELD:
            con.execute(
                "INSERT INTO quality.quarantine VALUES (?, 'demo', ?, ?, ?, NULL, now(), now())",
                [entity, record, rule, reason],
            )
        con.execute(
            "INSERT INTO quality.quarantine VALUES ('infor_orders', 'other-pair', 'X', 'r', 'not ours', NULL, now(), now())"
        )
        data, paths = write_report(
            con, tmp_path, pair="demo", run_id="run-1", as_of=date(2026, 10, 31), now=datetime.now(UTC)
        )
    assert len(data.quarantined) == 16
    html = Path(paths.html).read_text(encoding="utf-8")
    summary = Path(paths.summary).read_text(encoding="utf-8")
    assert "Held in quarantine: 16 records." in summary
    for _, record, _, reason in HELD:
        assert f"<td>{record}</td><td>order_line_item_exists</td><td>{reason}</td>" in html
        assert f"| infor_order_lines | {record} | order_line_item_exists | {reason} |" in summary
    assert "not ours" not in html
