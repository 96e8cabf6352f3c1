"""ETL messages that name a table, a column and the first rows concerned."""

from __future__ import annotations

from typing import TYPE_CHECKING

from algomancy_data.lazy import lazy_module
from algomancy_data.validation import Severity, ValidationMessage

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

#: How many offending rows a message names.
SHOWN_ROWS = 5


def rows_message(
    severity: Severity,
    text: str,
    code: str,
    table: str,
    column: str | None,
    mask: np.ndarray,
    values: pd.Series | None = None,
    index: pd.Index | None = None,
) -> ValidationMessage:
    """A message for the rows `mask` marks: ``{text}; rows 3 ('x'), 7 ('y'), …``.

    Rows are 1-based data rows (the header is not counted); `values` adds each row's
    value. `text` may hold ``{count}``, the number of rows marked. With `index` (the
    frame's integer index, when rows were dropped since the file was read) rows are
    numbered by it, so they still point into the file.
    """
    positions = np.flatnonzero(mask)
    shown = positions[:SHOWN_ROWS]
    labels = shown if index is None else index[shown]
    rows = [int(p) + 1 for p in labels]
    if values is not None:
        samples = values.iloc[shown].tolist()
        detail = ", ".join(f"{r} ({v!r})" for r, v in zip(rows, samples, strict=True))
    else:
        detail = ", ".join(str(r) for r in rows)
    more = "" if len(positions) <= SHOWN_ROWS else ", …"
    message = text.format(count=len(positions)) + f"; rows {detail}{more}"
    return ValidationMessage(severity, message, table, column, rows[0] if rows else None, code)


def row_index(frame: pd.DataFrame) -> pd.Index | None:
    """The frame's index when it numbers the file's rows from 0 (an integer index, as
    the ETL's tables have, kept when rows are dropped), else None (rows by position)."""
    index = frame.index
    return index if pd.api.types.is_integer_dtype(index.dtype) else None
