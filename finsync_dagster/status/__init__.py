"""The at-a-glance figures of every pair: last sync, lag, exceptions and money at stake, the outbox, dead
letters, the webhook inbox and token health. ``finsync status``, the alerts and the console read them.

:func:`gather` reads the ledger (one aggregate query per figure), each pair's latest report and, when
given, the Dagster instance's latest runs (``runs``); :func:`pair_status` is the pure function that turns
those readings into a :class:`PairStatus`.
"""

from finsync_dagster.status.figures import (
    PairStatus,
    RunInfo,
    StatusReport,
    TokenStatus,
    gather,
    pair_status,
    percentile,
    token_status,
)
from finsync_dagster.status.reports import ReportFigures, latest_report_figures

__all__ = [
    "PairStatus",
    "ReportFigures",
    "RunInfo",
    "StatusReport",
    "TokenStatus",
    "gather",
    "latest_report_figures",
    "pair_status",
    "percentile",
    "token_status",
]
