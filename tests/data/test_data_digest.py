"""The content digest's canonical form (version 2): text columns hashed from their
Arrow bytes, equal content equal digests whatever its layout, and any change of a
value, a length or a missing value a different digest."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import algomancy_data.digest as digest_module
from algomancy_data import DataSource, content_digest


def digest_of(**columns: Any) -> str:
    return content_digest(DataSource("d", tables={"t": pd.DataFrame(columns)}))


def text(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """A pyarrow-backed text column over exactly these Arrow buffers."""
    return pd.Series(pd.arrays.ArrowStringArray(values))


def mixed() -> DataSource:
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "sku": pd.Series(["SKU-1", None, "SKU-ß"], dtype="str"),
            "qty": pd.array([4, None, 6], dtype="Int64"),
            "price": [1.5, 2.25, float("nan")],
            "site": pd.Categorical(["AMS", "RTM", "AMS"]),
            "day": pd.to_datetime(["2024-01-01", "2024-01-02", None]).as_unit("ms"),
            "note": pd.Series(["", "b", "c"], dtype="string[pyarrow]"),
        }
    )
    return DataSource("d", tables={"t": frame}, data_parameters={"scale": 2})


def test_the_canonical_form_is_pinned() -> None:
    # A change of the canonical form changes every digest: it must be deliberate
    # (a new DIGEST_FORM, documented).
    assert digest_module.DIGEST_FORM == b"algomancy-dataset-digest-v2\n"
    assert content_digest(mixed()) == (
        "afae60dc0cc40f83433ba18f30895dfd05a5a7a4d0ba20655391e3c984a59d8b"
    )


def test_text_columns_are_not_hashed_row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    # pandas' row hash turns every text value into a Python string (version 1: most
    # of the digest's 35-45 ms for a 100,000-row upload); text goes to sha256 as bytes.
    hashed: list[str] = []
    row_hash = pd.util.hash_pandas_object

    def spy(obj: Any, **options: Any) -> Any:
        hashed.extend(str(t) for t in (obj.dtypes if obj.ndim == 2 else [obj.dtype]))
        return row_hash(obj, **options)

    monkeypatch.setattr(pd.util, "hash_pandas_object", spy)
    content_digest(mixed())
    assert hashed and "str" not in hashed and "string" not in hashed
    assert "category" in hashed and "Int64" in hashed


def test_equal_text_has_one_digest_whatever_its_arrow_layout() -> None:
    plain = digest_of(s=text(pa.array([None, "ab", None, "c"], pa.large_string())))
    chunked = pa.chunked_array([["", "x"], [None, "ab"], [None, "c"]], pa.large_string())
    assert digest_of(s=text(chunked.slice(2))) == plain
    # Bytes under missing values (Arrow allows them) are not content.
    offsets = pa.py_buffer(np.array([0, 2, 4, 6, 7], dtype=np.int64).tobytes())
    bitmap = pa.py_buffer(bytes([0b1010]))
    dirty = pa.LargeStringArray.from_buffers(4, offsets, pa.py_buffer(b"XXabYYc"), bitmap)
    assert dirty.to_pylist() == [None, "ab", None, "c"]
    assert digest_of(s=text(dirty)) == plain
    # Either pandas storage of `str` gives one digest.
    values = ["a", None, "ccc"]
    python = pd.Series(values, dtype=pd.StringDtype("python", na_value=np.nan))
    assert digest_of(s=python) == digest_of(s=pd.Series(values, dtype="str"))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (["ab", "c"], ["a", "bc"]),  # the same bytes, other values
        ([None, "x"], ["", "x"]),  # missing is not empty
        (["a", "b"], ["b", "a"]),
        (["a"], ["a "]),
    ],
)
def test_different_text_has_different_digests(one: list[Any], other: list[Any]) -> None:
    assert digest_of(s=pd.Series(one, dtype="str")) != digest_of(s=pd.Series(other, dtype="str"))


def test_text_columns_are_told_apart_by_position() -> None:
    a, b = pd.Series(["a"], dtype="str"), pd.Series(["b"], dtype="str")
    assert digest_of(p=a, q=b) != digest_of(p=b, q=a)
    assert digest_of(p=a, n=[1]) != digest_of(p=b, n=[1])
    assert digest_of(p=a, n=[1]) != digest_of(p=a, n=[2])
