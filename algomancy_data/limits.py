"""Bounds on what reading an input file may cost, checked before the readers allocate.

A spreadsheet reader allocates a dense grid for the range a sheet declares or
addresses: one cell at ``XFD1048576`` asks for 17 billion cells. A zip archive can
inflate a thousandfold. So the zip directory, the declared ``<dimension>`` and every
cell address are checked here, by streaming the sheet XML, before any reader runs.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from collections.abc import Iterator

from algomancy_data.zipparts import PartTooLarge, inflate, sheet_parts

#: Excel's own limit on the characters of one cell.
DEFAULT_MAX_CELL_CHARS = 32_767
DEFAULT_MAX_TABLE_CELLS = 10_000_000
DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_COMPRESSION_RATIO = 100
DEFAULT_PARSE_MEMORY_BYTES = 3 * 1024 * 1024 * 1024
DEFAULT_PARSE_SECONDS = 120
#: Members smaller than this once inflated are not held to the ratio (tiny XML parts
#: compress far better than 100:1 and cost nothing).
RATIO_FLOOR_BYTES = 1024 * 1024
#: How much of an input error message may quote of what was sent.
QUOTE_CHARS = 200
#: How deeply a dataset's free-form JSON (`data_parameters`, `extra`) may nest: the
#: JSON writers stop at 255 levels, and no real parameter nests past a handful.
MAX_METADATA_DEPTH = 64


class LimitExceeded(ValueError):
    """An input file is over one of the `ReadLimits`; the message names the limit."""

    def __init__(self, message: str, code: str = "limit_exceeded") -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class ReadLimits:
    """What reading one file may cost. Every field must be a positive integer."""

    max_table_cells: int = DEFAULT_MAX_TABLE_CELLS
    """Rows x columns of one table (a sheet's declared or addressed range included)."""
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS
    """Characters of one cell."""
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    """Sum of the inflated sizes of an XLSX archive's members."""
    max_compression_ratio: int = DEFAULT_MAX_COMPRESSION_RATIO
    """Inflated size / compressed size of one XLSX member (members over 1 MiB)."""
    xlsx_parse_memory_bytes: int = DEFAULT_PARSE_MEMORY_BYTES
    """Address space of the child process that parses one workbook."""
    xlsx_parse_seconds: int = DEFAULT_PARSE_SECONDS
    """CPU seconds, and wall seconds (waiting for a free parser included), of one
    workbook's parse."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{field.name}: must be a positive integer")


def nesting_depth(value: object, stop_after: int = MAX_METADATA_DEPTH) -> int:
    """Levels of lists and dicts in `value` (0 for a scalar), counted without
    recursion; counting stops as soon as the depth passes `stop_after`."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Iterator[object] = iter(item.values())
        elif isinstance(item, list | tuple):
            children = iter(item)
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > stop_after:
            break
        pending.extend((child, depth) for child in children)
    return deepest


def quote(text: object, limit: int = QUOTE_CHARS) -> str:
    """`repr` of `text`, cut to about `limit` characters, for error messages."""
    shown = repr(text)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}… ({len(str(text))} characters)"


_CELL_REF = re.compile(rb'\sr="([A-Z]{0,3})([0-9]{1,9})"', re.IGNORECASE)
_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})([0-9]{1,9})(?::([A-Z]{1,3})([0-9]{1,9}))?"',
    re.IGNORECASE,
)
_OVERLAP = 64


def column_number(letters: bytes | str) -> int:
    """``A`` → 1, ``Z`` → 26, ``AA`` → 27, ``XFD`` → 16384."""
    number = 0
    for letter in (letters if isinstance(letters, str) else letters.decode("ascii")).upper():
        number = number * 26 + (ord(letter) - ord("A") + 1)
    return number


def check_xlsx(filename: str, data: bytes, limits: ReadLimits) -> None:
    """Check an XLSX archive against `limits` without parsing it as a workbook.

    The zip directory's sizes are checked first (a cheap refusal of an honest
    archive). Then every member is inflated as a stream, never trusting the
    directory: the pass stops as soon as one member passes its compression ratio
    or all of them `max_decompressed_bytes`. Each part the reader may take for a
    worksheet (`sheet_parts`: any path, any case) is scanned on the way for its
    declared dimension and its largest row and column addresses.
    Raises `LimitExceeded`, or `zipfile.BadZipFile` when the archive is corrupt.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        if total > limits.max_decompressed_bytes:
            raise _too_many_bytes(filename, total, limits)
        for member in members:
            if member.file_size <= RATIO_FLOOR_BYTES:
                continue
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise _too_high_ratio(filename, member.filename, ratio, limits)
        try:
            sheets = {m.filename for m in sheet_parts(data, archive)}
        except PartTooLarge as exc:
            raise _too_many_bytes(filename, exc.inflated, limits) from None
        budget = limits.max_decompressed_bytes
        for member in members:
            ratio_cap = max(RATIO_FLOOR_BYTES, limits.max_compression_ratio * member.compress_size)
            extent = _Extent() if member.filename in sheets else None
            inflated = 0
            try:
                for chunk in inflate(data, member, min(budget, ratio_cap)):
                    inflated += len(chunk)
                    if extent is not None:
                        extent.feed(chunk)
            except PartTooLarge as exc:
                if ratio_cap < budget:
                    ratio = exc.inflated / max(member.compress_size, 1)
                    raise _too_high_ratio(
                        filename, member.filename, ratio, limits, at_least=True
                    ) from None
                done = limits.max_decompressed_bytes - budget + exc.inflated
                raise _too_many_bytes(filename, done, limits, at_least=True) from None
            budget -= inflated
            if extent is not None and extent.rows * extent.columns > limits.max_table_cells:
                raise _too_large(
                    f"{filename}: sheet part {quote(member.filename, 80)} spans {extent.rows} "
                    f"rows x {extent.columns} columns",
                    "max_table_cells",
                    f"{limits.max_table_cells} cells",
                )


def _too_large(said: str, limit: str, value: object) -> LimitExceeded:
    """`said` of the archive, then the limit it passes, by name and value."""
    return LimitExceeded(f"{said}; the limit ({limit}) is {value}", code="too_large")


def _too_many_bytes(
    filename: str, inflated: int, limits: ReadLimits, at_least: bool = False
) -> LimitExceeded:
    more = "more than " if at_least else ""
    said = f"{filename} inflates to {more}{inflated} bytes"
    return _too_large(said, "max_decompressed_bytes", limits.max_decompressed_bytes)


def _too_high_ratio(
    filename: str, part: str, ratio: float, limits: ReadLimits, at_least: bool = False
) -> LimitExceeded:
    more = "more than " if at_least else ""
    said = f"{filename}: part {quote(part, 80)} inflates {more}{ratio:.0f} times"
    return _too_large(said, "max_compression_ratio", limits.max_compression_ratio)


class _Extent:
    """The largest row and column a sheet declares or addresses, fed in pieces."""

    def __init__(self) -> None:
        self.rows = self.columns = 0
        self._tail = b""

    def feed(self, block: bytes) -> None:
        chunk = self._tail + block
        self._tail = block[-_OVERLAP:]
        dimension = _DIMENSION.search(chunk)
        if dimension is not None:
            first_col, first_row, last_col, last_row = dimension.groups()
            self.columns = max(self.columns, column_number(last_col or first_col))
            self.rows = max(self.rows, int(last_row or first_row))
        found = _CELL_REF.findall(chunk)
        if found:
            letters = {c for c, _ in found if c}
            if letters:
                self.columns = max(self.columns, max(column_number(c) for c in letters))
            self.rows = max(self.rows, max(int(r) for _, r in found))
