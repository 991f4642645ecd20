"""The HTML report: a jinja2 template shipped with the package, charts inline, nothing fetched."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import jinja2
from markupsafe import Markup

from finsync_dagster.quality.anomalies import rule_summaries
from finsync_dagster.recon.model import STATUSES
from finsync_dagster.reports.charts import STATUS_COLOURS, ageing_bars, status_bars
from finsync_dagster.reports.data import (
    AGEING_BUCKETS,
    ENTITY_TITLES,
    STATUS_TITLES,
    ReportData,
    confidence_range,
)

HTML_ROW_LIMIT = 500

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("finsync_dagster.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def money(amount: Decimal | None, currency: str | None) -> str:
    """'USD 2,598.00': the amount as Decimal, to the cent, with its currency."""
    if amount is None:
        return ""
    return f"{currency or ''} {amount:,.2f}".strip()


def render_html(data: ReportData) -> str:
    summaries = rule_summaries()
    flagged_rules = sorted({row["rule"] for row in data.anomalies or []})
    return _ENV.get_template("report.html.j2").render(
        data=data,
        confidence_range=confidence_range,
        statuses=STATUSES,
        status_titles=STATUS_TITLES,
        entity_titles=ENTITY_TITLES,
        colours=STATUS_COLOURS,
        buckets=AGEING_BUCKETS,
        at_stake=data.at_stake(),
        money=money,
        limit=HTML_ROW_LIMIT,
        rule_meanings={rule: summaries.get(rule, "") for rule in flagged_rules},
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        status_chart=Markup(status_bars(data.counts, ENTITY_TITLES)) if data.counts else "",
        ageing_chart=Markup(ageing_bars(data.ageing, AGEING_BUCKETS)) if data.ageing else "",
    )
