"""Input files: CSV, JSON and XLSX, from a path or from uploaded bytes.

A file's logical name is its filename stem (``sku_data.csv`` → ``sku_data``);
`read()` gives its tables, name → DataFrame. Unreadable content raises
`FileReadError`, a `ValueError` with a `code` (``empty_file``, ``unreadable_file``,
``ragged_rows``, ``not_tabular``) the ETL turns into a validation message.
"""

from __future__ import annotations

import csv
import io
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, ClassVar, Self

import orjson

from algomancy_data.formulas import formulas_as_text
from algomancy_data.lazy import lazy_module
from algomancy_data.limits import LimitExceeded, ReadLimits, check_xlsx, quote
from algomancy_data.parsepool import shared_pool

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pa_csv
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")
    pa = lazy_module("pyarrow")
    pa_csv = lazy_module("pyarrow.csv")

_SAMPLE_BYTES = 64 * 1024
_DELIMITERS = (",", ";", "\t")


def _arrow_types() -> dict[str, pa.DataType]:
    """The Arrow types read for text columns (built on first use: pyarrow is lazy)."""
    return {"string": pa.string(), "category": pa.dictionary(pa.int32(), pa.string())}


class FileReadError(ValueError):
    """A file's content cannot be read as tables; `code` says why."""

    def __init__(self, message: str, code: str = "unreadable_file") -> None:
        super().__init__(message)
        self.code = code


class File(ABC):
    """An input file: a name and its bytes."""

    extension: ClassVar[str] = ""

    def __init__(self, filename: str, data: bytes, limits: ReadLimits | None = None) -> None:
        filename = PurePath(str(filename).replace("\\", "/")).name
        if not PurePath(filename).stem:
            raise ValueError(f"file name {quote(filename)} has no stem")
        self.filename = filename
        self.data = bytes(data)
        self.limits = limits or ReadLimits()

    @property
    def name(self) -> str:
        """The logical name: the filename stem."""
        return PurePath(self.filename).stem

    @property
    def size(self) -> int:
        """The size in bytes."""
        return len(self.data)

    @classmethod
    def from_path(cls, path: str | Path) -> Self:
        """The file at `path`."""
        path = Path(path)
        return cls(path.name, path.read_bytes())

    @classmethod
    def from_bytes(cls, filename: str, data: bytes, limits: ReadLimits | None = None) -> Self:
        """A file named `filename` holding `data` (an upload), read within `limits`."""
        return cls(filename, data, limits)

    @abstractmethod
    def read(self, column_types: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
        """The tables in the file, name → DataFrame.

        `column_types` maps column names to declared types (``"string"``,
        ``"category"``, ...); where the format allows it, string columns are kept as
        text (``"007"`` stays ``"007"``) and category columns are read as categoricals.
        Raises `FileReadError` when the content is unreadable.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.filename!r}, {self.size} bytes)"


def _check_not_empty(file: File) -> None:
    # strip() of the head only: stripping a large file would copy it
    if not file.data[:_SAMPLE_BYTES].strip() and not file.data.strip():
        raise FileReadError(f"{file.filename} is empty", code="empty_file")


def _string_column_names(frame_columns: pd.Index) -> pd.Index:
    return pd.Index([str(c) for c in frame_columns])


def check_table(file: File, table: str, frame: pd.DataFrame, *, cell_lengths: bool = True) -> None:
    """A table read from `file` is within its rows x columns and cell length limits
    (`cell_lengths` False: the caller knows no cell is too long)."""
    limits = file.limits
    rows, columns = frame.shape
    if rows * columns > limits.max_table_cells:
        raise FileReadError(
            f"{file.filename}: table {quote(table, 80)} has {rows} rows x {columns} columns; "
            f"the limit (max_table_cells) is {limits.max_table_cells} cells",
            code="too_large",
        )
    if not cell_lengths:
        return
    for position, column in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            try:
                lengths = series.str.len()
            except AttributeError:  # an object column without strings
                lengths = series.map(_length)
            longest = lengths.max(skipna=True) if len(lengths) else 0
            if pd.notna(longest) and int(longest) > limits.max_cell_chars:
                raise FileReadError(
                    f"{file.filename}: column {quote(column, 80)} of table {quote(table, 80)} "
                    f"has a cell of {int(longest)} characters; the limit (max_cell_chars) is "
                    f"{limits.max_cell_chars}",
                    code="too_large",
                )


def _length(value: object) -> int:
    return len(value) if isinstance(value, str) else 0


def _checked(
    file: File, tables: dict[str, pd.DataFrame], *, cell_lengths: bool = True
) -> dict[str, pd.DataFrame]:
    for table, frame in tables.items():
        check_table(file, table, frame, cell_lengths=cell_lengths)
    return tables


def _fields_within(data: bytes, delimiter: bytes, most: int) -> bool:
    """True when no run of bytes without a line break or `delimiter` is longer than
    `most` (False: maybe there is one; `_longest_field` tells).

    A run longer than `most` covers at least one whole block of ``most // 2 + 1``
    bytes at a multiple of that size, so it is enough that every such block holds a
    separator: a few hundred memchr-speed searches for a 10 MB file, where finding
    every separator took most of a CSV upload's checks.
    """
    block = most // 2 + 1
    for start in range(0, len(data) - block + 1, block):
        end = start + block
        if data.find(b"\n", start, end) < 0 and data.find(delimiter, start, end) < 0:
            return False
    return True


def _longest_field(data: bytes, delimiter: str) -> int:
    """The longest run of bytes between line breaks and delimiters."""
    raw = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero((raw == ord("\n")) | (raw == ord(delimiter)))
    edges = np.concatenate(([-1], breaks, [len(raw)]))
    return int(np.diff(edges).max()) - 1 if len(edges) > 1 else 0


class CSVFile(File):
    """A delimited text file; delimiter (``,`` ``;`` tab) and encoding are detected."""

    extension = "csv"

    def detect_encoding(self) -> str:
        """``utf-8-sig`` when the bytes are UTF-8 (BOM or not), else cp1252 or latin-1."""
        data = self.data
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise FileReadError(
                f"{self.filename} is UTF-16 encoded; save it as UTF-8 and upload it again"
            )
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut off by the end of the data is still UTF-8;
            # any other undecodable byte (even among the last three) is not.
            if exc.reason != "unexpected end of data":
                try:
                    data.decode("cp1252")
                except UnicodeDecodeError:
                    return "latin-1"
                return "cp1252"
        return "utf-8-sig"

    def detect_delimiter(self, text_sample: str) -> str:
        """The candidate giving the most columns, consistently, over the first rows."""
        lines = text_sample.splitlines()
        if len(text_sample) >= _SAMPLE_BYTES and len(lines) > 1:
            lines = lines[:-1]  # the last line may be cut
        lines = [line for line in lines[:50] if line.strip()]
        best, best_score = ",", (0.0, 0)
        for delimiter in _DELIMITERS:
            counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
            if not counts or max(counts) < 2:
                continue
            mode = max(set(counts), key=counts.count)
            score = (counts.count(mode) / len(counts), mode)
            if score > best_score:
                best, best_score = delimiter, score
        return best

    def read(self, column_types: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
        """One table named after the file's logical name.

        Arrow's multi-threaded reader does the work; when it refuses the file (a value
        that breaks a column's inferred type, a quoted line break, ragged rows) the
        pandas C parser reads it instead and the ETL reports the bad values.
        """
        _check_not_empty(self)
        if b"\x00" in self.data[:_SAMPLE_BYTES]:
            raise FileReadError(f"{self.filename} looks like a binary file, not CSV text")
        head = CSVFile(self.filename, self.data[:_SAMPLE_BYTES])
        encoding = head.detect_encoding()
        sample = head.data.decode(encoding, errors="ignore")
        delimiter = self.detect_delimiter(sample)
        self._check_extent(delimiter)
        column_types = column_types or {}
        try:
            # Arrow checks the whole file is valid UTF-8 while it reads
            frame = self._read_arrow(delimiter, encoding, column_types)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            frame = self._read_pandas(delimiter, self.detect_encoding(), column_types)
        frame.columns = _string_column_names(frame.columns)
        # Without quotes every cell is one field, and a character is at least a byte:
        # when no field has more bytes than a cell may have characters, no cell is too
        # long, and measuring every text cell again (a fifth of the read) is skipped.
        short = b'"' not in self.data and _fields_within(
            self.data, delimiter.encode(), self.limits.max_cell_chars
        )
        return _checked(self, {self.name: frame}, cell_lengths=not short)

    def _check_extent(self, delimiter: str) -> None:
        """Rows x columns and the longest field, bounded from the raw bytes before a
        parser allocates for them (a quoted field counts as its pieces; the table
        check after reading catches what this misses)."""
        limits = self.limits
        # a character takes at most 4 bytes in UTF-8
        if not _fields_within(self.data, delimiter.encode(), 4 * limits.max_cell_chars):
            longest = _longest_field(self.data, delimiter)
            if longest > 4 * limits.max_cell_chars:
                raise FileReadError(
                    f"{self.filename} has a field of {longest} bytes; the limit "
                    f"(max_cell_chars) is {limits.max_cell_chars} characters",
                    code="too_large",
                )
        first_line = self.data[: self.data.find(b"\n") if b"\n" in self.data else len(self.data)]
        columns = first_line.count(delimiter.encode()) + 1
        rows = int(np.count_nonzero(np.frombuffer(self.data, dtype=np.uint8) == ord("\n")))
        if rows * columns > limits.max_table_cells:
            raise FileReadError(
                f"{self.filename} has about {rows} rows x {columns} columns; the limit "
                f"(max_table_cells) is {limits.max_table_cells} cells",
                code="too_large",
            )

    def _read_arrow(
        self, delimiter: str, encoding: str, column_types: Mapping[str, str]
    ) -> pd.DataFrame:
        arrow = _arrow_types()
        arrow_types = {name: arrow[kind] for name, kind in column_types.items() if kind in arrow}
        table = pa_csv.read_csv(
            pa.py_buffer(self.data),
            read_options=pa_csv.ReadOptions(
                encoding="utf8" if encoding == "utf-8-sig" else encoding
            ),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=pa_csv.ConvertOptions(
                column_types=arrow_types,
                strings_can_be_null=True,
            ),
        )
        return table.to_pandas(date_as_object=False, split_blocks=True)

    def _read_pandas(
        self, delimiter: str, encoding: str, column_types: Mapping[str, str]
    ) -> pd.DataFrame:
        text_columns = {name: "str" for name, kind in column_types.items() if kind == "string"}
        if b'"' not in self.data:
            self._check_field_counts(delimiter)
        try:
            return pd.read_csv(
                io.BytesIO(self.data),
                sep=delimiter,
                encoding=encoding,
                engine="c",
                low_memory=False,
                dtype=text_columns or None,
            )
        except pd.errors.EmptyDataError:
            raise FileReadError(f"{self.filename} has no header row", code="empty_file") from None
        except pd.errors.ParserError as exc:
            raise FileReadError(
                f"{self.filename}: rows have different numbers of fields ({quote(str(exc))})",
                code="ragged_rows",
            ) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise FileReadError(
                f"{self.filename} cannot be read as CSV: {quote(str(exc))}"
            ) from None

    def _check_field_counts(self, delimiter: str) -> None:
        """Every non-blank line has the header's field count (only for unquoted files)."""
        raw = np.frombuffer(self.data, dtype=np.uint8)
        newlines = np.flatnonzero(raw == ord("\n"))
        ends = np.append(newlines, len(raw)) if len(raw) and raw[-1] != ord("\n") else newlines
        starts = np.concatenate(([0], ends[:-1] + 1))
        cumulative = np.concatenate(([0], np.cumsum(raw == ord(delimiter))))
        fields = cumulative[ends] - cumulative[starts] + 1
        lengths = ends - starts
        # a line holding only "\r" (or nothing) is blank: pandas skips it
        blank = (lengths == 0) | ((lengths == 1) & (raw[np.maximum(ends - 1, 0)] == ord("\r")))
        fields, line_numbers = fields[~blank], np.flatnonzero(~blank) + 1
        if len(fields) < 2:
            return
        bad = np.flatnonzero(fields[1:] != fields[0]) + 1
        if len(bad):
            first = int(bad[0])
            raise FileReadError(
                f"{self.filename}: line {int(line_numbers[first])} has {int(fields[first])} "
                f"fields, the header has {int(fields[0])} ({len(bad)} such lines)",
                code="ragged_rows",
            )


class JSONFile(File):
    """A JSON file of records.

    A list of records is one table named after the file; an object whose values are
    lists of records is one table per key; an object of equal-length arrays is one
    table of those columns. Nested records are flattened (``a.b`` columns).
    """

    extension = "json"

    def read(self, column_types: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
        """The tables in the document."""
        _check_not_empty(self)
        try:
            document = orjson.loads(self.data)
        except orjson.JSONDecodeError as exc:
            raise FileReadError(f"{self.filename} is not valid JSON: {quote(str(exc))}") from None
        if isinstance(document, list):
            return _checked(self, {self.name: self._records(document, self.name)})
        if isinstance(document, dict) and document:
            values = list(document.values())
            if all(isinstance(v, list) and all(isinstance(r, dict) for r in v) for v in values):
                return _checked(
                    self,
                    {str(key): self._records(rows, str(key)) for key, rows in document.items()},
                )
            if all(isinstance(v, list) for v in values) and len({len(v) for v in values}) == 1:
                self._check_records(len(values[0]), len(values), self.name)
                frame = pd.DataFrame({str(key): value for key, value in document.items()})
                return _checked(self, {self.name: frame})
        raise FileReadError(
            f"{self.filename} is not tabular: expected a list of records, an object of "
            "lists of records, or an object of equal-length columns",
            code="not_tabular",
        )

    def _records(self, rows: list[Any], table: str) -> pd.DataFrame:
        if not all(isinstance(row, dict) for row in rows):
            raise FileReadError(
                f"{self.filename}: table {table!r} must be a list of objects (records)",
                code="not_tabular",
            )
        self._check_records(len(rows), len(rows[0]) if rows else 0, table)
        frame = pd.json_normalize(rows) if rows else pd.DataFrame()
        frame.columns = _string_column_names(frame.columns)
        return frame

    def _check_records(self, rows: int, columns: int, table: str) -> None:
        # before pandas builds the table: the parsed document is already in memory,
        # the frame would take as much again
        if rows * max(columns, 1) > self.limits.max_table_cells:
            raise FileReadError(
                f"{self.filename}: table {quote(table, 80)} has {rows} records of "
                f"{columns} fields; the limit (max_table_cells) is "
                f"{self.limits.max_table_cells} cells",
                code="too_large",
            )


class XLSXFile(File):
    """An Excel workbook; every sheet is a table named after the sheet.

    The workbook is parsed in a child process of the shared `ParsePool`, within
    `limits.xlsx_parse_memory_bytes` and `limits.xlsx_parse_seconds`."""

    extension = "xlsx"

    def read(self, column_types: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
        """Every sheet, sheet name → DataFrame (read with the calamine engine); a
        formula cell is its formula's text (`=SUM(A1:A3)`), never a computed value."""
        _check_not_empty(self)
        if not self.data.startswith(b"PK\x03\x04"):
            raise FileReadError(f"{self.filename} is not an XLSX workbook (not a zip archive)")
        limits = self.limits
        try:
            outcome = shared_pool().run(
                read_workbook,
                (self.filename, self.data, limits),
                memory_bytes=limits.xlsx_parse_memory_bytes,
                seconds=limits.xlsx_parse_seconds,
            )
        except LimitExceeded as exc:
            raise FileReadError(f"{self.filename}: {exc}", code=exc.code) from None
        except RuntimeError as exc:
            raise FileReadError(
                f"{self.filename} cannot be read as XLSX: {quote(str(exc))}"
            ) from None
        if outcome[0] == "error":
            raise FileReadError(outcome[1], code=outcome[2])
        tables: dict[str, pd.DataFrame] = outcome[1]
        return tables

    def read_here(self) -> dict[str, pd.DataFrame]:
        """Check, rewrite the formulas of and read the workbook in this process."""
        try:
            check_xlsx(self.filename, self.data, self.limits)
            # Within the limits checked: formulas are read as their text.
            workbook = formulas_as_text(self.data, self.limits)
        except LimitExceeded as exc:
            message = str(exc)
            if not message.startswith(self.filename):
                message = f"{self.filename}: {message}"
            raise FileReadError(message, code=exc.code) from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
            raise FileReadError(
                f"{self.filename} is not a valid XLSX workbook: {quote(str(exc))}"
            ) from None
        try:
            sheets = pd.read_excel(io.BytesIO(workbook), sheet_name=None, engine="calamine")
        except Exception as exc:  # calamine raises its own error types for corrupt files
            raise FileReadError(
                f"{self.filename} cannot be read as XLSX: {quote(str(exc))}"
            ) from None
        for frame in sheets.values():
            frame.columns = _string_column_names(frame.columns)
        return _checked(self, {str(name): frame for name, frame in sheets.items()})


def read_workbook(
    filename: str, data: bytes, limits: ReadLimits
) -> tuple[str, Any] | tuple[str, str, str]:
    """What `XLSXFile.read` runs in a parser process: ``("tables", {sheet: frame})``
    or ``("error", message, code)``."""
    file = XLSXFile(filename, data, limits)
    try:
        return ("tables", file.read_here())
    except FileReadError as exc:
        return ("error", str(exc), exc.code)


#: The built-in file types by extension: the one list of built-in extensions
#: (`algomancy_data.extractors.extensions()` adds the registered ones).
FILE_TYPES: dict[str, type[File]] = {t.extension: t for t in (CSVFile, JSONFile, XLSXFile)}


def file_from_bytes(filename: str, data: bytes, limits: ReadLimits | None = None) -> File:
    """The `File` subclass for `filename`'s extension, read within `limits` (safe
    defaults when None); `ValueError` for other extensions."""
    extension = PurePath(str(filename)).suffix.lower().lstrip(".")
    file_type = FILE_TYPES.get(extension)
    if file_type is None:
        known = ", ".join(f".{e}" for e in FILE_TYPES)
        raise ValueError(f"unsupported file type {quote(filename)} (supported: {known})")
    return file_type.from_bytes(filename, data, limits)
