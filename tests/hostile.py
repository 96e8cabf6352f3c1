"""Hostile input files, built small in memory: workbooks that ask a reader for
billions of cells, zip bombs, broken text."""

from __future__ import annotations

import io
import zipfile

_PKG = b"http://schemas.openxmlformats.org/package/2006"
_DOC = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SML = b"application/vnd.openxmlformats-officedocument.spreadsheetml"

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="' + _PKG + b'/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="' + _SML + b'.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="' + _SML + b'.worksheet+xml"/>'
    b"</Types>"
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="' + _PKG + b'/relationships">'
    b'<Relationship Id="rId1" Type="' + _DOC + b'/officeDocument" Target="xl/workbook.xml"/>'
    b"</Relationships>"
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="stock" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="' + _PKG + b'/relationships">'
    b'<Relationship Id="rId1" Type="' + _DOC + b'/worksheet" Target="worksheets/sheet1.xml"/>'
    b"</Relationships>"
)


def cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def sheet_xml(
    rows: list[tuple[int, list[bytes]]], dimension: str | None = None, pad: int = 0
) -> bytes:
    """A worksheet: `rows` as (row number, cells); `pad` bytes of whitespace (which
    compress about 1000:1) before the data."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    )
    if dimension:
        head += f'<dimension ref="{dimension}"/>'.encode()
    body = b"".join(f'<row r="{n}">'.encode() + b"".join(cells) + b"</row>" for n, cells in rows)
    return head + b" " * pad + b"<sheetData>" + body + b"</sheetData></worksheet>"


def workbook(sheet: bytes) -> bytes:
    """An .xlsx archive with one sheet named `stock`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


HEADER = (1, [cell("A1", "sku"), cell("B1", "quantity")])


def small_workbook() -> bytes:
    return workbook(sheet_xml([HEADER, (2, [cell("A2", "A"), cell("B2", "10")])]))


def far_cell_workbook(ref: str = "XFD1048576") -> bytes:
    """A header and one cell far away: a dense reader allocates the whole range."""
    row = int("".join(ch for ch in ref if ch.isdigit()))
    return workbook(sheet_xml([HEADER, (row, [cell(ref, "x")])]))


def declared_dimension_workbook(dimension: str = "A1:XFD1048576") -> bytes:
    return workbook(sheet_xml([HEADER], dimension=dimension))


def bomb_workbook(inflated_bytes: int = 64 * 1024 * 1024) -> bytes:
    """A sheet of mostly whitespace: tens of MiB that deflate to a few KiB."""
    return workbook(sheet_xml([HEADER], pad=inflated_bytes))


def relocated_workbook(sheet: bytes, path: str) -> bytes:
    """`workbook(sheet)` with the sheet stored at `path` (``xl/sheets/sheet1.xml``,
    ``xl/worksheets/sheet1.XML``), which the workbook's relationships name."""
    target = path.removeprefix("xl/").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr(
            "xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.replace(b"worksheets/sheet1.xml", target)
        )
        archive.writestr(path, sheet)
    return buffer.getvalue()


def far_cell_at(path: str, ref: str = "XFD1048576") -> bytes:
    """`far_cell_workbook(ref)` with its sheet stored at `path`."""
    row = int("".join(ch for ch in ref if ch.isdigit()))
    return relocated_workbook(sheet_xml([HEADER, (row, [cell(ref, "x")])]), path)


def lying_directory(data: bytes, member: str, claimed: int = 1000) -> bytes:
    """The archive `data` with `member`'s inflated size patched to `claimed` bytes in
    its local header and in the central directory (its real size is unchanged)."""
    out = bytearray(data)
    name = member.encode()
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = out.find(signature)
        while start != -1:
            if out[start + name_at : start + name_at + len(name)] == name:
                out[start + size_at : start + size_at + 4] = claimed.to_bytes(4, "little")
            start = out.find(signature, start + 4)
    return bytes(out)


def shared_formula_workbook(dependents: int = 20_000, terms: int = 200) -> bytes:
    """A long shared formula and `dependents` cells that only name it: each is
    translated to its own formula text, slowly (about a millisecond each)."""
    master = "+".join(["SUM(B1:B2)"] * terms).encode()
    cells = [b'<c r="A2"><f t="shared" ref="A2:A9" si="0">' + master + b"</f></c>"]
    cells += [b'<c r="A%d"><f t="shared" si="0"/></c>' % n for n in range(3, dependents + 3)]
    return workbook(sheet_xml([HEADER, (2, cells)]))
