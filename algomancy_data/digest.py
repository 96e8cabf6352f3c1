"""A dataset's content digest: sha256 over its tables' canonical form.

The digest depends on the content only, never on how it arrived: tables are taken
in name order (not upload order), each with its row count and its columns in order
with their dtype names (datetimes and durations in one unit), then the data
parameters as sorted JSON. The name, id, creation time and classification are not
content. The same tables read from CSV and from XLSX by the ETL (which applies the
declared schema) give one digest.

A table's values, in the canonical form of ``DIGEST_FORM`` (version 2):

- the columns that are not text (numbers, booleans, dates, categories, objects):
  one 64-bit hash per row, pandas' `pandas.util.hash_pandas_object` of each column
  (index excluded, fixed hash key) combined column by column, as version 1 hashed
  every column;
- then each text column (a `pandas.StringDtype`, either storage, or an Arrow string
  dtype), in column order: its value lengths in UTF-8 bytes (-1 for a missing value)
  and the UTF-8 bytes of its values, as Arrow holds them, fed to sha256 directly.

Version 1 hashed text columns row by row too, which turned every value into a
Python string: 35-45 ms of a 100,000-row, 8.5 MB CSV upload (``sku``, 50,000
distinct values, 23 ms alone; `benchmarks.etl_csv`'s table) where version 2 takes
6-9 ms of CPU (its row hashes 2.6 ms, sha256 at 1.8 GB/s over 4.7 MB 2.6 ms, the
rest the datetime units and the Arrow views). A digest names content of one form: versions
stored before keep their version-1 digests (stored, never computed again), so
content identical to theirs uploaded again gets a new digest once, and one new
version (see docs/http-api.md, dataset versions).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import orjson

from algomancy_data.datasource import DataSource
from algomancy_data.lazy import lazy_module
from algomancy_data.packed import PackedDataSource

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")
    pa = lazy_module("pyarrow")

#: Written first: a change of the canonical form changes every digest.
DIGEST_FORM = b"algomancy-dataset-digest-v2\n"

# The row-hash combination of pandas' `combine_hash_arrays` (Python's tuple hash).
_START = 0x345678
_MULTIPLIER = 1000003


def _canonical_column(column: pd.Series) -> pd.Series:
    """Datetimes and durations in one unit (files of different types read them in
    different units: CSV in ms, XLSX in us): ns, or us where ns cannot hold them."""
    if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
        column.dtype
    ):
        try:
            return column.dt.as_unit("ns")
        except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
            return column.dt.as_unit("us")
    if pd.api.types.is_timedelta64_dtype(column.dtype):
        try:
            return column.dt.as_unit("ns")
        except (OverflowError, ValueError, pd.errors.OutOfBoundsTimedelta):
            return column.dt.as_unit("us")
    return column


def _is_text(dtype: Any) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, pd.ArrowDtype):
        kind = dtype.pyarrow_dtype
        return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))
    return False


def _text_parts(column: pd.Series) -> tuple[bytes, Any]:
    """A text column as (value lengths, int64 little-endian with -1 for missing; the
    values' UTF-8 bytes, concatenated), from its Arrow form (no Python strings)."""
    values: Any = pa.array(column.array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    if values.null_count:
        lengths = pa.compute.binary_length(values).fill_null(-1)
        values = values.fill_null("")  # fresh buffers: no bytes under missing values
    else:
        lengths = pa.compute.binary_length(values)
    sizes = lengths.to_numpy().astype("<i8", copy=False).tobytes()
    offsets_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(values.buffers()[1], dtype=offsets_type)
    start, end = int(offsets[values.offset]), int(offsets[values.offset + len(values)])
    data = values.buffers()[2]
    return sizes, (data.slice(start, end - start) if data is not None else b"")


def _row_hashes(columns: list[pd.Series], rows: int) -> np.ndarray:
    """One 64-bit hash per row of `columns` (pandas' hash of each, combined)."""
    combined = np.full(rows, _START, dtype=np.uint64)
    multiplier = _MULTIPLIER
    count = len(columns)
    for i, column in enumerate(columns):
        combined ^= pd.util.hash_pandas_object(column, index=False).to_numpy()
        combined *= np.uint64(multiplier)
        multiplier = (multiplier + 82520 + 2 * (count - i - 1)) % 2**64
    combined += np.uint64(97531)
    return combined


def _frame_digest(frame: pd.DataFrame, name: str, digest: hashlib._Hash) -> None:
    columns = [_canonical_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
    labels = [str(label) for label in frame.columns]
    header = {
        "table": name,
        "rows": len(frame),
        "columns": [[label, str(c.dtype)] for label, c in zip(labels, columns, strict=True)],
    }
    digest.update(orjson.dumps(header) + b"\n")
    if not len(frame) or not columns:
        return
    others = [c for c in columns if not _is_text(c.dtype)]
    if others:
        digest.update(_row_hashes(others, len(frame)).astype("<u8", copy=False).tobytes())
    for i, column in enumerate(columns):
        if _is_text(column.dtype):
            sizes, data = _text_parts(column)
            digest.update(b"text %d\n" % i)
            digest.update(sizes)
            digest.update(data)


def content_digest(data: DataSource) -> str:
    """The hex sha256 of `data`'s tables and data parameters (see the module); a
    `PackedDataSource` brings the digest computed where it was packed (`pack`)."""
    if isinstance(data, PackedDataSource):
        return data.digest
    digest = hashlib.sha256(DIGEST_FORM)
    for name in sorted(data.list_tables()):
        _frame_digest(data.get_table(name), name, digest)
    parameters = orjson.dumps(
        data.data_parameters,
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
        default=str,
    )
    digest.update(b"parameters\n" + parameters)
    return digest.hexdigest()


def pack(data: DataSource) -> PackedDataSource:
    """`data` written as Arrow with its content digest (this imports pandas): what an
    ETL child sends back (`algomancy_api.etlchild`)."""
    return PackedDataSource(data, data.to_arrow_bytes(), content_digest(data))
