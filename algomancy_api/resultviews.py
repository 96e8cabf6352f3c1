"""Result views on the wire: a view's points and a Chart.js configuration of them.

The configuration is plain JSON (no callbacks), so any page that loads Chart.js
can draw it with `new Chart(canvas, chart)`; the web app adds tooltips and sizes a
heat map's cells to the canvas.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

from algomancy_core import CoreConfig, ResultView
from algomancy_core.views import view_points
from algomancy_data import DataSource

#: Series colours (colour-blind safe, Okabe-Ito), in turn.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442")
#: A heat map's colour scale, low to high (yellow-orange-red).
HEAT = ("#ffffcc", "#fd8d3c", "#bd0026")


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def heat_colour(fraction: float) -> str:
    """The colour of `fraction` (0..1) of the way along `HEAT`."""
    fraction = min(1.0, max(0.0, fraction))
    position = fraction * (len(HEAT) - 1)
    index = min(int(position), len(HEAT) - 2)
    part = position - index
    low, high = _rgb(HEAT[index]), _rgb(HEAT[index + 1])
    mixed = (round(a + (b - a) * part) for a, b in zip(low, high, strict=True))
    return "#" + "".join(f"{channel:02x}" for channel in mixed)


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _axis(title: str, values: Sequence[Any]) -> dict[str, Any]:
    axis: dict[str, Any] = {"title": {"display": True, "text": title}}
    if _numeric(values):
        axis["type"] = "linear"
    else:
        axis["type"] = "category"
        axis["labels"] = sorted({str(v) for v in values})
    return axis


def _series(points: list[dict[str, Any]]) -> list[Any]:
    names: list[Any] = []
    for point in points:
        if point.get("series") not in names:
            names.append(point.get("series"))
    return names


def chart_config(view: ResultView, points: list[dict[str, Any]]) -> dict[str, Any]:
    """A Chart.js configuration (type, data, options) drawing `points` as `view` says."""
    encoding = view.encoding
    y_title = encoding["y"] + (f" ({view.unit})" if view.unit and view.kind != "heatmap" else "")
    options: dict[str, Any] = {
        "animation": False,
        "maintainAspectRatio": False,
        "plugins": {"title": {"display": False}},
    }
    if view.kind == "heatmap":
        values = [p["value"] for p in points if isinstance(p.get("value"), int | float)]
        top = max(values, default=0.0)
        bottom = min(values, default=0.0)
        span = (top - bottom) or 1.0
        data = [{"x": p["x"], "y": p["y"], "v": p.get("value")} for p in points]
        colours = [
            heat_colour(((p.get("value") or 0.0) - bottom) / span)
            if isinstance(p.get("value"), int | float)
            else "#e5e7eb"
            for p in points
        ]
        options["plugins"]["legend"] = {"display": False}
        options["scales"] = {
            "x": _axis(encoding["x"], [p["x"] for p in points]),
            "y": _axis(encoding["y"], [p["y"] for p in points]),
        }
        options["scales"]["x"]["offset"] = True
        options["scales"]["y"]["offset"] = True
        return {
            "type": "scatter",
            "data": {
                "datasets": [
                    {
                        "label": f"{encoding['value']} ({view.unit})" if view.unit else "value",
                        "data": data,
                        "backgroundColor": colours,
                        "borderColor": colours,
                        "pointStyle": "rect",
                        "pointRadius": 8,
                        "pointHoverRadius": 8,
                    }
                ]
            },
            "options": options,
            "scale": {"min": bottom, "max": top, "colours": list(HEAT), "unit": view.unit},
        }
    series = _series(points)
    options["plugins"]["legend"] = {"display": len(series) > 1}
    if view.kind == "scatter":
        options["scales"] = {
            "x": _axis(encoding["x"], [p["x"] for p in points]),
            "y": {"title": {"display": True, "text": y_title}},
        }
        scattered = [
            {
                "label": str(name) if name is not None else view.title,
                "data": [{"x": p["x"], "y": p["y"]} for p in points if p.get("series") == name],
                "backgroundColor": PALETTE[i % len(PALETTE)],
            }
            for i, name in enumerate(series)
        ]
        return {"type": "scatter", "data": {"datasets": scattered}, "options": options}
    labels: list[Any] = []
    for point in points:
        if point["x"] not in labels:
            labels.append(point["x"])
    datasets: list[dict[str, Any]] = []
    for i, name in enumerate(series):
        by_x = {p["x"]: p["y"] for p in points if p.get("series") == name}
        colour = PALETTE[i % len(PALETTE)]
        datasets.append(
            {
                "label": str(name) if name is not None else view.title,
                "data": [by_x.get(x) for x in labels],
                "backgroundColor": colour,
                "borderColor": colour,
            }
        )
    options["scales"] = {
        "x": {"title": {"display": True, "text": encoding["x"]}},
        "y": {"title": {"display": True, "text": y_title}},
    }
    return {
        "type": view.kind,
        "data": {"labels": [str(x) for x in labels], "datasets": datasets},
        "options": options,
    }


def module_url(package: str, path: str) -> str:
    return f"/app/modules/{package}/{path}"


def described(view: ResultView) -> dict[str, Any]:
    """The view's fields, and `module_url`: where a `module` view's module is served."""
    descriptor = view.describe()
    where = view.module_file
    descriptor["module_url"] = module_url(*where) if where is not None else None
    return descriptor


def view_answer(view: ResultView, tables: DataSource, scenario_id: str, tag: str) -> dict[str, Any]:
    """The body of `GET …/result/views/{view}`."""
    drawn = view_points(view, tables)
    return {
        "view": described(view),
        "scenario": {"id": scenario_id, "tag": tag},
        "points": drawn["points"],
        "truncated": drawn["truncated"],
        "chart": chart_config(view, drawn["points"]),
    }


def result_modules(config: CoreConfig) -> dict[tuple[str, str], bytes]:
    """The ES modules of the configured algorithms' `module` views, by
    `(package, path)`, read once (the configuration checked that they exist)."""
    modules: dict[tuple[str, str], bytes] = {}
    for algorithm in config.algorithms.values():
        for view in algorithm.views:
            if view.module_file is not None and view.module_file not in modules:
                package, path = view.module_file
                modules[view.module_file] = resources.files(package).joinpath(path).read_bytes()
    return modules
