"""The JSON and Arrow formats of a `DataSource`.

JSON format, version 1 (``"format": "algomancy.datasource"``)
=============================================================

An object-rooted document::

    {
      "format": "algomancy.datasource",
      "version": 1,
      "name": "warehouse",
      "classification": "master_data",          # or "derived_data"
      "id": "5f0c...",
      "created_at": "2024-05-01T12:00:00+00:00", # ISO 8601
      "data_parameters": {...},                  # any JSON object, default {}
      "extra": {...},                            # subclass state, optional
      "tables": {
        "sku": {
          "columns": ["sku", "weight_kg", "family"],
          "dtypes":  ["str", "float64", {"name": "category", ...}],
          "data":    {"sku": ["A", "B"], "weight_kg": [1.5, null], "family": [...]},
          "index":   {"name": null, "dtype": "int64", "data": [...]}   # optional
        }
      }
    }

Tables are columnar: ``data`` maps each column name to the list of its values, in the
order of ``columns``. Missing values (NaN, NaT, None, pd.NA) are ``null``.
``index`` is present only when the index is not the default ``0..n-1`` range.

``dtypes`` holds one entry per column, a pandas dtype name:

==========================  ==========================================================
dtype                       values
==========================  ==========================================================
``int8`` … ``uint64``       JSON integers
``Int8`` … ``UInt64``       JSON integers or ``null`` (pandas nullable integers)
``float32``, ``float64``    JSON numbers, ``null`` for NaN, ``"Infinity"``,
                            ``"-Infinity"`` for infinities
``Float32``, ``Float64``    as float, ``null`` for pd.NA
``bool``                    ``true`` / ``false``
``boolean``                 ``true`` / ``false`` / ``null``
``str``                     strings or ``null`` (pandas 3 default string dtype;
                            ``str[python]`` for the python storage)
``string[python]``,         strings or ``null`` (pandas ``StringDtype`` with pd.NA)
``string[pyarrow]``
``object``                  any JSON value (an object column of Python strings
                            round-trips exactly)
``datetime64[<unit>]``      ISO 8601 strings without offset, ``null`` for NaT
``datetime64[<unit>, tz]``  ISO 8601 strings of the UTC instant ending in ``Z``;
                            the column is converted back to ``tz``
``timedelta64[<unit>]``     integers counting ``<unit>``
==========================  ==========================================================

A categorical column has an object entry::

    {"name": "category", "ordered": false,
     "categories": {"dtype": "str", "data": ["b", "a"]}}

and its ``data`` holds the labels, encoded like the categories (``null`` for missing).
The categories keep their order.

Array-rooted payloads
---------------------

``DataSource.from_json`` also accepts a JSON array of table objects, each with a
``name`` besides ``columns``, ``dtypes`` and ``data``::

    [{"name": "sku", "columns": [...], "dtypes": [...], "data": {...}}, ...]

Such a payload carries no dataset metadata: the name is the ``name`` argument of
``from_json`` (default ``""``), the classification ``master_data``, and a new id and
creation time are made. ``dtypes`` may be left out there; each column's type is then
inferred by pandas from its values.

Arrow format
------------

``DataSource.to_arrow_bytes`` writes a small container: the 8 magic bytes
``ALGODS1\\n``, a 4-byte big-endian length, a JSON header (the metadata above plus,
per table, its byte length and dtypes), then one Arrow IPC stream per table in
header order. Arrow keeps the pandas dtypes through its pandas metadata; the header
dtypes restore the few it does not (object columns).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from algomancy_data.lazy import lazy_module
from algomancy_data.limits import quote

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")
    pa = lazy_module("pyarrow")

FORMAT_NAME = "algomancy.datasource"
FORMAT_VERSION = 1
ARROW_MAGIC = b"ALGODS1\n"

_ORJSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


# --- encoding ---------------------------------------------------------------------------


def dtype_to_json(dtype: Any) -> str | dict[str, Any]:
    """The JSON descriptor of a pandas dtype."""
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        return {
            "name": "category",
            "ordered": bool(dtype.ordered),
            "categories": {
                "dtype": dtype_to_json(categories.dtype),
                "data": encode_values(pd.Series(categories), categories.dtype),
            },
        }
    if isinstance(dtype, pd.StringDtype):
        if dtype.na_value is pd.NA:
            return f"string[{dtype.storage}]"
        return "str" if dtype.storage == "pyarrow" else "str[python]"
    return str(dtype)


def encode_values(series: pd.Series, dtype: Any) -> Any:
    """The JSON-able values of `series` (a list, or a numpy array orjson writes)."""
    kind = getattr(dtype, "kind", "O")
    if isinstance(dtype, pd.CategoricalDtype):
        labels = encode_values(pd.Series(dtype.categories), dtype.categories.dtype)
        lookup = np.empty(len(labels) + 1, dtype=object)
        lookup[: len(labels)] = labels
        lookup[-1] = None
        return lookup[series.cat.codes.to_numpy()].tolist()
    if isinstance(dtype, pd.DatetimeTZDtype):
        naive = series.dt.tz_convert("UTC").dt.tz_localize(None)
        strings = _datetime_strings(naive.to_numpy(), dtype.unit)
        return [None if v is None else v + "Z" for v in strings]
    if isinstance(dtype, np.dtype):
        values: np.ndarray = series.to_numpy()
        if kind in "iub":
            return values
        if kind == "f":
            if np.isinf(values).any():
                return [_float_to_json(v) for v in values.tolist()]
            return values
        if kind == "M":
            unit = np.datetime_data(dtype)[0]
            if (
                unit in _ORJSON_EXACT_UNITS
                and not np.isnat(values).any()
                and (not len(values) or values.max() <= np.datetime64(_ORJSON_LATEST))
            ):
                # orjson writes these units as exact ISO 8601 strings itself, in C.
                return values
            return _datetime_strings(values, unit)
        if kind == "m":
            ints = values.view("int64").astype(object)
            ints[np.isnat(values)] = None
            return ints.tolist()
        # object: missing scalars become null, everything else as is
        out = values.copy()
        out[pd.isna(series).to_numpy()] = None
        return out.tolist()
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and kind == "f":
        floats = object_values(series)
        return [v if v is None else _float_to_json(v) for v in floats.tolist()]
    # nullable ints, booleans and strings
    return object_values(series).tolist()


def object_values(series: pd.Series) -> np.ndarray:
    """The values as an object array with every missing value (NaN, NaT, pd.NA) as
    None; tabular frames (`algomancy_api.frames`) read columns through it too."""
    return series.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]


def _float_to_json(value: float) -> float | str | None:
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


#: datetime64 units orjson writes without losing precision (it stops at microseconds,
#: and writes NaT as a date, so only NaT-free columns go to it).
_ORJSON_EXACT_UNITS = ("s", "ms", "us")
#: The latest time orjson writes (it refuses the last hours of year 9999).
_ORJSON_LATEST = "9999-12-30T22:00:00"


def _datetime_strings(values: np.ndarray, unit: str) -> list[str | None]:
    # Straight from the fixed-width string array to a list: no object array between.
    strings: list[str | None] = np.datetime_as_string(values, unit=unit).tolist()  # type: ignore[call-overload]
    for position in np.flatnonzero(np.isnat(values)).tolist():
        strings[position] = None
    return strings


def frame_to_json(frame: pd.DataFrame) -> dict[str, Any]:
    """The columnar JSON object of one table."""
    columns = list(frame.columns)
    if isinstance(frame.columns, pd.MultiIndex) or isinstance(frame.index, pd.MultiIndex):
        raise ValueError("tables with a MultiIndex cannot be written as JSON")
    if not all(isinstance(c, str) for c in columns):
        raise ValueError(f"column names must be strings to be written as JSON: {columns!r}")
    if len(set(columns)) != len(columns):
        raise ValueError(f"column names must be unique to be written as JSON: {columns!r}")
    table: dict[str, Any] = {
        "columns": columns,
        "dtypes": [dtype_to_json(frame[c].dtype) for c in columns],
        "data": {c: encode_values(frame[c], frame[c].dtype) for c in columns},
    }
    index = frame.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        table["index"] = {
            "name": index.name,
            "dtype": dtype_to_json(index.dtype),
            "data": encode_values(pd.Series(index), index.dtype),
        }
    return table


def dumps(document: Any) -> bytes:
    """`document` as JSON bytes (orjson, numpy arrays written natively)."""
    return orjson.dumps(document, option=_ORJSON_OPTIONS)


# --- decoding ---------------------------------------------------------------------------


class ValueProblem(ValueError):
    """A value or dtype of a JSON table this module refuses, in its own words."""


def dtype_from_json(spec: Any) -> Any:
    """The pandas dtype a JSON dtype descriptor names."""
    if isinstance(spec, dict):
        if spec.get("name") != "category":
            raise ValueProblem(f"unknown dtype descriptor {quote(spec)}")
        categories = spec.get("categories")
        if not isinstance(categories, dict) or "data" not in categories:
            raise ValueProblem("a category dtype needs 'categories': {'dtype', 'data'}")
        values = decode_values(categories.get("dtype"), _as_list(categories["data"]))
        return pd.CategoricalDtype(pd.Index(values), ordered=bool(spec.get("ordered", False)))
    if not isinstance(spec, str):
        raise ValueProblem(f"a dtype must be a string or a category object, not {quote(spec)}")
    if spec == "str":
        return pd.StringDtype(na_value=np.nan)
    if spec == "str[python]":
        return pd.StringDtype("python", na_value=np.nan)
    try:
        return pd.api.types.pandas_dtype(spec)
    except (TypeError, ValueError) as exc:
        raise ValueProblem(f"unknown dtype {quote(spec)}") from exc


def decode_values(spec: Any, values: list[Any]) -> pd.Series:
    """A series of the dtype `spec` from its JSON values."""
    if spec is None:
        return pd.Series(values)
    dtype = dtype_from_json(spec)
    if isinstance(dtype, pd.CategoricalDtype):
        encoded = _as_list(spec["categories"]["data"])
        codes = pd.Index(encoded, dtype=object).get_indexer(pd.Index(values, dtype=object))
        unknown = (codes == -1) & ~pd.isna(pd.Series(values, dtype=object)).to_numpy()
        if unknown.any():
            bad = values[int(np.argmax(unknown))]
            raise ValueProblem(f"value {quote(bad)} is not one of the categories")
        return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype))
    if isinstance(dtype, pd.DatetimeTZDtype):
        parsed = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601", utc=True)
        return parsed.dt.tz_convert(dtype.tz).astype(dtype)
    if isinstance(dtype, np.dtype):
        if dtype.kind == "M":
            parsed = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601")
            return parsed.astype(dtype)
        if dtype.kind == "m":
            ticks = pd.array(values, dtype="Int64").to_numpy(
                dtype="int64", na_value=np.iinfo("int64").min
            )
            return pd.Series(ticks.view(dtype))
        if dtype.kind == "f":
            return pd.Series(np.array([_float_from_json(v) for v in values], dtype=dtype))
        if dtype.kind in "iub":
            if any(v is None for v in values):
                raise ValueProblem(f"null in a column of dtype {dtype} (use the nullable dtype)")
            return pd.Series(np.array(values, dtype=dtype))
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return pd.Series(out, dtype=object)
    if getattr(dtype, "kind", "") == "f":
        values = [v if v is None else _float_from_json(v) for v in values]
    return pd.Series(pd.array(values, dtype=dtype))


def _reason(exc: BaseException, spec: Any) -> str:
    """Why values could not be decoded: our own message (`ValueProblem`), or, for
    what pandas, NumPy or Python raised (whose text may quote the whole input), a
    message of ours."""
    if isinstance(exc, ValueProblem):
        return str(exc)
    if isinstance(exc, OverflowError):
        return f"a value is out of range for dtype {quote(spec)}"
    return f"a value cannot be read as dtype {quote(spec)}"


def _float_from_json(value: Any) -> float:
    if value is None:
        return math.nan
    if value == "Infinity":
        return math.inf
    if value == "-Infinity":
        return -math.inf
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueProblem(f"{quote(value)} is not a number")
    return float(value)


def _as_list(values: Any) -> list[Any]:
    if not isinstance(values, list):
        raise ValueProblem(f"expected a JSON array of values, got {type(values).__name__}")
    return values


def frame_from_json(table: Any, table_name: str) -> pd.DataFrame:
    """The table a columnar JSON object describes; `ValueError` when it is malformed."""
    if not isinstance(table, Mapping):
        raise ValueError(f"table {table_name!r} must be a JSON object")
    columns = table.get("columns")
    data = table.get("data")
    if not isinstance(data, Mapping):
        raise ValueError(f"table {table_name!r} needs 'data': an object of column arrays")
    if columns is None:
        columns = list(data)
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise ValueError(f"table {table_name!r}: 'columns' must be an array of strings")
    dtypes = table.get("dtypes")
    if dtypes is None:
        dtypes = [None] * len(columns)
    if not isinstance(dtypes, list) or len(dtypes) != len(columns):
        raise ValueError(f"table {table_name!r}: 'dtypes' must have one entry per column")
    series: dict[str, pd.Series] = {}
    length: int | None = None
    for column, spec in zip(columns, dtypes, strict=True):
        if column not in data:
            raise ValueError(f"table {table_name!r}: no data for column {column!r}")
        values = data[column]
        if not isinstance(values, list):
            raise ValueError(f"table {table_name!r} column {column!r}: data must be an array")
        if length is not None and len(values) != length:
            raise ValueError(
                f"table {table_name!r} column {column!r}: {len(values)} values, expected {length}"
            )
        length = len(values)
        try:
            series[column] = decode_values(spec, values)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(
                f"table {table_name!r} column {column!r}: {_reason(exc, spec)}"
            ) from None
    frame = pd.DataFrame(series, columns=columns) if columns else pd.DataFrame()
    index = table.get("index")
    if index is not None:
        if not isinstance(index, Mapping):
            raise ValueError(f"table {table_name!r}: 'index' must be an object")
        try:
            values = decode_values(index.get("dtype"), _as_list(index.get("data")))
        except (TypeError, ValueError, OverflowError) as exc:
            reason = _reason(exc, index.get("dtype"))
            raise ValueError(f"table {table_name!r} index: {reason}") from None
        if len(values) != len(frame):
            raise ValueError(f"table {table_name!r}: the index length differs from the data")
        index_name = index.get("name")
        if index_name is not None and not isinstance(index_name, str):
            raise ValueError(f"table {table_name!r}: the index 'name' must be a string or null")
        frame.index = pd.Index(values, name=index_name)
    return frame


def loads(payload: str | bytes | bytearray | memoryview) -> Any:
    """Parse JSON; `ValueError` with the parser's reason when it is not JSON."""
    if isinstance(payload, memoryview):
        payload = bytes(payload)
    if not isinstance(payload, str | bytes | bytearray):
        raise ValueError(f"a JSON payload must be str or bytes, not {type(payload).__name__}")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ValueError(
            f"the payload is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None


# --- Arrow ------------------------------------------------------------------------------


def frame_to_arrow(frame: pd.DataFrame) -> pa.Buffer:
    """One table as an Arrow IPC stream, in Arrow's memory (`pack_arrow` copies it
    once into the payload).

    Written to a `pyarrow.BufferOutputStream` rather than a `io.BytesIO`, whose
    growth copied the stream on the way: `DataSource.to_arrow_bytes` of the
    100,000-row ETL result of ``python -m benchmarks.etl_csv``, each on a dataset
    just read (fresh memory, as in the ETL child), went from 12.1-12.7 to 7.8-9.1
    ms of CPU (median of 20, alternating, two runs)."""
    if not all(isinstance(c, str) for c in frame.columns):
        raise ValueError("column names must be strings to be written as Arrow")
    table = pa.Table.from_pandas(frame, preserve_index=None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def frame_from_arrow(blob: bytes, dtypes: Mapping[str, Any]) -> pd.DataFrame:
    """One table from an Arrow IPC stream, with object columns restored."""
    table = pa.ipc.open_stream(blob).read_all()
    frame = table.to_pandas()
    for column, spec in dtypes.items():
        if not isinstance(spec, str) or column not in frame:
            continue
        if spec == "object" and frame[column].dtype != object:
            values = table.column(column).to_numpy(zero_copy_only=False)
            frame[column] = pd.Series(values, index=frame.index, dtype=object)
        elif dtype_to_json(frame[column].dtype) != spec:
            # e.g. the storage of a StringDtype, which Arrow's metadata does not keep
            frame[column] = frame[column].astype(dtype_from_json(spec))
    return frame


def pack_arrow(header: dict[str, Any], blobs: Sequence[bytes | pa.Buffer]) -> bytes:
    """The Arrow container: magic, header length, JSON header, table streams."""
    header_bytes = dumps(header)
    return b"".join([ARROW_MAGIC, struct.pack(">I", len(header_bytes)), header_bytes, *blobs])


def unpack_arrow(payload: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """The header and table streams of an Arrow container; `ValueError` if malformed."""
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise ValueError("an Arrow payload must be bytes")
    payload = bytes(payload)
    if not payload.startswith(ARROW_MAGIC) or len(payload) < len(ARROW_MAGIC) + 4:
        raise ValueError("not an algomancy Arrow payload (bad magic bytes)")
    start = len(ARROW_MAGIC) + 4
    (length,) = struct.unpack(">I", payload[len(ARROW_MAGIC) : start])
    header = loads(payload[start : start + length])
    if not isinstance(header, dict) or not isinstance(header.get("tables"), list):
        raise ValueError("the Arrow payload header is malformed")
    blobs: list[bytes] = []
    offset = start + length
    for entry in header["tables"]:
        size = entry.get("size") if isinstance(entry, dict) else None
        if not isinstance(size, int) or offset + size > len(payload):
            raise ValueError("the Arrow payload is truncated or its header is malformed")
        blobs.append(payload[offset : offset + size])
        offset += size
    return header, blobs
