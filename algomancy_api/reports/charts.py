"""Charts drawn on the server as SVG text: nothing to fetch, nothing to run."""

from __future__ import annotations

import math
from html import escape

BAR = "#2563eb"
BEST = "#15803d"
BASE = "#6b7280"
BAD = "#dc2626"
#: The charts' font list (the PDF renderer swaps in the font it has).
CHART_FONTS = "Helvetica, Arial, sans-serif"


def _number(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1e5 else f"{value:,.0f}"


def bar_chart(
    title: str,
    labels: list[str],
    values: list[float | None],
    *,
    baseline: int | None = None,
    threshold: float | None = None,
    better_high: bool = True,
) -> str:
    """A horizontal bar chart, one bar per scenario (so that 50 or 200 labels stay
    readable: the chart grows downwards). The best bar is green, the baseline's
    grey, a threshold a dashed red line."""
    row, label_width, bar_width, top = 16, 180, 420, 28
    width = label_width + bar_width + 90
    height = top + row * max(len(labels), 1) + 10
    present = [v for v in values if v is not None]
    low = min([0.0, *present, *([threshold] if threshold is not None else [])])
    high = max([0.0, *present, *([threshold] if threshold is not None else [])])
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return label_width + (value - low) / span * bar_width

    best = (max(present) if better_high else min(present)) if present else None
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'font-family="{CHART_FONTS}" font-size="11">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{x(0):.1f}" y1="{top - 4}" x2="{x(0):.1f}" y2="{height - 6}" stroke="#999"/>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + index * row
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 11}" text-anchor="end">{escape(short)}</text>'
        )
        if value is None:
            parts.append(f'<text x="{label_width + 4}" y="{y + 11}" fill="#666">no value</text>')
            continue
        colour = BASE if index == baseline else BEST if value == best else BAR
        if threshold is not None and (value < threshold if better_high else value > threshold):
            colour = BAD
        start, end = sorted((x(0), x(value)))
        parts.append(
            f'<rect x="{start:.1f}" y="{y + 2}" width="{max(end - start, 1):.1f}" '
            f'height="{row - 4}" fill="{colour}"/>'
        )
        parts.append(f'<text x="{end + 4:.1f}" y="{y + 11}">{escape(_number(value))}</text>')
    if threshold is not None and math.isfinite(threshold):
        tx = x(threshold)
        parts.append(
            f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{height - 6}" '
            f'stroke="{BAD}" stroke-dasharray="4 3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
