"""Report files print record text as data: escaped in the HTML, plain text (never a formula) in the workbook.

Customer names, references and anomaly explanations come from the two systems, so anyone who can type a
client name in FreshBooks writes into the report a controller opens.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import openpyxl

from finsync_dagster.reports import write_report

HOSTILE_NAME = '<script>alert("x")</script> & Sons'
FORMULA_NAME = '=HYPERLINK("http://evil.example","Acme")'


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA recon")
    con.execute(
        """
        CREATE TABLE recon.invoice_matches AS SELECT * FROM (VALUES
          ('1', NULL, 'missing_in_infor', 1.0, NULL, false, '[]', 'FS-1<b>', $hostile, 'USD',
           CAST(10.01 AS DECIMAL(18,2)), CAST(NULL AS DECIMAL(18,2)), CAST(10.01 AS DECIMAL(18,2)),
           DATE '2026-10-01', 'Not found in Infor.'),
          ('2', NULL, 'missing_in_infor', 1.0, NULL, false, '[]', 'FS-2', $formula || chr(11), 'USD',
           CAST(5.00 AS DECIMAL(18,2)), NULL, CAST(5.00 AS DECIMAL(18,2)), DATE '2026-10-02', NULL)
        ) AS t(freshbooks_id, infor_id, status, confidence, rule, suggestion, differences, reference,
               customer, currency_code, freshbooks_amount, infor_amount, amount_at_stake, item_date, note)
        """,
        {"hostile": HOSTILE_NAME, "formula": FORMULA_NAME},
    )
    con.execute("CREATE SCHEMA quality")
    con.execute(
        "CREATE TABLE quality.anomalies AS SELECT 'freshbooks_expenses' AS entity, 'demo' AS pair, "
        "'9' AS record_id, 'duplicate_suspected' AS rule, 0.9 AS score, "
        "'same vendor <img src=x onerror=alert(1)>' AS explanation"
    )
    return con


def test_record_text_is_escaped_in_html_and_plain_text_in_the_workbook(tmp_path: Path) -> None:
    with _warehouse() as con:
        data, paths = write_report(
            con, tmp_path, pair="demo", run_id="run-1", as_of=date(2026, 10, 31), now=datetime.now(UTC)
        )
    assert len(data.exceptions) == 2
    html = Path(paths.html).read_text(encoding="utf-8")
    assert "<script>" not in html and "<img" not in html and "FS-1<b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Sons" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "USD 15.01" in html
    assert "<dt>duplicate_suspected</dt>" in html  # each flagged rule is explained

    sheet = openpyxl.load_workbook(paths.xlsx)["Exceptions"]
    header = [c.value for c in sheet[1]]
    customers = {
        row[header.index("reference")].value: row[header.index("customer")]
        for row in sheet.iter_rows(min_row=2)
    }
    assert customers["FS-1<b>"].value == HOSTILE_NAME
    assert customers["FS-2"].data_type == "s" and customers["FS-2"].value == FORMULA_NAME + "\\x0b"


def test_csv_exports_never_start_a_cell_with_a_formula(tmp_path: Path) -> None:
    with _warehouse() as con:
        _, paths = write_report(
            con, tmp_path, pair="demo", run_id="run-1", as_of=date(2026, 10, 31), now=datetime.now(UTC)
        )
    folder = Path(paths.directory)
    for name in ("invoices_matches.csv", "exceptions.csv"):
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        by_reference = {row["reference"]: row for row in rows}
        # The hostile name is kept whole, behind the apostrophe spreadsheets read as "this is text".
        assert by_reference["FS-2"]["customer"].startswith("'=HYPERLINK("), name
        assert by_reference["FS-1<b>"]["customer"] == HOSTILE_NAME, name
    with (folder / "invoices_matches.csv").open(encoding="utf-8", newline="") as handle:
        amounts = [row["amount_at_stake"] for row in csv.DictReader(handle)]
    assert sorted(amounts) == ["10.01", "5.00"]  # numbers are not touched
