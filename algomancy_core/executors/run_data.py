"""A worker's copy of a dataset for each run (`DataCache`): the server sends a dataset
once per worker, and each run gets a copy of its own (`run_copy`), so that what a run
does to its data never reaches the next run.

A run's copy shares the kept frames' arrays (pandas' copy-on-write, always on from
pandas 3: a shallow copy of a frame is isolated from the original, whatever either
does to it in place), and deep-copies the dataset's other attributes that can change
(its data parameters). A deep copy of the whole dataset took two thirds of a worker's
own time per trivial run (`benchmarks/pool_points.py`): 41 to 75 µs for the
benchmark's one 3-row table, against 19 to 23 µs for this copy."""

from __future__ import annotations

import copy
import datetime
import enum
import pickle
from typing import Any

import pandas as pd

#: pandas >= 3 has copy-on-write always on: `DataFrame.copy(deep=False)` gives a frame
#: whose changes (in place or not) never reach the original, nor the other way round.
#: Before pandas 3 a shallow copy shares its arrays for good: runs get deep copies.
COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3

#: Values an object column may hold and still be copied by `copy.deepcopy` (or the
#: shallow copy of `run_copy`): pandas copies a frame's arrays, not the Python objects
#: in them, so those must not change.
_IMMUTABLE = (str, bytes, int, float, bool, complex, type(None))

#: A dataset's attributes of these types are shared by a run's copy: nothing in them
#: can change (a deep copy of a `datetime` alone took 13 µs).
_SHARED = (*_IMMUTABLE, datetime.date, datetime.time, datetime.timedelta, enum.Enum)

#: Methods that change how an object copies: a dataset whose class defines any of them
#: gets a plain `copy.deepcopy` (its tables' memo still shallow copies).
_COPY_HOOKS = ("__copy__", "__deepcopy__", "__reduce__", "__reduce_ex__", "__getstate__")


def copies_safely(data: Any) -> bool:
    """Whether a copy of `data` (`run_copy`, or `copy.deepcopy`) gives a run data as
    independent of the next run's as a fresh unpickled copy: true unless a table (or
    its index) of object dtype holds something mutable (a list, a dict: pandas shares
    those between copies)."""
    tables = getattr(data, "_tables", None)
    if not isinstance(tables, dict):
        return False
    for frame in tables.values():
        if not isinstance(frame, pd.DataFrame):
            return False
        arrays: list[Any] = [frame.index, *(frame[column] for column in frame.columns)]
        for array in arrays:
            if array.dtype == object and not all(isinstance(v, _IMMUTABLE) for v in array):
                return False
    return True


def copies_by_dict(data: Any) -> bool:
    """Whether `data` copies as its `__dict__` does (no slots, no copy hooks of its
    own), so that `run_copy` may copy its attributes one by one."""
    cls = type(data)
    return (
        hasattr(data, "__dict__")
        and not any("__slots__" in vars(klass) for klass in cls.__mro__[:-1])
        and all(getattr(cls, name, None) is getattr(object, name, None) for name in _COPY_HOOKS)
    )


def run_copy(master: Any, by_dict: bool = True) -> Any:
    """A run's own copy of `master` (data that `copies_safely`): as independent of it
    as `copy.deepcopy(master)`, but its tables are shallow copies of the kept frames
    (`COPY_ON_WRITE`), and attributes that cannot change (`_SHARED`) are shared.
    `by_dict` (`copies_by_dict(master)`): False deep-copies the dataset object itself,
    its frames still shallow copied. Without copy-on-write: `copy.deepcopy`."""
    if not COPY_ON_WRITE:
        return copy.deepcopy(master)
    tables: dict[str, pd.DataFrame] = master._tables
    # By id, as `copy.deepcopy` keeps them: an attribute that refers to a kept frame
    # gets the same copy as the tables.
    memo: dict[int, Any] = {id(frame): frame.copy(deep=False) for frame in tables.values()}
    if not by_dict:
        return copy.deepcopy(master, memo)
    clone = copy.copy(master)
    for name, value in vars(master).items():
        if name == "_tables":
            value = {table: memo[id(frame)] for table, frame in tables.items()}
        elif not isinstance(value, _SHARED):
            value = copy.deepcopy(value, memo)
        clone.__dict__[name] = value
    return clone


class DataCache:
    """A worker's copy of the last dataset it was sent, pickled, by `RunRequest.data_key`:
    the server sends a dataset once per worker, not with each run. Each run gets its
    own copy, so what a run does to its data never reaches the next one: a `run_copy`
    of one unpickled the first time (unpickling it again was 60 % of a worker's time
    per trivial run), or a fresh unpickled copy when a copy would share something
    mutable (`copies_safely`)."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.blob = b""
        #: The data unpickled once (never given to a run), False when it does not
        #: copy safely, None until the first run needs it.
        self._master: Any = None
        #: Whether the master copies attribute by attribute (`copies_by_dict`).
        self._by_dict = False

    def keep(self, key: str | None, blob: bytes) -> None:
        """Hold `blob`, the data of `key`, from now on."""
        self.key, self.blob, self._master = key, blob, None

    def load(self, key: Any) -> Any:
        """`pickle`'s `persistent_load`: the data a request names."""
        if key != self.key:
            raise pickle.UnpicklingError(f"the worker does not hold the data {key!r}")
        if self._master is None:
            master = pickle.loads(self.blob)
            self._master = master if copies_safely(master) else False
            self._by_dict = copies_by_dict(master)
        if self._master is False:
            return pickle.loads(self.blob)
        return run_copy(self._master, self._by_dict)
