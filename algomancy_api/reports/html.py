"""The HTML report: one self-contained file (styles and SVG charts inline, no URL to
fetch), readable on screen and printed. The PDF report is this HTML rendered."""

from __future__ import annotations

import base64
from html import escape
from typing import Any, Literal

from algomancy_api.compare import PARAMETER_PREFIX
from algomancy_api.reports.charts import bar_chart
from algomancy_api.reports.model import BAD, GOOD, LINEAGE_COLUMNS, KpiColumn, Report

STYLE = """
body{font-family:system-ui,Helvetica,Arial,sans-serif;color:#111;margin:1.5rem;line-height:1.35}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.6rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
th,td{border:1px solid #bbb;padding:.2rem .45rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f1f5f9}.good{background:#c6efce}.bad{background:#ffc7ce}.muted{color:#555}
.chart{margin:.6rem 0;overflow-x:auto}.wrap{overflow-x:auto}
@page{size:A4 landscape;margin:12mm}
@media print{body{margin:0;font-size:9pt}.chart,tr{break-inside:avoid}
h2{break-after:avoid}.wrap{overflow:visible}a{color:inherit;text-decoration:none}}
"""

Charts = Literal["svg", "img"]


def _number(value: Any, kind: str = "value") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return escape(str(value))
    if kind == "relative":
        return f"{value:+.1%}"
    if kind == "delta":
        return f"{value:+,.2f}"
    return f"{value:,.2f}"


def _verdict_class(verdict: Any) -> str:
    return "good" if verdict in GOOD else "bad" if verdict in BAD else ""


def _chart(svg: str, charts: Charts, title: str) -> str:
    if charts == "svg":
        return f'<div class="chart">{svg}</div>'
    data = base64.b64encode(svg.encode()).decode()
    image = f'<img src="data:image/svg+xml;base64,{data}" alt="{escape(title)}">'
    return f'<div class="chart">{image}</div>'


def _summary(report: Report, rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{escape(k.heading)}</th>" for k in report.kpis)
    body = []
    for row in rows:
        cells = []
        for kpi in report.kpis:
            text = _number(row.get(kpi.name))
            css = ""
            if report.has_baseline:
                verdict = row.get(kpi.verdict)
                text += f" ({_number(row.get(kpi.relative), 'relative')}, {escape(str(verdict))})"
                css = _verdict_class(verdict)
            cells.append(f'<td class="n {css}">{text}</td>')
        mark = " (baseline)" if row.get("baseline") else ""
        body.append(
            f"<tr><td>{escape(row['scenario'])}{mark}</td><td>{escape(row['status'])}</td>"
            + "".join(cells)
            + "</tr>"
        )
    return (
        '<div class="wrap"><table><thead><tr><th>Scenario</th><th>Status</th>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _kpi_section(
    report: Report, kpi: KpiColumn, rows: list[dict[str, Any]], charts: Charts, details: bool
) -> str:
    labels = [str(row["scenario"]) for row in rows]
    values = [row.get(kpi.name) for row in rows]
    base_index = next((i for i, row in enumerate(rows) if row.get("baseline")), None)
    svg = bar_chart(
        kpi.heading,
        labels,
        values,
        baseline=base_index,
        threshold=kpi.threshold if kpi.direction in ("at_least", "at_most") else None,
        better_high=kpi.direction in ("higher", "at_least"),
    )
    direction = {"higher": "higher is better", "lower": "lower is better"}.get(
        kpi.direction, f"{kpi.direction.replace('_', ' ')} {kpi.threshold}"
    )
    parts = [f"<h2>{escape(kpi.heading)}</h2>", f'<p class="muted">{escape(direction)}</p>']
    parts.append(_chart(svg, charts, f"{kpi.heading} per scenario"))
    if report.has_baseline and details:
        lines = "".join(
            f"<tr><td>{escape(str(row['scenario']))}</td>"
            f'<td class="n">{_number(row.get(kpi.name))}</td>'
            f'<td class="n">{_number(row.get(kpi.delta), "delta")}</td>'
            f'<td class="n">{_number(row.get(kpi.relative), "relative")}</td>'
            f'<td class="{_verdict_class(row.get(kpi.verdict))}">'
            f"{escape(str(row.get(kpi.verdict)))}</td></tr>"
            for row in rows
        )
        parts.append(
            "<table><thead><tr><th>Scenario</th><th>Value</th><th>Δ</th><th>Δ%</th>"
            f"<th>Verdict</th></tr></thead><tbody>{lines}</tbody></table>"
        )
    return "".join(parts)


def _table(names: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(name)}</th>" for name in names)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="wrap">{table}</div>'


def html_report(report: Report) -> str:
    """The report as one HTML document, its SVG charts inline."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(report.title)}</title><style>{STYLE}</style></head><body>"
        f"{html_body(report, 'svg')}</body></html>"
    )


def html_body(report: Report, charts: Charts, *, details: bool = True) -> str:
    """The document's body; `charts="img"` puts each SVG chart in an `<img>` with a
    `data:` URI (for the PDF renderer), `"svg"` inline. Without `details`, no table
    per KPI (the summary holds the same numbers)."""
    rows = report.rows()
    base = report.comparison.baseline
    intro = (
        f"Against the baseline <b>{escape(base.tag)}</b> (relative tolerance "
        f"{report.comparison.tolerance:g})."
        if base is not None
        else "No baseline: values only."
    )
    names = report.comparison.parameters
    parameters = _table(
        ["Scenario", "Algorithm", *names],
        [
            [row["scenario"], row["algorithm"], *(row.get(PARAMETER_PREFIX + n) for n in names)]
            for row in rows
        ],
    )
    lineage = _table(
        [c.capitalize() for c in LINEAGE_COLUMNS],
        [[row[c] for c in LINEAGE_COLUMNS] for row in report.lineage],
    )
    sections = "".join(_kpi_section(report, kpi, rows, charts, details) for kpi in report.kpis)
    stamp = report.generated.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<h1>{escape(report.title)}</h1>"
        f'<p class="muted">{len(rows)} scenarios, made {stamp}. {intro}</p>'
        f"<h2>Summary</h2>{_summary(report, rows)}{sections}"
        f"<h2>Parameters</h2>{parameters}<h2>Lineage</h2>{lineage}"
    )
