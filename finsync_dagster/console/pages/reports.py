"""Reports: every run's report of every pair, to open in the browser or download.

Files are served only from a pair's report folders, by name from a fixed list, after checking that the
path stays inside ``$FINSYNC_HOME``; an HTML report is served sandboxed (no script, no same origin).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from finsync_dagster.console import snapshots
from finsync_dagster.console.auth import page
from finsync_dagster.console.web import console_of, render
from finsync_dagster.errors import ConfigError
from finsync_dagster.settings import Settings

_FILES = re.compile(r"^(report\.html|reconciliation\.xlsx|summary\.md|[a-z_]+\.csv)$")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".md": "text/markdown; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
}
# The report is our own static HTML (inline CSS and SVG); served apart from the console's pages.
_REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


@dataclass(frozen=True)
class Run:
    pair: str
    name: str
    written_at: datetime | None
    files: list[str]


def runs(settings: Settings, pair: str) -> list[Run]:
    found = []
    for folder in snapshots.run_folders(settings, pair):
        files = sorted(p.name for p in folder.iterdir() if p.is_file() and _FILES.match(p.name))
        found.append(Run(pair, folder.name, snapshots.run_time(folder.name), files))
    return found


@page()
async def reports(request: Request) -> Response:
    console = console_of(request)
    listed = await run_in_threadpool(
        lambda: {pair: runs(console.settings, pair) for pair in console.settings.pair_names}
    )
    return render(request, "reports.html.j2", active="reports", runs=listed)


@page()
async def report_file(request: Request) -> Response:
    console = console_of(request)
    pair, run, name = (request.path_params[k] for k in ("pair", "run", "name"))
    if (
        pair not in console.settings.pair_names
        or not snapshots.RUN_FOLDER.match(run)
        or not _FILES.match(name)
    ):
        return PlainTextResponse("no such report file", 404)
    try:
        path = console.settings.inside_home(console.settings.reports_dir(pair) / run / name)
    except ConfigError:
        return PlainTextResponse("no such report file", 404)
    if not path.is_file():
        return PlainTextResponse("no such report file", 404)
    download = request.query_params.get("download") == "1" or path.suffix == ".xlsx"
    response = FileResponse(
        path,
        media_type=_TYPES.get(Path(name).suffix, "application/octet-stream"),
        filename=f"{pair}-{run}-{name}" if download else None,
        content_disposition_type="attachment" if download else "inline",
    )
    response.headers["Content-Security-Policy"] = _REPORT_POLICY
    return response
