"""Formula cells of an uploaded workbook are read as their text, never evaluated.

An XLSX cell with a formula stores the formula and, if the writing program computed
it, a cached value. The spreadsheet reader returns the cached value, or nothing when
there is none (as openpyxl and most generators write them). Neither is what the
uploader sent, and a cached value can say anything regardless of its formula. So
before the workbook is read, each formula cell is rewritten into an inline string
holding its formula text, `=` included: the table stores `=SUM(A1:A3)` as text.
Shared formulas (one master, dependents that only name it) are expanded to each
cell's own formula, as the spreadsheet program shows it.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import escape, unescape

from openpyxl.formula.translate import Translator

#: The start of a formula element: `<f>`, `<f …>`, `<f/>`, with an optional prefix.
_FORMULA_START = re.compile(rb"<(\w+:)?f[\s>/]")
_FORMULA = re.compile(rb"<(?:\w+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?f>)", re.DOTALL)
_ATTRIBUTE = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_XML_ENTITIES = {"&quot;": '"', "&apos;": "'"}


def is_worksheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def formulas_as_text(data: bytes) -> bytes:
    """The workbook `data` with every formula cell turned into its formula text
    (the bytes unchanged when no sheet holds a formula).

    The archive must have passed `check_xlsx`: its parts are inflated here."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        rewritten: dict[str, bytes] = {}
        for member in members:
            if is_worksheet(member.filename):
                xml = archive.read(member)
                if _FORMULA_START.search(xml):
                    rewritten[member.filename] = sheet_formulas_as_text(xml)
        if not rewritten:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
            for member in members:
                body = rewritten.get(member.filename)
                copy.writestr(member, body if body is not None else archive.read(member))
        return out.getvalue()


def sheet_formulas_as_text(xml: bytes) -> bytes:
    """A worksheet's XML with each formula cell rewritten as an inline string."""
    pieces: list[bytes] = []
    done = 0
    shared: dict[bytes, tuple[str, str]] = {}
    for found in _FORMULA_START.finditer(xml):
        if found.start() < done:
            continue
        prefix = found.group(1) or b""
        start = max(
            xml.rfind(b"<" + prefix + b"c ", done, found.start()),
            xml.rfind(b"<" + prefix + b"c>", done, found.start()),
        )
        closing = b"</" + prefix + b"c>"
        end = xml.find(closing, found.start())
        if start == -1 or end == -1:
            continue
        end += len(closing)
        cell = xml[start:end]
        replacement = _cell_as_text(cell, prefix, shared)
        if replacement is None:
            continue
        pieces += [xml[done:start], replacement]
        done = end
    pieces.append(xml[done:])
    return b"".join(pieces)


def _cell_as_text(cell: bytes, prefix: bytes, shared: dict[bytes, tuple[str, str]]) -> bytes | None:
    head_end = cell.index(b">")
    head = cell[: head_end + 1]
    attributes = {
        match.group(1): match.group(2) if match.group(2) is not None else match.group(3)
        for match in _ATTRIBUTE.finditer(head)
    }
    formula = _FORMULA.search(cell, head_end)
    if formula is None:
        return None
    formula_attributes = {
        match.group(1): match.group(2) if match.group(2) is not None else match.group(3)
        for match in _ATTRIBUTE.finditer(formula.group(1))
    }
    text = unescape((formula.group(2) or b"").decode("utf-8"), _XML_ENTITIES)
    coordinate = (attributes.get(b"r") or b"").decode("ascii", "replace")
    index = formula_attributes.get(b"si")
    if formula_attributes.get(b"t") == b"shared" and index is not None:
        if text:
            shared[index] = (text, coordinate)
        elif index in shared and coordinate:
            master, origin = shared[index]
            text = Translator("=" + master, origin=origin).translate_formula(coordinate)[1:]
    if not text:
        return None
    kept = b"".join(
        b" " + name + b'="' + value + b'"' for name, value in attributes.items() if name != b"t"
    )
    body = escape("=" + text).encode("utf-8")
    p = prefix
    return (
        b"<"
        + p
        + b"c"
        + kept
        + b' t="inlineStr"><'
        + p
        + b"is><"
        + p
        + b't xml:space="preserve">'
        + body
        + b"</"
        + p
        + b"t></"
        + p
        + b"is></"
        + p
        + b"c>"
    )
