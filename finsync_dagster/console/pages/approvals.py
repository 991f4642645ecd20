"""Approvals: workflow steps waiting for a person (none until the workflows are built; the page says so)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from finsync_dagster.console import approvals as source
from finsync_dagster.console.auth import page
from finsync_dagster.console.web import console_of, render


@page()
async def approvals(request: Request) -> Response:
    console = console_of(request)
    pending = await run_in_threadpool(source.pending_approvals, console.settings, console.ledger)
    return render(
        request, "approvals.html.j2", active="approvals", pending=pending, available=source.AVAILABLE
    )
