"""When a blocking check stops a run, `finsync sync` still shows what quarantine holds (issue 13, item 7).

Reconciliation and the report are skipped then, so the report cannot list the held records; the sync
prints them per table and rule, with the reason of one record, escaped as the report would show it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from finsync_dagster.cli.sync import print_held
from finsync_dagster.settings import load_settings
from finsync_dagster.warehouse.schemas import ensure_quality_tables
from tests.test_cli import cells

REPO = Path(__file__).resolve().parents[2]
HELD = [
    *(
        ("infor_order_lines", f"1000{n}-1-0", "order_line_item_exists", f"item W{n} is not in M3")
        for n in range(16)
    ),
    ("freshbooks_clients", "7", "valid_currency", "currency 'X\x1b[2J' is not ISO 4217"),
    ("freshbooks_clients", "9", "valid_currency", "currency 'ZZZ' is not ISO 4217"),
]


def test_held_records_are_shown_by_rule_with_a_reason(
    finsync_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # a terminal wide enough that no reason wraps
    settings = load_settings(REPO / "finsync.yaml")
    path = settings.warehouse_path("sandbox")
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        ensure_quality_tables(con)
        for entity, record, rule, reason in [*HELD, ("infor_orders", "X", "r", "another pair's")]:
            pair = "other" if record == "X" else "sandbox"
            con.execute(
                "INSERT INTO quality.quarantine VALUES (?, ?, ?, ?, ?, NULL, now(), now())",
                [entity, pair, record, rule, reason],
            )
    print_held(settings, "sandbox")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].strip() == "held in quarantine: 18 records (quality.quarantine)"
    rows = [cells(line) for line in lines if "infor_" in line or "freshbooks_" in line]
    assert rows == [
        ["infor_order_lines", "order_line_item_exists", "16", "item W0 is not in M3"],
        ["freshbooks_clients", "valid_currency", "2", r"currency 'X\x1b[2J' is not ISO 4217"],
    ]
