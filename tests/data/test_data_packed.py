"""`PackedDataSource`: a dataset written as Arrow with its digest, kept by a store
without pandas (what the ETL child process sends back)."""

from __future__ import annotations

import pickle

import pandas as pd

from algomancy_data import DataSource, content_digest
from algomancy_data.packed import PackedDataSource


def dataset() -> DataSource:
    data = DataSource("orders", data_parameters={"week": 3})
    data.add_table("orders", pd.DataFrame({"id": [1, 2, 3], "sku": ["a", "b", "c"]}))
    data.add_table("empty", pd.DataFrame({"x": pd.Series([], dtype="int64")}))
    return data


def test_a_packed_dataset_brings_its_payload_digest_and_row_counts() -> None:
    data = dataset()
    packed = PackedDataSource.pack(data)
    assert packed.to_arrow_bytes() == data.to_arrow_bytes()
    assert content_digest(packed) == content_digest(data)
    assert packed.table_rows() == {"orders": 3, "empty": 0} == data.table_rows()
    assert packed.list_tables() == ["orders", "empty"]
    assert (packed.name, packed.id, packed.created_at) == (data.name, data.id, data.created_at)
    assert packed.data_parameters == {"week": 3}


def test_a_packed_dataset_reads_its_tables_from_the_payload() -> None:
    data = dataset()
    packed = PackedDataSource.pack(data)
    pd.testing.assert_frame_equal(packed.get_table("orders"), data.get_table("orders"))
    assert isinstance(packed.unpacked(), DataSource)
    # Pickled (sent from the child) without what it decoded.
    copy = pickle.loads(pickle.dumps(packed))
    assert copy._decoded is None and copy.to_arrow_bytes() == packed.to_arrow_bytes()
