"""Result views: how a domain wants a result drawn, declared next to its algorithm.

A `ResultView` names one table of the result and which of its columns go on which
channel (`x`, `y`, `value`, `series`); `view_points` turns a result's tables into
the (aggregated) points to draw. The HTTP layer makes a chart of them; nothing here
knows about a chart library.

    class ABCSlotting(BaseAlgorithm):
        views = [
            ResultView(
                "travel-heatmap", "Pick travel by location", kind="heatmap",
                table="travel_by_location",
                encoding={"x": "aisle", "y": "bay", "value": "travel_m_per_day"},
                unit="m/day",
            )
        ]
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import ConfigurationError, ConflictError, NotFoundError
from algomancy_data import DataSource
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: The kinds of view, and the channels each needs (beyond the optional ones).
KINDS: dict[str, tuple[str, ...]] = {
    "bar": ("x", "y"),
    "line": ("x", "y"),
    "scatter": ("x", "y"),
    "heatmap": ("x", "y", "value"),
    # The domain's own ES module draws the table (`module`); no channels needed.
    "module": (),
}
#: Channels a view may name; `series` splits bars, lines and points into groups.
CHANNELS = ("x", "y", "value", "series")
AGGREGATES = ("sum", "mean", "min", "max", "count", "none")
#: The most points one view draws; the rest are left out (`truncated`).
MAX_POINTS = 20_000
#: A view's name: it is a path segment and an HTML id.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: An ES module shipped in a package: `package:path/in/package.js`.
MODULE = re.compile(
    r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):((?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_.-]+\.m?js)$"
)


@dataclasses.dataclass(frozen=True)
class ResultView:
    """One way to draw a result: a chart (bar, line, scatter or heat map) of one
    result table, or (`kind="module"`) the domain's own ES module, shipped in its
    package (`module="package:path/in/package.js"`), that draws it."""

    name: str
    title: str
    kind: str = "bar"
    table: str = ""
    encoding: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: How rows sharing `x` (and `y` for a heat map, `series` otherwise) combine;
    #: `none` draws every row as it is.
    aggregate: str = "sum"
    unit: str = ""
    description: str = ""
    module: str = ""

    def __post_init__(self) -> None:
        where = f"result view {self.name!r}"
        if not isinstance(self.name, str) or not NAME.match(self.name):
            raise ConfigurationError(f"{where}: name must be 1-64 letters, digits, '_', '.' or '-'")
        if self.kind not in KINDS:
            raise ConfigurationError(f"{where}: kind must be one of {', '.join(KINDS)}")
        if self.aggregate not in AGGREGATES:
            raise ConfigurationError(f"{where}: aggregate must be one of {', '.join(AGGREGATES)}")
        unknown = sorted(set(self.encoding) - set(CHANNELS))
        if unknown:
            raise ConfigurationError(
                f"{where}: unknown channel {unknown[0]!r} (channels: {', '.join(CHANNELS)})"
            )
        object.__setattr__(self, "encoding", dict(self.encoding))
        if not self.table:
            raise ConfigurationError(f"{where}: names no result table")
        if self.kind == "module":
            if not isinstance(self.module, str) or not MODULE.match(self.module):
                raise ConfigurationError(
                    f"{where}: module must be 'package:path/in/package.js', got {self.module!r}"
                )
        elif self.module:
            raise ConfigurationError(f"{where}: only a view of kind 'module' has a module")
        missing = [c for c in KINDS[self.kind] if not self.encoding.get(c)]
        if missing:
            raise ConfigurationError(f"{where}: a {self.kind} needs the channel(s) {missing}")

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "table": self.table,
            "encoding": dict(self.encoding),
            "aggregate": self.aggregate,
            "unit": self.unit,
            "description": self.description,
            "module": self.module or None,
        }

    @property
    def module_file(self) -> tuple[str, str] | None:
        """`(package, path)` of a module view's file, or None."""
        match = MODULE.match(self.module) if self.module else None
        return (match.group(1), match.group(2)) if match else None


def _plain(value: Any) -> Any:
    """A JSON-able cell: numpy numbers as Python ones, NaN as None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def view_points(view: ResultView, tables: DataSource) -> dict[str, Any]:
    """`{"points": [{x, y, value?, series?}], "truncated": bool}` of `view` for a
    result's `tables`. `NotFoundError` when the table is missing, `ConflictError`
    when a column the view names is."""
    if view.kind == "module":
        raise ConflictError(
            f"result view {view.name!r} is drawn by its module {view.module!r} in the browser"
        )
    if view.table not in tables.list_tables():
        listed = ", ".join(tables.list_tables()) or "none"
        raise NotFoundError(
            f"result view {view.name!r} needs the result table {view.table!r} (tables: {listed})"
        )
    frame = tables.get_table(view.table)
    columns = {channel: column for channel, column in view.encoding.items() if column}
    lacking = [c for c in columns.values() if c not in frame.columns]
    if lacking:
        raise ConflictError(
            f"result view {view.name!r} needs the column {lacking[0]!r} of table "
            f"{view.table!r}, which has: {', '.join(map(str, frame.columns))}"
        )
    measure = "value" if view.kind == "heatmap" else "y"
    keys = [c for c in ("x", "y", "series") if c in columns and c != measure]
    picked = pd.DataFrame({channel: frame[column] for channel, column in columns.items()})
    if view.aggregate != "none" and keys:
        grouped = picked.groupby(keys, sort=True, dropna=False, observed=True)[measure]
        if view.aggregate == "count":
            picked = grouped.count().reset_index()
        else:
            values = pd.to_numeric(picked[measure], errors="coerce")
            picked = (
                values.groupby([picked[k] for k in keys], sort=True, dropna=False, observed=True)
                .agg(view.aggregate)
                .reset_index()
            )
    truncated = len(picked) > MAX_POINTS
    picked = picked.head(MAX_POINTS)
    points = [
        {channel: _plain(value) for channel, value in row.items()}
        for row in picked.to_dict(orient="records")
    ]
    return {"points": points, "truncated": truncated}


def check_views(algorithm: str, views: Any) -> None:
    """`ConfigurationError` unless `views` is a sequence of `ResultView`s with
    distinct names."""
    seen: set[str] = set()
    if isinstance(views, str | bytes) or not hasattr(views, "__iter__"):
        raise ConfigurationError(f"algorithms: {algorithm!r}.views must be a list of ResultView")
    for view in views:
        if not isinstance(view, ResultView):
            raise ConfigurationError(
                f"algorithms: {algorithm!r}.views holds {type(view).__name__}, not a ResultView"
            )
        if view.name in seen:
            raise ConfigurationError(
                f"algorithms: {algorithm!r} declares the result view {view.name!r} twice"
            )
        seen.add(view.name)
        if view.module_file is not None:
            package, path = view.module_file
            try:
                found = resources.files(package).joinpath(path).is_file()
            except ModuleNotFoundError:
                found = False
            if not found:
                raise ConfigurationError(
                    f"algorithms: {algorithm!r} result view {view.name!r}: no file {path!r} "
                    f"in package {package!r}"
                )
