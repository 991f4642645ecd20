"""Property: text with any printable or control character stages exactly and renders safely in reports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finsync_dagster.reports import write_report
from finsync_dagster.reports.text import visible
from finsync_dagster.resources.infor.fields import parse_record
from finsync_dagster.staging.freshbooks_tables import CLIENTS
from finsync_dagster.staging.infor_tables import CUSTOMERS
from finsync_dagster.staging.writer import ensure_table, merge_batch

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
# Every code point but surrogates (not encodable as UTF-8 text in any system), controls included.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
HIDDEN = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0), 0x202E, 0x2066, 0x200B)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=TEXT, city=TEXT)
def test_any_text_stages_exactly_in_both_systems(name: str, city: str) -> None:
    con = duckdb.connect()
    ensure_table(con, CLIENTS)
    ensure_table(con, CUSTOMERS)
    merge_batch(con, CLIENTS, [{"id": 1, "organization": name, "fname": city}], extracted_at=T0, pair="p")
    m3 = parse_record({"OKCUNO": "C1", "OKCUNM": name, "OKTOWN": city}, prefixed=True)
    record = {key[2:]: value for key, value in m3.items()}
    merge_batch(con, CUSTOMERS, [record], extracted_at=T0, pair="p")
    assert con.execute("SELECT organization, fname FROM staging.freshbooks_clients").fetchall() == [
        (name, city)
    ]
    assert con.execute("SELECT CUNM, TOWN FROM staging.infor_customers").fetchall() == [(name, city)]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=TEXT)
def test_reports_render_any_text_with_nothing_hidden(name: str) -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA recon")
    con.execute(
        """
        CREATE TABLE recon.invoice_matches AS SELECT * FROM (VALUES
          ('1', NULL, 'missing_in_infor', 1.0, NULL, false, '[]', $name, $name, 'USD',
           CAST(1.00 AS DECIMAL(18,2)), CAST(NULL AS DECIMAL(18,2)), CAST(1.00 AS DECIMAL(18,2)),
           DATE '2026-10-01', $name)
        ) AS t(freshbooks_id, infor_id, status, confidence, rule, suggestion, differences, reference,
               customer, currency_code, freshbooks_amount, infor_amount, amount_at_stake, item_date, note)
        """,
        {"name": name},
    )
    with TemporaryDirectory() as folder:
        data, paths = write_report(con, Path(folder), pair="p", run_id="r", as_of=date(2026, 10, 31))
        assert data.exceptions[0]["customer"] == visible(name)
        for path in (paths.html, paths.summary, *paths.csvs):
            text = Path(path).read_text(encoding="utf-8")
            assert not [c for c in HIDDEN if c in text.replace("\n", "").replace("\r", "")], path
