"""An experiment's frame (`GET …/experiments/{id}/frame`) as JSON bytes, built from
its rows without pandas when every column is of one plain kind, with pandas
(`frames.frame_json_bytes`) otherwise; the same bytes either way.

A page's cost was a quarter pandas (a DataFrame, a slice of it, a type inference
and a null check per column) for a hundred rows. A column whose values are all
one Python type (int, float, str or bool; floats and strings may be null) has one
field type and native type whatever its values, so those are read once from
pandas (`_described`) and the values written as they are. KPI columns are
numbers (`float64`) as `pandas.to_numeric(errors="coerce")` makes them. Anything
else (an empty page, a column mixing types, dates as objects, an integer column
with nulls) goes through pandas. See `benchmarks/bench_experiments.py`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from algomancy_api.frames import TabularFrameSourceResponse, frame_json_bytes
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: Python types a column may hold all of to be built without pandas.
_PLAIN = (int, float, str, bool)
#: Integers past this go through pandas (int64, or floats that would round).
_INT_BOUND = 2**53


def _kind(values: Sequence[Any]) -> tuple[type, bool] | None:
    """The one Python type of a column and whether it has nulls; None when pandas
    must decide (mixed, all null, an integer or boolean column with nulls). By
    whole-column built-ins (`map`, `min`), not a loop in Python over the values."""
    kinds = set(map(type, values))
    nulls = _NONE in kinds
    kinds.discard(_NONE)
    if len(kinds) != 1:
        return None
    (found,) = kinds
    if found not in _PLAIN or (nulls and found in (int, bool)):
        return None
    if found is int and (min(values) <= -_INT_BOUND or max(values) >= _INT_BOUND):
        return None
    if found is float and not nulls:
        nulls = not all(map(math.isfinite, values))
    return found, nulls


_NONE = type(None)


#: A sample column of each plain kind, with a null where it has one.
_SAMPLES: dict[type, list[Any]] = {int: [1, 2], float: [0.5, 1.5], str: ["a", "b"], bool: [True]}


@functools.cache
def _described(kind: type, nulls: bool) -> tuple[str, str]:
    """The field type and native type pandas gives a column of `kind`."""
    sample = _SAMPLES[kind] + ([None] if nulls else [])
    frame = orjson.loads(frame_json_bytes(pd.DataFrame({"c": sample})))
    field = frame["fields"][0]
    return str(field["type"]), str(field["nativeType"])


def _number(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _plain(
    columns: list[str], kpis: list[str], rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[list[Any]]] | None:
    """Each column's field and values, or None when one needs pandas."""
    fields: list[dict[str, Any]] = []
    values: list[list[Any]] = []
    numeric = set(kpis)
    for name in columns:
        column = [row[name] for row in rows]
        if name in numeric:
            if any(type(v) not in (int, float) for v in column if v is not None):
                return None
            if any(type(v) is int and not -_INT_BOUND < v < _INT_BOUND for v in column):
                return None
            converted = [_number(v) for v in column]
            kind, native, nulls = "number", "float64", None in converted
        else:
            found = _kind(column)
            if found is None:
                return None
            kind, native = _described(*found)
            nulls = found[1]
            converted = [_number(v) for v in column] if found[0] is float else column
        fields.append(
            {
                "key": name,
                "label": name,
                "type": kind,
                "nullable": nulls,
                "nativeType": native,
                "provenance": "backend",
            }
        )
        values.append(converted)
    return fields, values


def frame_bytes(
    columns: list[str],
    kpis: list[str],
    rows: list[dict[str, Any]],
    source: TabularFrameSourceResponse,
) -> bytes:
    """The frame of `rows` (dicts by column; `kpis` are numeric columns)."""
    plain = rows and len(set(columns)) == len(columns) and all(name.strip() for name in columns)
    built = _plain(columns, kpis, rows) if plain else None
    if built is None:
        return pandas_frame_bytes(columns, kpis, rows, source)
    fields, values = built
    frame = {
        "status": "ready",
        "columns": columns,
        "rows": [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)],
        "fields": fields,
        "source": source.to_json_dict(),
    }
    return orjson.dumps(frame)


def pandas_frame_bytes(
    columns: list[str],
    kpis: list[str],
    rows: list[dict[str, Any]],
    source: TabularFrameSourceResponse,
) -> bytes:
    """The same frame through a DataFrame (what the route answered before)."""
    df = pd.DataFrame(rows, columns=columns)
    for kpi in kpis:
        df[kpi] = pd.to_numeric(df[kpi], errors="coerce").astype("float64")
    return frame_json_bytes(df, source=source)
