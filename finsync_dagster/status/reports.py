"""What a pair's latest reconciliation report says in figures: when it ran, open exceptions, money at stake.

Read from the files the report wrote (``latest.json``, then the run's ``exceptions.csv``), so the figures
never disagree with the report a person opens. Every path read from ``latest.json`` must lie under
``FINSYNC_HOME`` (``Settings.inside_home``).
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from finsync_dagster.errors import ConfigError
from finsync_dagster.settings import Settings

# The pointer ``reports.writer`` keeps beside a pair's report folders (its ``LATEST``), read here without
# importing the report writer (HTML, XLSX, DuckDB): ``finsync status`` stays quick to start.
_LATEST = "latest.json"

_FOLDER_TIME = re.compile(r"(\d{8}T\d{6}Z)-")


@dataclass(frozen=True)
class ReportFigures:
    written_at: datetime
    exceptions: int
    at_stake: dict[str, Decimal]  # per currency: amounts in different currencies never add up
    html: str


def latest_report_figures(settings: Settings, pair: str) -> ReportFigures | None:
    """The figures of ``pair``'s latest report, or None when it has none (or it points outside the home)."""
    pointer = settings.reports_dir(pair) / _LATEST
    try:
        paths = json.loads(pointer.read_text(encoding="utf-8"))
        directory = settings.inside_home(paths["directory"])
        html = str(settings.inside_home(paths["html"]))
    except FileNotFoundError:
        return None
    except (ConfigError, OSError, ValueError, TypeError, KeyError):
        return None
    exceptions = 0
    at_stake: dict[str, Decimal] = defaultdict(Decimal)
    try:
        with (directory / "exceptions.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                exceptions += 1
                amount, currency = row.get("amount_at_stake") or "", row.get("currency_code") or ""
                if amount and currency:
                    try:
                        at_stake[currency] += Decimal(amount)
                    except InvalidOperation:
                        continue
    except OSError:
        return None
    return ReportFigures(_written_at(directory), exceptions, dict(sorted(at_stake.items())), html)


def _written_at(directory: Path) -> datetime:
    """The run's time from its folder name (``20261201T080000Z-<run>``); the folder's mtime otherwise."""
    found = _FOLDER_TIME.match(directory.name)
    if found:
        return datetime.strptime(found.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return datetime.fromtimestamp(directory.stat().st_mtime, UTC)
