"""Reconciliation reports for finance staff: HTML (inline SVG charts), an XLSX workbook and CSVs.

Pure report building (no Dagster): :func:`collect` reads the pair's ``recon.*`` match tables (and
``quality.anomalies`` when validation has run) into a :class:`ReportData`; :func:`write_report` writes the
files under ``$FINSYNC_HOME/reports/<pair>/<run>/`` and points ``latest`` at them. Reports hold business
records only; no setting, URL or credential reaches them.
"""

from finsync_dagster.reports.data import ENTITY_TITLES, ReportData, collect
from finsync_dagster.reports.tables import write_table
from finsync_dagster.reports.writer import ReportPaths, latest_report, write_report

__all__ = [
    "ENTITY_TITLES",
    "ReportData",
    "ReportPaths",
    "collect",
    "latest_report",
    "write_report",
    "write_table",
]
