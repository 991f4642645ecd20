"""The workbook: a summary sheet, one sheet per record type, exceptions, ageing and anomalies.

Money cells are numbers with a two-decimal format naming the currency (the cell's value comes from the
Decimal, exact to the cent); every sheet has a frozen header row and an autofilter. Record text is written
as text: a customer name such as ``=HYPERLINK(...)`` never becomes a formula, and control characters the
format cannot hold are replaced rather than failing the report.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from finsync_dagster.recon.model import MATCH_TABLES, STATUSES
from finsync_dagster.reports.data import AGEING_BUCKETS, ENTITY_TITLES, STATUS_TITLES, ReportData
from finsync_dagster.reports.text import visible
from finsync_dagster.warehouse import table_exists

SHEET_ROW_LIMIT = 100_000  # beyond this, the CSV files hold the full tables
_MONEY_COLUMNS = {"freshbooks_amount", "infor_amount", "amount_at_stake"}
_HEADER = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")


def money_format(currency: str | None) -> str:
    return f'"{currency}" #,##0.00' if currency else "#,##0.00"


def write_workbook(path: Path, data: ReportData, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Write the workbook; returns its sheet names."""
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    summary.append(["Record type", *(STATUS_TITLES[s] for s in STATUSES)])
    for entity, counts in data.counts.items():
        summary.append([ENTITY_TITLES[entity], *(counts[s] for s in STATUSES)])
    summary.append([])
    summary.append([data.headline()])
    summary.append([data.anomaly_line()])
    _finish(summary, header_rows=1, filter_rows=len(data.counts) + 1)
    for entity, table in MATCH_TABLES.items():
        if table_exists(con, table):
            relation = con.sql(
                f"SELECT * FROM {table} ORDER BY status <> 'matched' DESC, reference LIMIT {SHEET_ROW_LIMIT}"
            )
            _rows_sheet(book, ENTITY_TITLES[entity], relation.columns, relation.fetchall())
    columns = ["entity", "status", "reference", "customer", "currency_code", "amount_at_stake", "age_days",
               "differences_text", "note", "freshbooks_id", "infor_id", "rule", "confidence", "suggestion"]  # fmt: skip
    _rows_sheet(
        book, "Exceptions", columns, [[row[c] for c in columns] for row in data.exceptions[:SHEET_ROW_LIMIT]]
    )
    ageing = [[ENTITY_TITLES[e], *(b[x] for x in AGEING_BUCKETS)] for e, b in data.ageing.items()]
    _rows_sheet(book, "Ageing", ["record type", *(f"{b} days" for b in AGEING_BUCKETS)], ageing)
    anomalies = data.anomalies or []
    _rows_sheet(
        book,
        "Anomalies",
        ["entity", "record_id", "rule", "score", "explanation"],
        [[a[k] for k in ("entity", "record_id", "rule", "score", "explanation")] for a in anomalies],
    )
    book.save(path)
    return [str(name) for name in book.sheetnames]


def _rows_sheet(book: Workbook, title: str, columns: list[str], rows: list[Any]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(list(columns))
    currency_at = columns.index("currency_code") if "currency_code" in columns else None
    money_at = [i for i, c in enumerate(columns) if c in _MONEY_COLUMNS]
    for row in rows:
        values = [_cell(v) for v in row]
        sheet.append(values)
        for i, value in enumerate(values):
            if isinstance(value, str) and value.startswith("="):  # openpyxl would store a formula
                sheet.cell(row=sheet.max_row, column=i + 1).data_type = "s"
        if money_at:
            currency = row[currency_at] if currency_at is not None else None
            for i in money_at:
                sheet.cell(row=sheet.max_row, column=i + 1).number_format = money_format(currency)
    _finish(sheet, header_rows=1, filter_rows=len(rows) + 1)


def _cell(value: Any) -> Any:
    # openpyxl writes Decimal as a number; two decimals in, two decimals shown.
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (list, dict)):
        value = str(value)
    # Control and direction characters shown as escapes (reports/text.py), on every sheet alike.
    return visible(value)


def _finish(sheet: Worksheet, *, header_rows: int, filter_rows: int) -> None:
    for cell in sheet[header_rows]:
        cell.font, cell.fill = _HEADER, _HEADER_FILL
    sheet.freeze_panes = sheet.cell(row=header_rows + 1, column=1)
    width = max(sheet.max_column, 1)
    sheet.auto_filter.ref = f"A1:{get_column_letter(width)}{max(filter_rows, 1)}"
    for index in range(1, width + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 18
