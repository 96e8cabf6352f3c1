"""A worker's copy of a dataset for each run (`run_data`): the kept frames' arrays
shared under pandas' copy-on-write, yet nothing a run does to its copy, in place or
not, reaches the kept dataset (so the next run's copy)."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from algomancy_core.executors import run_data
from algomancy_core.executors.run_data import DataCache, copies_by_dict, run_copy
from algomancy_data import DataSource


def dataset() -> DataSource:
    frame = pd.DataFrame(
        {"qty": [1, 2, 3], "name": ["a", "b", "c"], "price": [1.5, 2.5, 3.5]},
        index=pd.Index([10, 11, 12], name="row"),
    )
    frame.attrs["source"] = "test"
    return DataSource("Master data", tables={"items": frame}, data_parameters={"opts": {"a": 1}})


def snapshot(data: DataSource) -> Any:
    """Everything a run could change, as plain values."""
    frame = data.get_table("items")
    return (
        frame.to_dict("split"),
        frame.index.name,
        frame.columns.name,
        dict(frame.attrs),
        data.list_tables(),
        copy.deepcopy(data.data_parameters),
        data.name,
    )


def _set_loc(t: pd.DataFrame) -> None:
    t.loc[10, "qty"] = 100


def _set_iloc(t: pd.DataFrame) -> None:
    t.iloc[0, 2] = -1.0


def _set_column_item(t: pd.DataFrame) -> None:
    t["qty"][11] = 7


def _new_column(t: pd.DataFrame) -> None:
    t["extra"] = 1


def _new_row(t: pd.DataFrame) -> None:
    t.loc[99] = [9, "z", 9.5]


def _index_name(t: pd.DataFrame) -> None:
    t.index.name = "changed"


def _columns_name(t: pd.DataFrame) -> None:
    t.columns.name = "changed"


def _attrs(t: pd.DataFrame) -> None:
    t.attrs["source"] = "changed"


def _fill_in_place(t: pd.DataFrame) -> None:
    t["price"].clip(lower=3.0, inplace=True)


IN_PLACE: dict[str, Callable[[pd.DataFrame], Any]] = {
    "loc": _set_loc,
    "iloc": _set_iloc,
    "a column's item": _set_column_item,
    "new column": _new_column,
    "new row": _new_row,
    "index name": _index_name,
    "columns name": _columns_name,
    "attrs": _attrs,
    "clip in place": _fill_in_place,
    "sort in place": lambda t: t.sort_values("qty", ascending=False, inplace=True),
    "rename in place": lambda t: t.rename(columns={"qty": "q"}, inplace=True),
    "drop in place": lambda t: t.drop(columns=["name"], inplace=True),
    "reset index in place": lambda t: t.reset_index(inplace=True),
    "eval in place": lambda t: t.eval("double = qty * 2", inplace=True),
    "update": lambda t: t.update(pd.DataFrame({"qty": [5, 5, 5]}, index=[10, 11, 12])),
}


# Algorithms may still change their tables in ways pandas deprecates.
@pytest.mark.filterwarnings("ignore::pandas.errors.ChainedAssignmentError")
@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The inplace keyword:FutureWarning")
@pytest.mark.parametrize("change", list(IN_PLACE))
def test_a_change_a_run_makes_to_its_table_in_place_stays_in_its_copy(change: str) -> None:
    master = dataset()
    before = snapshot(master)
    mine = run_copy(master, copies_by_dict(master))
    IN_PLACE[change](mine.get_table("items"))
    assert snapshot(master) == before
    assert snapshot(run_copy(master)) == before  # the next run's copy


def test_a_runs_copy_shares_the_kept_arrays_until_it_changes_them() -> None:
    """The point of `run_copy`: no deep copy of the frames (copy-on-write)."""
    master = dataset()
    mine = run_copy(master)
    kept, copied = master.get_table("items"), mine.get_table("items")
    assert copied is not kept
    assert np.shares_memory(copied["price"].to_numpy(), kept["price"].to_numpy())
    copied.loc[10, "price"] = 0.0
    assert not np.shares_memory(copied["price"].to_numpy(), kept["price"].to_numpy())
    assert kept["price"].tolist() == [1.5, 2.5, 3.5]


def test_a_runs_copy_deep_copies_what_can_change_besides_the_tables() -> None:
    master = dataset()
    mine = run_copy(master)
    mine.data_parameters["opts"]["a"] = 2
    mine.data_parameters["new"] = True
    mine.add_table("more", pd.DataFrame({"x": [1]}))
    mine.name = "renamed"
    assert master.data_parameters == {"opts": {"a": 1}} and master.list_tables() == ["items"]
    assert master.name == "Master data"
    assert mine.created_at is master.created_at  # immutable: shared


def test_without_copy_on_write_a_run_gets_a_deep_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before pandas 3, a shallow copy of a frame shares its arrays for good."""
    monkeypatch.setattr(run_data, "COPY_ON_WRITE", False)
    master = dataset()
    copied = run_copy(master).get_table("items")
    assert not np.shares_memory(copied["price"].to_numpy(), master.get_table("items")["price"])


class Hooked(DataSource):
    """A dataset with copy hooks of its own and a second reference to its table."""

    def __init__(self, frame: pd.DataFrame) -> None:
        super().__init__("Hooked", tables={"items": frame})
        self.same = frame
        self.stamp = datetime(2026, 1, 1, tzinfo=UTC)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return super().__reduce_ex__(protocol)


def test_a_dataset_with_copy_hooks_is_deep_copied_with_its_frames_shallow() -> None:
    master = Hooked(dataset().get_table("items"))
    assert not copies_by_dict(master) and copies_by_dict(dataset())
    mine = run_copy(master, by_dict=False)
    assert mine.same is mine.get_table("items")  # one copy for both references
    mine.same.loc[10, "qty"] = 100
    assert master.get_table("items")["qty"].tolist() == [1, 2, 3]
    assert np.shares_memory(mine.same["price"].to_numpy(), master.same["price"].to_numpy())


@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The inplace keyword:FutureWarning")
def test_a_worker_gives_each_run_a_fresh_copy_of_the_data_it_keeps() -> None:
    cache = DataCache()
    cache.keep("v1", pickle.dumps(dataset()))
    first = cache.load("v1")
    first.get_table("items").sort_values("qty", ascending=False, inplace=True)
    first.get_table("items").loc[12, "qty"] = 0
    first.data_parameters["opts"]["a"] = 9
    second = cache.load("v1")
    assert snapshot(second) == snapshot(dataset())


def test_a_dask_worker_gives_each_run_a_fresh_copy_even_of_mutable_objects() -> None:
    """A table holding lists: a copy would share them, so each run unpickles its own."""
    from algomancy_core.executors import dask_worker

    data = DataSource("Master data", tables={"items": pd.DataFrame({"tags": [["a"], ["b"]]})})
    blob = pickle.dumps(data)
    dask_worker._fresh_data('["lists"]', blob).get_table("items")["tags"][0].append("changed")
    assert dask_worker._fresh_data('["lists"]', blob).get_table("items")["tags"][0] == ["a"]
    blob = pickle.dumps(dataset())
    mine = dask_worker._fresh_data('["plain"]', blob)
    mine.get_table("items").loc[10, "qty"] = 100
    kept = dask_worker._held
    assert kept is not None and kept[1].get_table("items")["qty"].tolist() == [1, 2, 3]
    again = dask_worker._fresh_data('["plain"]', blob).get_table("items")
    assert again["qty"].tolist() == [1, 2, 3]
    assert np.shares_memory(again["price"].to_numpy(), kept[1].get_table("items")["price"])
