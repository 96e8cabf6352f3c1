"""Experiment designs: the exact points of each kind."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from algomancy_core.errors import InvalidInputError
from algomancy_core.experiments import salib
from algomancy_core.experiments.designs import Axis, count_points, excluded, points, repeated

A = Axis("a", "float", low=0.0, high=10.0, base=5.0)
B = Axis("b", "integer", low=1.0, high=3.0, base=2)
MODE = Axis("mode", "enum", values=("x", "y"), base="x")


def test_a_grid_is_the_product_of_the_axes_in_order() -> None:
    grid = points("grid", [B, MODE])
    assert grid == [
        {"b": 1, "mode": "x"},
        {"b": 1, "mode": "y"},
        {"b": 2, "mode": "x"},
        {"b": 2, "mode": "y"},
        {"b": 3, "mode": "x"},
        {"b": 3, "mode": "y"},
    ]
    assert count_points("grid", [B, MODE], None) == 6


def test_a_grid_over_a_float_range_without_values_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="explicit values"):
        points("grid", [A])


def test_one_at_a_time_varies_each_axis_around_the_base() -> None:
    assert points("oat", [A, B]) == [
        {"a": 5.0, "b": 2},
        {"a": 0.0, "b": 2},
        {"a": 10.0, "b": 2},
        {"a": 5.0, "b": 1},
        {"a": 5.0, "b": 3},
    ]
    assert count_points("oat", [A, B], None) == 5


def test_random_is_seeded_and_maps_onto_each_axis() -> None:
    first = points("random", [A, B, MODE], n=20, seed=7)
    assert first == points("random", [A, B, MODE], n=20, seed=7)
    assert first != points("random", [A, B, MODE], n=20, seed=8)
    assert len(first) == 20
    assert all(0.0 <= p["a"] < 10.0 and isinstance(p["a"], float) for p in first)
    assert all(p["b"] in (1, 2, 3) and type(p["b"]) is int for p in first)
    assert {p["mode"] for p in first} == {"x", "y"}
    # The exact sequence of seed 1 (numpy's PCG64 stream): pinned, so a change of
    # the mapping shows up here.
    assert [p["b"] for p in points("random", [B], n=6, seed=1)] == [2, 3, 1, 3, 1, 2]


def test_a_latin_hypercube_puts_one_point_in_each_stratum_of_each_axis() -> None:
    design = points("lhs", [A, Axis("c", "float", low=0.0, high=1.0)], n=10, seed=3)
    assert design == points("lhs", [A, Axis("c", "float", low=0.0, high=1.0)], n=10, seed=3)
    assert sorted(int(p["a"]) for p in design) == list(range(10))
    assert sorted(int(p["c"] * 10) for p in design) == list(range(10))
    # Integers are rounded and stay in range; choices are sampled equally often.
    ints = points("lhs", [B], n=6, seed=1)
    assert [p["b"] for p in ints] == [3, 1, 2, 1, 3, 2]
    picks = [p["mode"] for p in points("lhs", [MODE], n=6, seed=2)]
    assert sorted(picks) == ["x", "x", "x", "y", "y", "y"]


def test_sampled_designs_need_a_size() -> None:
    with pytest.raises(InvalidInputError, match="n >= 1"):
        points("lhs", [A])


def test_a_huge_integer_grid_is_counted_without_listing_it() -> None:
    wide = Axis("k", "integer", low=0.0, high=2.0**40)
    assert count_points("grid", [wide, B], None) == (2**40 + 1) * 3


C = Axis("c", "float", low=0.0, high=1.0, base=0.5)


def test_a_morris_design_is_trajectories_of_one_step_per_axis() -> None:
    design = points("morris", [A, C], n=3, seed=7, levels=4)
    assert count_points("morris", [A, C], 3, 4) == len(design) == 3 * (2 + 1)
    assert points("morris", [A, C], n=3, seed=7, levels=4) == design  # seeded
    assert points("morris", [A, C], n=3, seed=8, levels=4) != design
    levels = {0.0, 1 / 3, 2 / 3, 1.0}
    for start in range(0, len(design), 3):
        trajectory = [(p["a"] / 10, p["c"]) for p in design[start : start + 3]]
        for point in trajectory:
            assert all(min(abs(u - level) for level in levels) < 1e-9 for u in point)
        for before, after in itertools.pairwise(trajectory):
            moved = [abs(x - y) for x, y in zip(before, after, strict=True) if abs(x - y) > 1e-9]
            assert moved == [pytest.approx(2 / 3)]  # one axis, by levels / (2 (levels - 1))


def test_a_sobol_design_is_saltelli_blocks_of_a_and_b() -> None:
    design = points("sobol", [A, C], n=4, seed=3)
    assert count_points("sobol", [A, C], 4) == len(design) == 4 * (2 + 2)
    assert points("sobol", [A, C], n=4, seed=3) == design
    for block in range(0, len(design), 4):
        a, ab_a, ab_c, b = design[block : block + 4]
        assert (ab_a["a"], ab_a["c"]) == (b["a"], a["c"])  # A with column a from B
        assert (ab_c["a"], ab_c["c"]) == (a["a"], b["c"])
        assert 0.0 <= a["a"] < 10.0 and 0.0 <= b["c"] < 1.0


def test_morris_and_sobol_sizes_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="power of 2"):
        count_points("sobol", [A], 6)
    with pytest.raises(InvalidInputError, match="trajectories"):
        count_points("morris", [A], None)
    with pytest.raises(InvalidInputError, match="even levels"):
        count_points("morris", [A], 2, 3)


def test_without_salib_a_morris_design_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    for name in ("SALib", "SALib.sample", "SALib.sample.morris"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(InvalidInputError, match=r"algomancy-api\[experiments\]"):
        points("morris", [A], n=2, seed=0)


def test_sobol_indices_of_a_known_function_are_ordered() -> None:
    """y = 4 x0 + 2 x1 + x2 (+ 0 x3) on the unit cube: S1 in proportion 16 : 4 : 1 : 0."""
    unit = salib.unit_sample("sobol", 4, 1024, seed=1)
    y = [4 * x0 + 2 * x1 + x2 for x0, x1, x2, _ in unit]
    rows = salib.analyse("sobol", ["x0", "x1", "x2", "x3"], unit, y, seed=1)
    assert [r["parameter"] for r in rows] == ["x0", "x1", "x2", "x3"]
    s1 = {r["parameter"]: r["S1"] for r in rows}
    assert s1["x0"] == pytest.approx(16 / 21, abs=0.05)
    assert s1["x1"] == pytest.approx(4 / 21, abs=0.05)
    assert s1["x0"] > s1["x1"] > s1["x2"] > s1["x3"] == 0.0
    assert all(r["S1_conf"] is not None and r["S1_conf"] >= 0 for r in rows)
    assert rows[-1]["ST"] == 0.0


def test_morris_ranks_an_inert_input_last() -> None:
    unit = salib.unit_sample("morris", 3, 10, seed=2)
    y = [x0**2 * 5 + x1 for x0, x1, _ in unit]
    rows = salib.analyse("morris", ["x0", "x1", "inert"], unit, y, seed=2)
    assert [r["parameter"] for r in rows] == ["x0", "x1", "inert"]
    assert rows[-1]["mu_star"] == 0.0 and rows[-1]["sigma"] == 0.0
    assert rows[0]["sigma"] is not None and rows[0]["sigma"] > 0  # nonlinear in x0


def test_a_log_axis_spreads_evenly_in_the_logarithm() -> None:
    rate = Axis("rate", "float", low=0.01, high=100.0, scale="log")
    assert [round(rate.at(u), 6) for u in (0.0, 0.25, 0.5, 0.75)] == [0.01, 0.1, 1.0, 10.0]
    assert rate.ends() == (0.01, 100.0)


def test_a_date_axis_takes_each_day() -> None:
    low, high = date(2024, 2, 28).toordinal(), date(2024, 3, 1).toordinal()
    day = Axis("day", "date", low=float(low), high=float(high))
    assert points("grid", [day]) == [
        {"day": "2024-02-28"},
        {"day": "2024-02-29"},
        {"day": "2024-03-01"},
    ]
    assert day.ends() == ("2024-02-28", "2024-03-01")
    assert day.at(0.99) == "2024-03-01"


def test_exclusions_and_repetitions() -> None:
    grid = points("grid", [B, MODE])
    kept = excluded(grid, [{"b": 1, "mode": "y"}, {"b": 3}])
    assert kept == [{"b": 1, "mode": "x"}, {"b": 2, "mode": "x"}, {"b": 2, "mode": "y"}]
    twice = repeated(kept[:2], 2, seed=9, key="seed")
    assert [p["b"] for p in twice] == [1, 1, 2, 2]
    seeds = [p["seed"] for p in twice]
    assert seeds[0] != seeds[1] and seeds[:2] == seeds[2:]
    assert repeated(kept[:2], 2, seed=9, key="seed") == twice
