"""Any table of records as a CSV or XLSX file a spreadsheet opens safely (audit and dead-letter exports).

The same guards as the reconciliation report: control and direction characters are shown as escapes
(:func:`text.visible`), a CSV cell that would start a formula gets a leading apostrophe
(:func:`writer.csv_safe`), and in the workbook text is always stored as text, never as a formula.
Rows are streamed (openpyxl's write-only mode), so a large export keeps memory flat.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from finsync_dagster.reports.text import visible
from finsync_dagster.reports.writer import csv_safe

XLSX_ROW_LIMIT = 1_048_575  # a sheet holds 1,048,576 rows, the header included
FORMATS = ("csv", "xlsx")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        return str(value)
    return value


def write_table(
    path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, format: str, title: str = "Export"
) -> int:
    """Write ``rows`` under ``columns`` as ``format`` (csv or xlsx); returns how many rows were written."""
    if format == "csv":
        return _write_csv(path, columns, rows)
    if format == "xlsx":
        return _write_xlsx(path, columns, rows, title)
    raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_safe(visible(_plain(value))) for value in row])
            written += 1
    return written


def _write_xlsx(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> int:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    written = 0
    for row in rows:
        if written >= XLSX_ROW_LIMIT:
            raise ValueError(
                f"more than {XLSX_ROW_LIMIT:,} rows do not fit a workbook sheet; export CSV, or narrow it (--since)"
            )
        sheet.append([_xlsx_cell(sheet, value) for value in row])
        written += 1
    sheet.auto_filter.ref = f"A1:{_column_letter(len(columns))}{written + 1}"
    book.save(path)
    return written


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, Decimal | int | float) or value is None:
        return value
    cell = WriteOnlyCell(sheet, value=visible(str(value)))
    cell.data_type = "s"  # text stays text: "=HYPERLINK(...)" is never a formula
    return cell


def _column_letter(index: int) -> str:
    return str(get_column_letter(max(index, 1)))
