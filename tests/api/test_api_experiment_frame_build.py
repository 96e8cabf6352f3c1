"""The experiment frame built without pandas (`algomancy_api.experiment_frame`) is
byte for byte the frame the DataFrame path answers, for each kind of column an
experiment has, and falls back to that path where a column is not plain."""

from __future__ import annotations

from typing import Any

import pytest

from algomancy_api import experiment_frame
from algomancy_api.frames import TabularFrameSourceResponse

SOURCE = TabularFrameSourceResponse(
    kind="experiment", id="e", label="sweep", context={"offset": 0, "limit": 3, "total_rows": 9}
)
NAN = float("nan")

#: Axis columns (three rows each), then KPI columns.
AXES: dict[str, list[Any]] = {
    "ints": [1, -2, 30],
    "floats": [0.5, 1e-9, 2.0],
    "floats with nulls": [0.5, None, NAN],
    "strings": ["a", "b", "2026-01-01"],
    "strings with nulls": ["a", None, "c"],
    "booleans": [True, False, True],
    "ints with nulls": [1, None, 3],
    "ints and floats": [1, 2.5, 3],
    "all null": [None, None, None],
    "mixed": ["a", 1, None],
    "huge ints": [2**60, 1, 2],
    "lists": [[1], [2], [3]],
}
KPIS: dict[str, list[Any]] = {
    "cost": [1.5, None, 3.0],
    "count": [1, 2, 3],
    "inf": [float("inf"), 1.0, None],
    "none yet": [None, None, None],
    "text": ["x", 1.0, None],
}


def rows(axes: dict[str, list[Any]], kpis: dict[str, list[Any]]) -> list[dict[str, Any]]:
    out = []
    for i in range(3):
        row: dict[str, Any] = {"point": i + 1, "scenario_id": f"s{i}", "status": "complete"}
        row |= {name: values[i] for name, values in axes.items()}
        row |= {name: values[i] for name, values in kpis.items()}
        out.append(row)
    return out


def both(axes: dict[str, list[Any]], kpis: dict[str, list[Any]]) -> tuple[bytes, bytes]:
    columns = ["point", "scenario_id", "status", *axes, *kpis]
    page = rows(axes, kpis)
    return (
        experiment_frame.frame_bytes(columns, list(kpis), page, SOURCE),
        experiment_frame.pandas_frame_bytes(columns, list(kpis), page, SOURCE),
    )


@pytest.mark.parametrize("axis", list(AXES))
@pytest.mark.parametrize("kpi", list(KPIS))
def test_each_column_kind_answers_the_same_bytes(axis: str, kpi: str) -> None:
    plain, through_pandas = both({axis: AXES[axis]}, {kpi: KPIS[kpi]})
    assert plain == through_pandas


def test_a_page_of_plain_columns_is_built_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = ("ints", "floats", "floats with nulls", "strings", "strings with nulls", "booleans")
    axes = {name: AXES[name] for name in plain}
    kpis = {name: KPIS[name] for name in ("cost", "count", "inf", "none yet")}
    expected = both(axes, kpis)[1]
    experiment_frame.frame_bytes(["x"], [], [{"x": 0.5}], SOURCE)  # the kinds described once

    def no_pandas(*args: Any) -> bytes:
        raise AssertionError("the DataFrame path was taken")

    monkeypatch.setattr(experiment_frame, "pandas_frame_bytes", no_pandas)
    for name in plain:  # every kind described before pandas is refused
        experiment_frame.frame_bytes([name], [], rows({name: AXES[name]}, {}), SOURCE)
    columns = ["point", "scenario_id", "status", *axes, *kpis]
    built = experiment_frame.frame_bytes(columns, list(kpis), rows(axes, kpis), SOURCE)
    assert built == expected


def test_an_empty_page_and_repeated_columns_go_through_pandas() -> None:
    columns = ["point", "scenario_id", "status", "count", "cost"]
    assert experiment_frame.frame_bytes(
        columns, ["cost"], [], SOURCE
    ) == experiment_frame.pandas_frame_bytes(columns, ["cost"], [], SOURCE)
