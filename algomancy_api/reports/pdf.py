"""The PDF report: the HTML report's body rendered by fpdf2 (pure Python, from PyPI
alone; see docs/decisions.md for why not WeasyPrint). fpdf2 reads a subset of HTML
(headings, paragraphs, tables, images) and draws the SVG charts itself."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

from algomancy_api.reports.charts import CHART_FONTS
from algomancy_api.reports.html import html_body
from algomancy_api.reports.model import Report
from algomancy_core.errors import InvalidInputError

#: A Unicode font where the system has one; else the PDF's own Helvetica, which
#: holds Latin-1 only (other characters become "?").
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/Library/Fonts/Arial Unicode.ttf"),
)
#: What fpdf2's HTML reader does not take: wrappers and attributes it would warn of.
_SVG_URI = "data:image/svg+xml;base64,"
#: The most scenarios a PDF report takes (about 4 s per 100 scenarios to lay out).
MAX_PDF_SCENARIOS = 500
_UNREAD = re.compile(r'</?div[^>]*>| class="[^"]*"')


def _for_fpdf(body: str) -> str:
    body = _UNREAD.sub("", body)
    return body.replace("<table>", '<table width="100%" border="1">')


def _chart_reader(family: str | None) -> Callable[[str], str | bytes]:
    """fpdf2's `image_map`: a chart's `data:` URI as the SVG's bytes (fpdf2 draws
    them as vectors), its text set in `family` (the Unicode font), or in Latin-1
    for the built-in Helvetica when there is none."""

    def read(src: str) -> str | bytes:
        if not src.startswith(_SVG_URI):
            return src
        svg = base64.b64decode(src[len(_SVG_URI) :]).decode()
        if family is None:
            return svg.encode("latin-1", "replace").decode("latin-1").encode()
        return svg.replace(f'font-family="{CHART_FONTS}"', f'font-family="{family}"').encode()

    return read


def pdf_report(report: Report) -> bytes:
    try:
        from fpdf import FPDF
    except ImportError:  # pragma: no cover - the `reports` extra is not installed
        raise InvalidInputError(
            "PDF reports need the 'reports' extra: pip install 'algomancy-api[reports]'"
        ) from None
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(report.title)
    count = len(report.comparison.records)
    if count > MAX_PDF_SCENARIOS:
        raise InvalidInputError(
            f"a PDF report takes at most {MAX_PDF_SCENARIOS} scenarios, not {count}: "
            "select fewer (ids), or ask for format=xlsx or format=html"
        )
    # The per-KPI tables are left out: the summary holds the same numbers, and
    # fpdf2 lays out about a thousand table cells a second.
    body = _for_fpdf(html_body(report, "img", details=False))
    font = next((path for path in FONT_CANDIDATES if path.is_file()), None)
    if font is not None:
        pdf.add_font("report", "", str(font))
        bold = font.with_name(font.stem + "-Bold.ttf")
        pdf.add_font("report", "B", str(bold if bold.is_file() else font))
        family = "report"
    else:
        family = "helvetica"
        body = body.encode("latin-1", "replace").decode("latin-1")
    pdf.set_font(family, size=9)
    pdf.add_page()
    reader = _chart_reader(family if font is not None else None)
    pdf.write_html(body, font_family=family, image_map=reader)
    return bytes(pdf.output())
