"""The PDF report: the HTML report's body rendered by fpdf2 (pure Python, from PyPI
alone; see docs/decisions.md for why not WeasyPrint). fpdf2 reads a subset of HTML
(headings, paragraphs, tables, images) and draws the SVG charts itself."""

from __future__ import annotations

import base64
import re
from pathlib import Path

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
_UNREAD = re.compile(r'</?div[^>]*>| class="[^"]*"')


def _for_fpdf(body: str) -> str:
    body = _UNREAD.sub("", body)
    return body.replace("<table>", '<table width="100%" border="1">')


def _svg_bytes(src: str) -> str | bytes:
    """A chart's `data:` URI as the SVG's bytes, which fpdf2 draws as vectors."""
    if src.startswith(_SVG_URI):
        return base64.b64decode(src[len(_SVG_URI) :])
    return src


def pdf_report(report: Report) -> bytes:
    try:
        from fpdf import FPDF
    except ImportError:  # pragma: no cover - the `reports` extra is not installed
        raise InvalidInputError(
            "PDF reports need the 'reports' extra: pip install 'algomancy-api[reports]'"
        ) from None
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(report.title)
    body = _for_fpdf(html_body(report, "img"))
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
    pdf.write_html(body, font_family=family, image_map=_svg_bytes)
    return bytes(pdf.output())
