"""The parts of an XLSX archive, inflated without trusting its zip directory.

A zip directory states each member's inflated size, but a reader that inflates the
deflate stream to its end (as python-calamine's does) gets whatever the stream
holds: a member claiming 1,000 bytes may inflate to gigabytes. `inflate()` streams
a member's compressed bytes through zlib in small pieces and stops as soon as the
output passes a byte cap, so a lie costs at most the cap.

The reader finds its worksheets through the workbook's relationships
(``xl/_rels/workbook.xml.rels``), which may name any part at any path, in any
case. `sheet_parts()` finds them the same way (and keeps ``xl/worksheets/*.xml``).
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator

#: Bytes inflated per step.
CHUNK = 256 * 1024
_LOCAL_HEADER = struct.Struct("<4s5H3I2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
#: The small XML parts read to find the sheets may take this much each.
_INDEX_PART_BYTES = 16 * 1024 * 1024

_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")
_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>")
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


class PartTooLarge(ValueError):
    """A member inflates past the cap given to `inflate`; `inflated` is how far it got."""

    def __init__(self, member: str, inflated: int) -> None:
        super().__init__(f"{member} inflates to more than {inflated} bytes")
        self.member = member
        self.inflated = inflated


def inflate(data: bytes, member: zipfile.ZipInfo, cap: int) -> Iterator[bytes]:
    """The inflated bytes of `member` of the archive `data`, in pieces of at most
    `CHUNK` bytes; `PartTooLarge` once they pass `cap` bytes (never more than `cap`
    plus one piece is inflated). Only the member's offset and compressed size are
    taken from the directory. `zipfile.BadZipFile` for a corrupt, encrypted or
    unsupported member."""
    if member.flag_bits & 0x1:
        raise zipfile.BadZipFile(f"part {member.filename!r} is encrypted")
    offset = member.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(data):
        raise zipfile.BadZipFile(f"part {member.filename!r}: bad header offset")
    header = _LOCAL_HEADER.unpack_from(data, offset)
    if header[0] != _LOCAL_SIGNATURE:
        raise zipfile.BadZipFile(f"part {member.filename!r}: bad local header")
    start = offset + _LOCAL_HEADER.size + header[9] + header[10]
    raw = memoryview(data)[start : start + member.compress_size]
    produced = 0
    if member.compress_type == zipfile.ZIP_STORED:
        for position in range(0, len(raw), CHUNK):
            piece = bytes(raw[position : position + CHUNK])
            produced += len(piece)
            if produced > cap:
                raise PartTooLarge(member.filename, produced)
            yield piece
        return
    if member.compress_type != zipfile.ZIP_DEFLATED:
        raise zipfile.BadZipFile(
            f"part {member.filename!r}: compression method {member.compress_type} "
            "(an XLSX workbook uses deflate)"
        )
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for position in range(0, len(raw), CHUNK):
            pending = bytes(raw[position : position + CHUNK])
            while pending and not inflater.eof:
                piece = inflater.decompress(pending, CHUNK)
                pending = inflater.unconsumed_tail
                produced += len(piece)
                if produced > cap:
                    raise PartTooLarge(member.filename, produced)
                if piece:
                    yield piece
            if inflater.eof:
                return
        rest = inflater.flush()
    except zlib.error as exc:
        raise zipfile.BadZipFile(f"part {member.filename!r}: {exc}") from None
    produced += len(rest)
    if produced > cap:
        raise PartTooLarge(member.filename, produced)
    if rest:
        yield rest


def read_part(data: bytes, member: zipfile.ZipInfo, cap: int) -> bytes:
    """The whole inflated `member`, at most `cap` bytes (`PartTooLarge` beyond)."""
    return b"".join(inflate(data, member, cap))


def members_by_name(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Lower-cased member name → member (the first of names differing only in case)."""
    found: dict[str, zipfile.ZipInfo] = {}
    for member in archive.infolist():
        found.setdefault(member.filename.lower(), member)
    return found


def _attributes(head: bytes) -> dict[bytes, bytes]:
    return {
        m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _ATTRIBUTE.finditer(head)
    }


def _local(name: bytes) -> bytes:
    return name.rsplit(b":", 1)[-1]


def resolve_target(target: str, base: str = "xl") -> str:
    """A relationship target as an archive member name: ``/xl/a.xml`` from the
    root, anything else relative to `base` (``..`` resolved)."""
    target = target.replace("\\", "/")
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(base, target)).lstrip("/")


def sheet_parts(
    data: bytes, archive: zipfile.ZipFile, cap: int = _INDEX_PART_BYTES
) -> list[zipfile.ZipInfo]:
    """The members a reader may take for worksheets: each ``<sheet r:id>`` of
    ``xl/workbook.xml`` through ``xl/_rels/workbook.xml.rels`` (every target of the
    relationships when the workbook part lists none), and every
    ``xl/worksheets/*.xml``; names compared without case. `archive` is the archive
    `data` holds; the two index parts are inflated up to `cap` bytes each."""

    def read(member: zipfile.ZipInfo) -> bytes:
        return read_part(data, member, cap)

    by_name = members_by_name(archive)
    targets: dict[bytes, str] = {}
    rels = by_name.get(_WORKBOOK_RELS)
    if rels is not None:
        for found in _RELATIONSHIP.finditer(read(rels)):
            attributes = {_local(k): v for k, v in _attributes(found.group(1)).items()}
            target = attributes.get(b"Target")
            if target is not None and attributes.get(b"TargetMode") != b"External":
                targets[attributes.get(b"Id", b"")] = resolve_target(
                    target.decode("utf-8", "replace")
                )
    wanted: set[str] = set()
    workbook = by_name.get(_WORKBOOK)
    if workbook is not None:
        for found in _SHEET.finditer(read(workbook)):
            for key, value in _attributes(found.group(1)).items():
                if _local(key) == b"id" and value in targets:
                    wanted.add(targets[value].lower())
    if not wanted:
        wanted = {target.lower() for target in targets.values()}
    parts = []
    for lowered, member in by_name.items():
        in_worksheets = lowered.startswith("xl/worksheets/") and lowered.endswith(".xml")
        if lowered in wanted or in_worksheets:
            parts.append(member)
    return parts
