"""Dates in the formats a schema column lists (`Column(..., formats=[...])`).

Each value is read with the first format that fits it, so one column may mix
``31-01-2026`` and ``2026/01/31`` when both formats are listed. Blanks stay null;
a filled value no format reads is reported (``invalid_value``) by the ETL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")


def parse_dates(series: pd.Series, formats: Sequence[str]) -> tuple[pd.Series, np.ndarray]:
    """`series` as ``datetime64`` values, and the mask of filled values no format reads."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series, np.zeros(len(series), dtype=bool)
    if pd.api.types.is_float_dtype(series.dtype):
        # 20260131.0 as read from a spreadsheet: compare as the integer it holds
        integral = series.dropna() % 1 == 0
        if bool(integral.all()):
            series = series.astype("Int64")
    text = series.astype("str").str.strip()
    remaining = series.notna().to_numpy() & (text != "").to_numpy()
    values = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    for fmt in formats:
        if not remaining.any():
            break
        parsed = pd.to_datetime(text[remaining], format=fmt, errors="coerce")
        read = parsed.notna().to_numpy()
        if read.any():
            where = np.flatnonzero(remaining)[read]
            values.iloc[where] = parsed[read].to_numpy().astype("datetime64[us]")
            remaining[where] = False
    return values, remaining
