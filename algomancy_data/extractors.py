"""Extractors per file extension: the built-in CSV, JSON and XLSX readers, and yours.

::

    import io
    import pandas as pd
    from algomancy_data.extractors import register_extractor

    def read_parquet(data: bytes, column_types: dict[str, str]) -> pd.DataFrame:
        return pd.read_parquet(io.BytesIO(data))

    register_extractor("parquet", read_parquet)

A reader takes the file's bytes and the declared column types (name → type, a hint
it may ignore) and returns a frame (one table, named after the file) or a dict of
tables (one per sheet). Register at import time of your configuration's module: the
extension is then accepted by `Schema(extension=...)`, by uploads and by the ETL. A
reader that raises fails the upload with a ``critical`` ETL message (code
``unreadable_file``); its tables are held to the same size limits as the built-in ones.
A `File` subclass may be registered instead of a function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, ClassVar

from algomancy_data.files import FILE_TYPES, File, FileReadError, check_table, file_from_bytes
from algomancy_data.lazy import lazy_module
from algomancy_data.limits import ReadLimits

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

Reader = Callable[[bytes, dict[str, str]], "pd.DataFrame | Mapping[str, pd.DataFrame]"]

_EXTENSION = re.compile(r"^[a-z0-9][a-z0-9_-]{0,15}$")
_REGISTERED: dict[str, type[File]] = {}


class _ReaderFile(File):
    """A file read by a registered function."""

    reader: ClassVar[Reader]

    def read(self, column_types: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
        if not self.data.strip():
            raise FileReadError(f"{self.filename} is empty", code="empty_file")
        try:
            found = type(self).reader(self.data, dict(column_types or {}))
        except FileReadError:
            raise
        except Exception as exc:
            raise FileReadError(f"{self.filename} cannot be read: {exc}") from exc
        if isinstance(found, pd.DataFrame):
            found = {self.name: found}
        if not isinstance(found, Mapping) or not all(
            isinstance(frame, pd.DataFrame) for frame in found.values()
        ):
            raise FileReadError(
                f"{self.filename}: the .{self.extension} reader returned neither a DataFrame "
                "nor a dict of them"
            )
        tables = {str(name): frame for name, frame in found.items()}
        for name, frame in tables.items():
            frame.columns = pd.Index([str(c) for c in frame.columns])
            check_table(self, name, frame)
        return tables


def register_extractor(
    extension: str, reader: Reader | type[File], *, replace: bool = False
) -> type[File]:
    """Read files ending in ``.{extension}`` with `reader`; the `File` class used.

    `replace=True` is needed to take over an extension that has a reader already
    (the built-in ``csv``, ``json`` and ``xlsx`` included).
    """
    ext = str(extension).lower().lstrip(".")
    if not _EXTENSION.match(ext):
        raise ValueError(f"extension {extension!r}: use letters, digits, '-' or '_' (at most 16)")
    if ext in extensions() and not replace:
        raise ValueError(f"the extension .{ext} has a reader already (pass replace=True)")
    if isinstance(reader, type):
        if not issubclass(reader, File):
            raise TypeError("reader: a function or a File subclass")
        file_type: type[File] = type(f"{ext.upper()}File", (reader,), {"extension": ext})
    elif callable(reader):
        file_type = type(
            f"{ext.upper()}File", (_ReaderFile,), {"extension": ext, "reader": staticmethod(reader)}
        )
    else:
        raise TypeError("reader: a function or a File subclass")
    _REGISTERED[ext] = file_type
    return file_type


def unregister_extractor(extension: str) -> None:
    """Forget a registered reader (the built-in one, if any, applies again)."""
    _REGISTERED.pop(str(extension).lower().lstrip("."), None)


def extensions() -> tuple[str, ...]:
    """Every extension a file can have: the built-in ones and the registered ones."""
    return tuple(dict.fromkeys([*FILE_TYPES, *_REGISTERED]))


def file_for(filename: str, data: bytes, limits: ReadLimits | None = None) -> File:
    """The `File` for `filename`, by its extension; `ValueError` for unknown ones."""
    extension = PurePath(str(filename)).suffix.lower().lstrip(".")
    file_type = _REGISTERED.get(extension)
    if file_type is None:
        if extension in FILE_TYPES:
            return file_from_bytes(filename, data, limits)
        known = ", ".join(f".{e}" for e in extensions())
        raise ValueError(f"unsupported file type {filename!r} (supported: {known})")
    return file_type(filename, data, limits)
