"""Write a pair's report files for one run, and find the latest one.

Layout: ``<reports_dir>/<timestamp>-<run id prefix>/`` holding ``report.html``, ``reconciliation.xlsx``,
one CSV per match table plus ``exceptions.csv``, and ``summary.md``; ``<reports_dir>/latest.json`` names
the newest run's folder (and ``latest`` is a symlink to it where the file system allows).
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from finsync_dagster.recon.model import MATCH_TABLES
from finsync_dagster.reports.data import ReportData, collect
from finsync_dagster.reports.html import render_html
from finsync_dagster.reports.xlsx import write_workbook
from finsync_dagster.warehouse import table_exists

LATEST = "latest.json"
_EXCEPTION_COLUMNS = ("entity", "status", "reference", "customer", "currency_code", "amount_at_stake", "age_days",
                      "differences_text", "note", "freshbooks_id", "infor_id", "rule", "confidence", "suggestion")  # fmt: skip


@dataclass(frozen=True)
class ReportPaths:
    directory: str
    html: str
    xlsx: str
    csvs: list[str]
    summary: str
    sheets: list[str]


def write_report(
    con: duckdb.DuckDBPyConnection,
    reports_dir: Path,
    *,
    pair: str,
    run_id: str,
    as_of: date | None = None,
    now: datetime | None = None,
) -> tuple[ReportData, ReportPaths]:
    """Collect the pair's reconciliation from ``con`` and write every report file for this run."""
    now = now or datetime.now(UTC)
    data = collect(con, pair, run_id, as_of or now.date())
    folder = reports_dir / f"{now.strftime('%Y%m%dT%H%M%SZ')}-{run_id[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    html = folder / "report.html"
    html.write_text(render_html(data), encoding="utf-8")
    xlsx = folder / "reconciliation.xlsx"
    sheets = write_workbook(xlsx, data, con)
    csvs = _write_csvs(con, folder, data)
    summary = folder / "summary.md"
    summary.write_text(data.markdown() + "\n", encoding="utf-8")
    paths = ReportPaths(str(folder), str(html), str(xlsx), [str(p) for p in csvs], str(summary), sheets)
    _point_latest(reports_dir, folder, paths)
    return data, paths


def latest_report(reports_dir: Path) -> ReportPaths | None:
    pointer = reports_dir / LATEST
    if not pointer.exists():
        return None
    return ReportPaths(**json.loads(pointer.read_text(encoding="utf-8")))


def _write_csvs(con: duckdb.DuckDBPyConnection, folder: Path, data: ReportData) -> list[Path]:
    written = []
    for entity, table in MATCH_TABLES.items():
        if table_exists(con, table):
            path = folder / f"{entity}_matches.csv"
            # COPY takes a literal path; it is ours (the report folder), quoted for SQL.
            columns = ", ".join(_csv_column(name, kind) for name, kind in _column_types(con, table))
            con.execute(
                f"COPY (SELECT {columns} FROM {table} ORDER BY status, reference) TO '{_quoted(path)}' (HEADER)"
            )
            written.append(path)
    path = folder / "exceptions.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_EXCEPTION_COLUMNS)
        writer.writerows([csv_safe(row[c]) for c in _EXCEPTION_COLUMNS] for row in data.exceptions)
    written.append(path)
    return written


# A spreadsheet opening a CSV runs a cell starting with one of these as a formula (CSV injection); such
# text gets a leading apostrophe, as OWASP advises. Plain signed numbers are left as they are.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"^[+-]?[0-9][0-9,.]*$")
_FORMULA_START_SQL = r"^[=+\-@\t\r]"
_SIGNED_NUMBER_SQL = r"^[+-]?[0-9][0-9,.]*$"


def csv_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _SIGNED_NUMBER.match(value):
        return "'" + value
    return value


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(f"DESCRIBE {table}").fetchall()]


def _csv_column(name: str, kind: str) -> str:
    """The column as exported: text guarded like :func:`csv_safe`, everything else as it is."""
    quoted = '"' + name.replace('"', '""') + '"'
    if kind != "VARCHAR":
        return quoted
    guarded = f"regexp_matches({quoted}, '{_FORMULA_START_SQL}') AND NOT regexp_matches({quoted}, '{_SIGNED_NUMBER_SQL}')"
    return f"CASE WHEN {guarded} THEN chr(39) || {quoted} ELSE {quoted} END AS {quoted}"


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _point_latest(reports_dir: Path, folder: Path, paths: ReportPaths) -> None:
    temporary = reports_dir / f".{LATEST}.tmp"
    temporary.write_text(json.dumps(asdict(paths), indent=2), encoding="utf-8")
    os.replace(temporary, reports_dir / LATEST)
    link = reports_dir / "latest"
    try:
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(folder.name, target_is_directory=True)
    except OSError:  # no symlinks here (some Windows set-ups): latest.json is the pointer
        pass
