"""Write a pair's report files for one run, and find the latest one.

Layout: ``<reports_dir>/<timestamp>-<run id prefix>/`` holding ``report.html``, ``reconciliation.xlsx``,
one CSV per match table plus ``exceptions.csv``, ``summary.md``, and the console's ``review.parquet`` and
``records.parquet`` (``review_files``); ``<reports_dir>/latest.json`` names
the newest run's folder (and ``latest`` is a symlink to it where the file system allows). A folder is
written as ``.<name>.partial`` and renamed into place; both pointers are swapped with one rename each.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from finsync_dagster.recon.model import MATCH_TABLES
from finsync_dagster.reports.data import Ignored, ReportData, collect
from finsync_dagster.reports.html import render_html
from finsync_dagster.reports.review_files import write_review_files
from finsync_dagster.reports.text import HIDDEN_SQL
from finsync_dagster.reports.xlsx import write_workbook
from finsync_dagster.warehouse import table_exists

LATEST = "latest.json"
_EXCEPTION_COLUMNS = ("entity", "status", "reference", "customer", "currency_code", "amount_at_stake", "age_days",
                      "differences_text", "note", "freshbooks_id", "infor_id", "rule", "confidence", "suggestion",
                      "ignored")  # fmt: skip


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
    ignored: Ignored | None = None,
) -> tuple[ReportData, ReportPaths]:
    """Collect the pair's reconciliation from ``con`` and write every report file for this run.

    ``ignored``: the exceptions a reviewer ignored in the console, with the reason the report shows.
    """
    now = now or datetime.now(UTC)
    data = collect(con, pair, run_id, as_of or now.date(), ignored)
    folder = reports_dir / f"{now.strftime('%Y%m%dT%H%M%SZ')}-{run_id[:8]}"
    # Written aside and renamed into place: a crash leaves a hidden .partial folder, never a half report.
    partial = reports_dir / f".{folder.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    (partial / "report.html").write_text(render_html(data), encoding="utf-8")
    sheets = write_workbook(partial / "reconciliation.xlsx", data, con)
    csvs = _write_csvs(con, partial, data)
    (partial / "summary.md").write_text(data.markdown() + "\n", encoding="utf-8")
    write_review_files(con, partial)
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(partial, folder)
    paths = ReportPaths(
        str(folder),
        str(folder / "report.html"),
        str(folder / "reconciliation.xlsx"),
        [str(folder / p.name) for p in csvs],
        str(folder / "summary.md"),
        sheets,
    )
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
    shown = f"regexp_replace({quoted}, '{HIDDEN_SQL}', '\ufffd', 'g')"  # hidden characters made visible
    return f"CASE WHEN {guarded} THEN chr(39) || {shown} ELSE {shown} END AS {quoted}"


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _point_latest(reports_dir: Path, folder: Path, paths: ReportPaths) -> None:
    temporary = reports_dir / f".{LATEST}.tmp"
    temporary.write_text(json.dumps(asdict(paths), indent=2), encoding="utf-8")
    os.replace(temporary, reports_dir / LATEST)
    link = reports_dir / "latest"
    fresh = reports_dir / ".latest.tmp"
    try:
        if fresh.is_symlink() or fresh.exists():
            fresh.unlink()
        fresh.symlink_to(folder.name, target_is_directory=True)
        os.replace(fresh, link)  # the old link is swapped, never missing
    except OSError:  # no symlinks here (some Windows set-ups): latest.json is the pointer
        pass
