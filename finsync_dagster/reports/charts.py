"""Charts as inline SVG: the report must open offline, so there is no charting library or CDN."""

from __future__ import annotations

from html import escape

from finsync_dagster.recon.model import STATUSES

STATUS_COLOURS = {
    "matched": "#4c9a5f",
    "matched_with_differences": "#e0a030",
    "missing_in_infor": "#c8553d",
    "missing_in_freshbooks": "#8e3b46",
    "ambiguous": "#6c7fb8",
    "duplicate_suspected": "#9b59b6",
    "unmatched_expected": "#a8b0a0",
}
_BAR_HEIGHT, _GAP, _LABEL, _WIDTH = 22, 10, 110, 520


def status_bars(counts: dict[str, dict[str, int]], titles: dict[str, str]) -> str:
    """One horizontal bar per entity, split by status, with a legend."""
    rows = len(counts)
    height = rows * (_BAR_HEIGHT + _GAP) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Match status per record type" width="{_LABEL + _WIDTH + 20}" height="{height}">'
    ]
    for index, (entity, by_status) in enumerate(counts.items()):
        y = index * (_BAR_HEIGHT + _GAP)
        total = sum(by_status.values()) or 1
        parts.append(f'<text x="0" y="{y + 16}" font-size="13">{escape(titles[entity])}</text>')
        x = float(_LABEL)
        for status in STATUSES:
            n = by_status.get(status, 0)
            if not n:
                continue
            width = max(_WIDTH * n / total, 2.0)
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{_BAR_HEIGHT}" fill="{STATUS_COLOURS[status]}">'
                f"<title>{escape(status)}: {n}</title></rect>"
            )
            x += width
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 16}" font-size="12">{sum(by_status.values())}</text>')
    legend_y = rows * (_BAR_HEIGHT + _GAP) + 14
    x = 0
    for status in STATUSES:
        parts.append(f'<rect x="{x}" y="{legend_y}" width="10" height="10" fill="{STATUS_COLOURS[status]}"/>')
        label = status.replace("_", " ")
        parts.append(f'<text x="{x + 14}" y="{legend_y + 9}" font-size="11">{escape(label)}</text>')
        x += 14 + 7 * len(label) + 12
    parts.append("</svg>")
    parts[0] = parts[0].replace(f'width="{_LABEL + _WIDTH + 20}"', f'width="{max(_LABEL + _WIDTH + 40, x)}"')
    return "".join(parts)


def ageing_bars(ageing: dict[str, dict[str, int]], buckets: tuple[str, ...]) -> str:
    """Unmatched items per age bucket (all record types together)."""
    totals = {b: sum(by_bucket.get(b, 0) for by_bucket in ageing.values()) for b in buckets}
    peak = max(totals.values(), default=0) or 1
    column, chart_height, top = 90, 140, 24  # ``top`` leaves room for the count above the tallest bar
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Unmatched items by age in days" width="{column * len(buckets) + 20}" height="{chart_height + top + 30}">'
    ]
    for index, name in enumerate(buckets):
        n = totals[name]
        bar = chart_height * n / peak
        x = 10 + index * column
        parts.append(
            f'<rect x="{x}" y="{chart_height - bar + top:.1f}" width="{column - 20}" height="{bar:.1f}" fill="#c8553d"><title>{n} unmatched, {escape(name)} days</title></rect>'
        )
        parts.append(
            f'<text x="{x + (column - 20) / 2:.1f}" y="{chart_height - bar + top - 5:.1f}" font-size="12" text-anchor="middle">{n}</text>'
        )
        parts.append(
            f'<text x="{x + (column - 20) / 2:.1f}" y="{chart_height + top + 18}" font-size="12" text-anchor="middle">{escape(name)} days</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
