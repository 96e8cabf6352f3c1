"""The warehouse example: sample files, ETL, algorithms and KPIs, through the core."""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import algomancy_example
from algomancy_core import (
    CoreConfig,
    RunContext,
    ScenarioManager,
    ScenarioStatus,
    SessionManager,
)
from algomancy_data import DataSource, ETLResult, file_from_bytes
from algomancy_example import example_settings, sample_file
from algomancy_example.algorithms import ABCSlotting, BatchPicking, RandomSlotting, Slow
from algomancy_example.etl import WarehouseETLFactory
from algomancy_example.kpis import KPIS
from algomancy_example.make_sample_data import write
from tests.polling import wait_for

S = ScenarioStatus


@pytest.fixture(scope="module")
def sessions() -> Iterator[SessionManager]:
    with SessionManager(CoreConfig(**example_settings(), max_workers=2)) as manager:
        yield manager


@pytest.fixture(scope="module")
def main(sessions: SessionManager) -> ScenarioManager:
    return sessions.get_session("main")


def etl(**files: bytes) -> ETLResult:
    uploads = [
        file_from_bytes(name.replace("_csv", ".csv").replace("_xlsx", ".xlsx"), data)
        for name, data in files.items()
    ]
    return WarehouseETLFactory().run(uploads, "uploaded")


def sample_bytes() -> dict[str, bytes]:
    return {
        "sku_data_csv": sample_file("sku_data.csv").read_bytes(),
        "inventory_xlsx": sample_file("inventory.xlsx").read_bytes(),
    }


def test_public_names() -> None:
    assert algomancy_example.__all__ == ["example_settings", "sample_file"]


def test_sample_files_ship_small_and_are_reproducible(tmp_path: Path) -> None:
    shipped = [sample_file("sku_data.csv"), sample_file("inventory.xlsx")]
    assert sum(path.stat().st_size for path in shipped) < 200_000
    csv, xlsx = write(tmp_path)
    assert csv.read_bytes() == shipped[0].read_bytes()
    fresh = pd.read_excel(xlsx, sheet_name=None, engine="calamine")
    old = pd.read_excel(shipped[1], sheet_name=None, engine="calamine")
    assert list(fresh) == list(old) == ["stock", "locations"]
    for sheet in old:
        pd.testing.assert_frame_equal(fresh[sheet], old[sheet])
    with pytest.raises(FileNotFoundError, match=r"sku_data\.csv"):
        sample_file("nope.csv")


def test_etl_of_the_sample_files_builds_typed_tables() -> None:
    result = etl(**sample_bytes())
    assert result.is_success, result.errors
    data = result.data_source
    assert data is not None
    assert sorted(data.list_tables()) == ["locations", "sku_data", "stock"]
    skus, stock, locations = (data.get_table(t) for t in ("sku_data", "stock", "locations"))
    assert len(skus) == 200 and len(locations) == 240 and len(stock) == 196
    assert pd.api.types.is_string_dtype(skus["sku"])
    assert isinstance(skus["family"].dtype, pd.CategoricalDtype)
    assert set(skus["family"].cat.categories) >= {"beverages", "snacks", "pet"}
    for column in ("weight_kg", "picks_per_day", "unit_volume_l"):
        assert skus[column].dtype == "float64", column
    assert stock["quantity"].dtype == "int64"
    assert {str(locations[c].dtype) for c in ("aisle", "bay", "level")} == {"int64"}
    assert locations["distance_m"].dtype == "float64"
    assert locations["capacity_l"].dtype == "float64"


def test_etl_names_a_missing_required_column() -> None:
    files = sample_bytes()
    frame = pd.read_csv(io.BytesIO(files["sku_data_csv"])).drop(columns="picks_per_day")
    files["sku_data_csv"] = frame.to_csv(index=False).encode()
    result = etl(**files)
    assert not result.is_success and result.data_source is None
    assert any(
        m.code == "missing_column" and m.column == "picks_per_day" and "picks_per_day" in m.message
        for m in result.errors
    ), result.errors


def test_etl_needs_both_files() -> None:
    result = etl(sku_data_csv=sample_bytes()["sku_data_csv"])
    assert not result.is_success
    assert [m.code for m in result.errors] == ["missing_file"]
    assert "inventory.xlsx" in result.errors[0].message


def test_etl_rejects_negative_demand_and_warns_of_unknown_stock() -> None:
    files = sample_bytes()
    frame = pd.read_csv(io.BytesIO(files["sku_data_csv"]))
    frame.loc[3, "picks_per_day"] = -1.0
    files["sku_data_csv"] = frame.to_csv(index=False).encode()
    negative = etl(**files)
    assert not negative.is_success
    assert "picks_per_day" in negative.errors[0].message and negative.errors[0].row == 4

    files = sample_bytes()
    files["sku_data_csv"] = frame.drop(index=[0, 3]).to_csv(index=False).encode()
    partial = etl(**files)
    assert partial.is_success
    warnings = [m for m in partial.messages if m.code == "unknown_reference"]
    assert len(warnings) == 1 and "SKU0001" in warnings[0].message


def test_master_data_exists_at_start(main: ScenarioManager) -> None:
    assert main.list_datasets() == ["Master data"]
    assert sorted(main.get_dataset("Master data").list_tables()) == [
        "locations",
        "sku_data",
        "stock",
    ]


def test_every_algorithm_completes_with_finite_kpis(main: ScenarioManager) -> None:
    runs: dict[str, tuple[str, dict[str, object]]] = {
        "slow": ("Slow", {"duration": 1}),
        "random": ("Random slotting", {"seed": 0}),
        "abc": ("ABC slotting", {"policy": "turnover"}),
        "abc classes": ("ABC slotting", {"policy": "class_based"}),
        "batch": ("Batch picking", {"batch_size": 3}),
    }
    ids = {}
    for tag, (algorithm, params) in runs.items():
        ids[tag] = main.create_scenario(tag, "Master data", algorithm, params).id
        main.run_scenario(ids[tag])
    done = {tag: main.wait(scenario_id) for tag, scenario_id in ids.items()}
    for tag, record in done.items():
        assert record.status is S.COMPLETE, (tag, record.error)
        assert set(record.kpis) == {"throughput", "travel_distance", "unassigned_skus"}
        assert all(v is not None and math.isfinite(v) for v in record.kpis.values()), tag
        assert record.result is not None
        assert record.result["tables"] == {"assignment": 200, "travel_by_location": 240}
    travel = {tag: float(r.kpis["travel_distance"] or 0) for tag, r in done.items()}
    throughput = {tag: float(r.kpis["throughput"] or 0) for tag, r in done.items()}
    assert travel["abc"] < travel["abc classes"] < travel["random"]
    assert throughput["abc"] > throughput["abc classes"] > throughput["random"]
    # The as-is slotting (Slow) leaves the four new SKUs without a location.
    assert done["slow"].kpis["unassigned_skus"] == 4
    assert done["abc"].kpis["unassigned_skus"] == done["random"].kpis["unassigned_skus"] == 0
    assert travel["batch"] < travel["abc"]  # same slotting, three picks per tour


def batch_kpis(data: DataSource, **params: object) -> dict[str, float]:
    result = BatchPicking(params).run(data, RunContext())
    return {kpi.name: kpi().evaluate(result) for kpi in KPIS}


def test_batch_picking_knobs_move_the_kpis_but_the_start_hour(main: ScenarioManager) -> None:
    data = main.get_dataset("Master data")
    base = batch_kpis(data)
    # One pick per tour is ABC (turnover) slotting.
    abc = ABCSlotting().run(data, RunContext())
    assert base["travel_distance"] == pytest.approx(abc.values["travel_m_per_day"])
    # Batching shortens the walk, with diminishing returns.
    travel = [batch_kpis(data, batch_size=k)["travel_distance"] for k in (1, 2, 4, 8)]
    assert travel == sorted(travel, reverse=True) and len(set(travel)) == 4
    gains = [a - b for a, b in itertools.pairwise(travel)]
    assert gains == sorted(gains, reverse=True)
    # A fill limit leaves SKUs without a location, picked from the overflow area.
    tight = batch_kpis(data, fill_limit=0.5)
    assert tight["unassigned_skus"] > 0 == base["unassigned_skus"]
    assert tight["travel_distance"] > base["travel_distance"]
    # Speed turns metres into seconds: throughput only.
    fast = batch_kpis(data, travel_speed_m_s=2.0)
    assert fast["throughput"] == pytest.approx(2 * base["throughput"])
    assert fast["travel_distance"] == base["travel_distance"]
    # The inert knob.
    assert batch_kpis(data, start_hour=10) == base


def test_slotting_respects_capacity(main: ScenarioManager) -> None:
    data = main.get_dataset("Master data")
    for algorithm in (ABCSlotting(), RandomSlotting({"seed": 3})):
        table = algorithm.run(data, RunContext()).tables()["assignment"]
        placed = table[table["location"] != "overflow"]
        assert placed["location"].is_unique
        assert (placed["need_l"] <= placed["capacity_l"]).all()


def test_travel_by_location_adds_up_to_the_travel_kpi(main: ScenarioManager) -> None:
    data = main.get_dataset("Master data")
    result = ABCSlotting().run(data, RunContext())
    table = result.tables()["travel_by_location"]
    assert list(table.columns) == [
        "location", "aisle", "bay", "level", "distance_m", "skus", "picks_per_day",
        "travel_m_per_day",
    ]  # fmt: skip
    assert table["location"].is_unique and len(table) == len(data.get_table("locations"))
    placed = result.tables()["assignment"].query("location != 'overflow'")
    assert table["skus"].sum() == len(placed)
    assert table["travel_m_per_day"].sum() == pytest.approx(
        result.values["travel_m_per_day"], rel=1e-6
    )


def test_slow_reports_progress_each_second_on_any_dataset() -> None:
    reports: list[tuple[float, str | None]] = []
    data = DataSource("plain", tables={"items": pd.DataFrame({"qty": [1, 2, 3]})})
    result = Slow({"duration": 1}).run(data, RunContext(lambda p, m: reports.append((p, m))))
    assert reports == [(0.0, "0/1 s"), (1.0, "1/1 s")]
    assert result.values["items_processed"] == 3
    for kpi in KPIS:
        assert math.isfinite(kpi().evaluate(result))


def test_cancel_a_running_slow_scenario(main: ScenarioManager) -> None:
    record = main.create_scenario("slow to cancel", "Master data", "Slow", {"duration": 60})
    main.run_scenario(record.id)
    wait_for(lambda: main.get_scenario(record.id).status is S.PROCESSING)
    main.cancel_scenario(record.id)
    # A 60 s run that ends within the wait proves the cancel was prompt.
    failed = main.wait(record.id, timeout=10)
    assert failed.status is S.FAILED and failed.error == "cancelled"
    assert failed.result is None
