"""Quantities: a KPI's value shown in the unit that reads best (m → km, s → h, kg → t).

The value itself stays in the KPI's own unit everywhere (stores, API, frames);
`display` only says how to show it. A unit may carry a rate after a slash
(`m/day`): the part before the slash is scaled, the rest kept (`46.06 km/day`).
"""

from __future__ import annotations

import math
from typing import Any

from algomancy_core.errors import ConfigurationError

#: Each quantity's units, smallest first, with their size in the quantity's base unit.
SCALES: dict[str, tuple[tuple[str, float], ...]] = {
    "length": (("mm", 0.001), ("m", 1.0), ("km", 1000.0)),
    "time": (("s", 1.0), ("min", 60.0), ("h", 3600.0), ("d", 86400.0)),
    "mass": (("g", 0.001), ("kg", 1.0), ("t", 1000.0)),
}
#: Significant digits of a displayed value (below 10,000; larger ones are whole).
DIGITS = 4


def split_unit(unit: str) -> tuple[str, str]:
    """`("m", "/day")` of `"m/day"`; `("s", "")` of `"s"`."""
    base, slash, rest = unit.partition("/")
    return base.strip(), f"/{rest}" if slash else ""


def check_quantity(kpi: str, quantity: str | None, unit: str) -> None:
    """`ConfigurationError` unless `quantity` is None, or a known quantity whose
    units include the one `unit` starts with."""
    if quantity is None:
        return
    if quantity not in SCALES:
        raise ConfigurationError(
            f"kpis: {kpi!r} has quantity {quantity!r}; known: {', '.join(SCALES)}"
        )
    base, _ = split_unit(unit)
    units = [name for name, _ in SCALES[quantity]]
    if base not in units:
        raise ConfigurationError(
            f"kpis: {kpi!r} is a {quantity} in {unit!r}; its unit must be one of "
            f"{', '.join(units)} (optionally followed by '/...', e.g. 'm/day')"
        )


def number_text(value: float) -> str:
    """`value` rounded for reading: 4 significant digits, whole with thousands
    separators from 10,000 on."""
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.{DIGITS}g}"


def display(value: float | None, unit: str, quantity: str | None) -> dict[str, Any] | None:
    """`{"value", "unit", "text"}` of `value` (in `unit`) in the unit of its
    quantity that reads best: the largest one it is at least 1 of. None when the
    KPI has no quantity or no value."""
    if quantity is None or value is None or not math.isfinite(value):
        return None
    base, rate = split_unit(unit)
    scale = dict(SCALES[quantity])
    in_base = value * scale[base]
    chosen = SCALES[quantity][0]
    for name, size in SCALES[quantity]:
        if abs(in_base) >= size:
            chosen = (name, size)
    if in_base == 0:
        chosen = (base, scale[base])
    shown = in_base / chosen[1]
    text = number_text(shown)
    rounded = float(text.replace(",", ""))
    shown_unit = chosen[0] + rate
    return {"value": rounded, "unit": shown_unit, "text": f"{text} {shown_unit}"}
