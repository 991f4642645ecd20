"""Control and direction characters in record text never reach a report file as they are."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import openpyxl

from finsync_dagster.reports import write_report
from finsync_dagster.reports.text import visible

NAME = "Evil\x00Co \x1b[2J\u202eKCOTS\u2066 Ltd"
HIDDEN = ("\x00", "\x1b", "\u202e", "\u2066")


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA recon")
    con.execute(
        """
        CREATE TABLE recon.invoice_matches AS SELECT * FROM (VALUES
          ('1', NULL, 'missing_in_infor', 1.0, NULL, false, '[]', 'FS-1', $name, 'USD',
           CAST(10.01 AS DECIMAL(18,2)), CAST(NULL AS DECIMAL(18,2)), CAST(10.01 AS DECIMAL(18,2)),
           DATE '2026-10-01', 'Not found in Infor.')
        ) AS t(freshbooks_id, infor_id, status, confidence, rule, suggestion, differences, reference,
               customer, currency_code, freshbooks_amount, infor_amount, amount_at_stake, item_date, note)
        """,
        {"name": NAME},
    )
    return con


def test_control_characters_are_shown_escaped_in_every_report_file(tmp_path: Path) -> None:
    with _warehouse() as con:
        _, paths = write_report(
            con, tmp_path, pair="demo", run_id="run-1", as_of=date(2026, 10, 31), now=datetime.now(UTC)
        )
    texts = {
        "html": Path(paths.html).read_text(encoding="utf-8"),
        "summary": Path(paths.summary).read_text(encoding="utf-8"),
        **{Path(p).name: Path(p).read_text(encoding="utf-8") for p in paths.csvs},
    }
    for name, text in texts.items():
        assert not [c for c in HIDDEN if c in text], name
    assert r"Evil\x00Co \x1b[2J\u202eKCOTS\u2066 Ltd" in texts["exceptions.csv"]
    assert r"\u202eKCOTS" in texts["html"]
    assert "Evil\ufffdCo" in texts["invoices_matches.csv"]
    cells = [c.value for row in openpyxl.load_workbook(paths.xlsx)["Exceptions"].iter_rows() for c in row]
    assert visible(NAME) in cells and NAME not in cells
    matches = openpyxl.load_workbook(paths.xlsx)["Invoices"]
    record_cells = [c.value for row in matches.iter_rows() for c in row]
    assert visible(NAME) in record_cells and NAME not in record_cells  # the per-record sheets too


def test_printable_text_is_left_as_typed() -> None:
    assert visible("Ünïcødé & Söhne | 北京 «ok» \u00a0") == "Ünïcødé & Söhne | 北京 «ok» \u00a0"


def test_invisible_format_characters_never_reach_the_match_csvs(tmp_path: Path) -> None:
    # Unicode tag characters (U+E0000-E007F) render as nothing and can smuggle text past a reader; so do
    # interlinear annotation marks and the Arabic number signs. The match CSVs are written by DuckDB.
    hidden = "\U000e0041\U000e0042\ufff9\u0600\ue000"
    with _warehouse() as con:
        con.execute("UPDATE recon.invoice_matches SET customer = ?", [f"Acme{hidden} Ltd"])
        _, paths = write_report(con, tmp_path, pair="demo", run_id="run-1", as_of=date(2026, 10, 31))
    for path in paths.csvs:
        text = Path(path).read_text(encoding="utf-8")
        assert not [c for c in hidden if c in text], path
    matches = Path(next(p for p in paths.csvs if p.endswith("invoices_matches.csv"))).read_text(
        encoding="utf-8"
    )
    assert "Acme\ufffd\ufffd\ufffd\ufffd\ufffd Ltd" in matches
