"""A dataset's content digest: sha256 over its tables' canonical form.

The digest depends on the content only, never on how it arrived: tables are taken
in name order (not upload order), each with its row count, its columns in order with
their dtype names (datetimes and durations in one unit), and its values hashed row by row by pandas
(`pandas.util.hash_pandas_object`, index excluded, fixed hash key), then the data
parameters as sorted JSON. The name, id, creation time and classification are not
content. The same tables read from CSV and from XLSX by the ETL (which applies the
declared schema) give one digest.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import orjson

from algomancy_data.datasource import DataSource
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: Written first: a change of the canonical form changes every digest.
DIGEST_FORM = b"algomancy-dataset-digest-v1\n"


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


def _frame_digest(frame: pd.DataFrame, name: str, digest: hashlib._Hash) -> None:
    if any(
        pd.api.types.is_datetime64_any_dtype(t) or pd.api.types.is_timedelta64_dtype(t)
        for t in frame.dtypes
    ):
        frame = pd.DataFrame(
            {i: _canonical_column(frame.iloc[:, i]) for i in range(frame.shape[1])}
        ).set_axis(frame.columns, axis=1)
    header = {
        "table": name,
        "rows": len(frame),
        "columns": [[str(column), str(frame[column].dtype)] for column in frame.columns],
    }
    digest.update(orjson.dumps(header) + b"\n")
    if len(frame) and len(frame.columns):
        rows = pd.util.hash_pandas_object(frame, index=False)
        digest.update(rows.to_numpy().astype("<u8").tobytes())


def content_digest(data: DataSource) -> str:
    """The hex sha256 of `data`'s tables and data parameters (see the module); a
    `PackedDataSource` brings the digest computed where it was packed."""
    from algomancy_data.packed import PackedDataSource

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
