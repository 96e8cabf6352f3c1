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
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, unescape

from algomancy_data.limits import LimitExceeded, ReadLimits
from algomancy_data.zipparts import PartTooLarge, read_part, sheet_parts

if TYPE_CHECKING:
    from openpyxl.formula.translate import Translator

#: The start of a formula element: `<f>`, `<f …>`, `<f/>`, with an optional prefix.
_FORMULA_START = re.compile(rb"<([\w.-]+:)?f[\s>/]")
#: A cell's opening or closing tag: `<c …`, `</c`, with an optional prefix.
_CELL_TAG = re.compile(rb"<(/?)([\w.-]+:)?c(?=[\s/>])")
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_XML_ENTITIES = {"&quot;": '"', "&apos;": "'"}
#: Excel's own limit on the characters of a formula.
MAX_FORMULA_CHARS = 8192


def formulas_as_text(data: bytes, limits: ReadLimits | None = None) -> bytes:
    """The workbook `data` with every formula cell turned into its formula text
    (the bytes unchanged when no sheet holds a formula).

    The sheets are found as the reader finds them (`sheet_parts`); every part is
    inflated as a stream within `limits.max_decompressed_bytes` (all parts
    together, the rewritten sheets counted as written), never trusting the zip
    directory. `LimitExceeded` beyond it, or for a formula over 8,192 characters."""
    limits = limits or ReadLimits()
    budget = limits.max_decompressed_bytes
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        sheets = {m.filename for m in sheet_parts(data, archive)}
        rewritten: dict[str, bytes] = {}
        for member in members:
            if member.filename in sheets:
                xml = _read(data, member, budget)
                if _FORMULA_START.search(xml):
                    rewritten[member.filename] = sheet_formulas_as_text(xml, budget)
                    budget -= len(rewritten[member.filename])
                else:
                    budget -= len(xml)
        if not rewritten:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
            for member in members:
                body = rewritten.get(member.filename)
                if body is None:
                    body = _read(data, member, budget)
                    budget -= len(body)
                copy.writestr(member, body)
        return out.getvalue()


def _read(data: bytes, member: zipfile.ZipInfo, budget: int) -> bytes:
    try:
        return read_part(data, member, max(budget, 0))
    except PartTooLarge:
        raise LimitExceeded(
            f"part {member.filename!r} inflates past the limit (max_decompressed_bytes)",
            code="too_large",
        ) from None


def sheet_formulas_as_text(xml: bytes, max_bytes: int | None = None) -> bytes:
    """A worksheet's XML with each formula cell rewritten as an inline string.

    One pass over the cell tags, each cell looked at once: the work grows with the
    size of the XML and of what is written (`LimitExceeded` once that passes
    `max_bytes`, max_decompressed_bytes)."""
    pieces: list[bytes] = []
    written = 0
    done = 0
    shared: dict[bytes, Translator] = {}
    open_at, open_prefix = -1, b""
    for tag in _CELL_TAG.finditer(xml):
        prefix = tag.group(2) or b""
        if not tag.group(1):
            open_at, open_prefix = tag.start(), prefix
            continue
        start = open_at
        open_at = -1
        if start < 0 or prefix != open_prefix:
            continue
        end = xml.find(b">", tag.end())
        if end == -1:
            break
        end += 1
        if _FORMULA_START.search(xml, start, end) is None:
            continue
        replacement = _cell_as_text(xml[start:end], prefix, shared)
        if replacement is None:
            continue
        pieces += [xml[done:start], replacement]
        written += start - done + len(replacement)
        if max_bytes is not None and written > max_bytes:
            raise LimitExceeded(
                f"formula cells rewritten as text pass {max_bytes} bytes (max_decompressed_bytes)",
                code="too_large",
            )
        done = end
    pieces.append(xml[done:])
    return b"".join(pieces)


def _attributes(head: bytes) -> dict[bytes, bytes]:
    return {
        match.group(1): match.group(2) if match.group(2) is not None else match.group(3)
        for match in _ATTRIBUTE.finditer(head)
    }


def _cell_as_text(cell: bytes, prefix: bytes, shared: dict[bytes, Translator]) -> bytes | None:
    head_end = cell.find(b">")
    formula = _FORMULA_START.search(cell, head_end)
    if head_end == -1 or cell[head_end - 1 : head_end] == b"/" or formula is None:
        return None
    attributes = _attributes(cell[:head_end])
    formula_head_end = cell.find(b">", formula.start())
    if formula_head_end == -1:
        return None
    formula_attributes = _attributes(cell[formula.start() : formula_head_end])
    if cell[formula_head_end - 1 : formula_head_end] == b"/":
        raw = b""
    else:
        closing = cell.find(b"</" + (formula.group(1) or b"") + b"f>", formula_head_end)
        if closing == -1:
            return None
        raw = cell[formula_head_end + 1 : closing]
    if len(raw) > 6 * MAX_FORMULA_CHARS:  # an entity takes at most 6 bytes per character
        raise _too_long(len(raw))
    text = unescape(raw.decode("utf-8", "replace"), _XML_ENTITIES)
    if len(text) > MAX_FORMULA_CHARS:
        raise _too_long(len(text))
    coordinate = (attributes.get(b"r") or b"").decode("ascii", "replace")
    index = formula_attributes.get(b"si")
    if formula_attributes.get(b"t") == b"shared" and index is not None:
        if text:
            # tokenized once, not once per dependent cell
            from openpyxl.formula.translate import Translator  # only for shared formulas

            shared[index] = Translator("=" + text, origin=coordinate)
        elif index in shared and coordinate:
            text = shared[index].translate_formula(coordinate)[1:]
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


def _too_long(chars: int) -> LimitExceeded:
    return LimitExceeded(
        f"a formula of {chars} characters; a spreadsheet formula has at most {MAX_FORMULA_CHARS}",
        code="too_large",
    )
