"""Datasets and dataset versions as an experiment axis, through HTTP, on the memory,
SQLite and PostgreSQL stores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_core import BaseAlgorithm, BaseResult, RunContext
from algomancy_data import DataSource
from tests.api.conftest import api_config
from tests.api.test_api_experiments import (
    Cost,
    GrowthData,
    KnobParameters,
    M,
    finished,
    scenarios,
)
from tests.pg import postgres_server, postgres_url  # noqa: F401

JSON_TYPE = {"Content-Type": "application/json"}


class Sized(BaseAlgorithm):
    """cost = the items' total quantity times the data's growth, plus crews."""

    name = "Sized"
    parameters = KnobParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        qty = float(data.get_table("items")["qty"].sum())
        growth = float(data.data_parameters.get("growth", 1.0))
        return BaseResult({"cost": qty * growth + self.params.crews})


def dataset(key: str, qty: list[int]) -> GrowthData:
    return GrowthData(key, tables={"items": pd.DataFrame({"qty": qty})})


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    values: dict[str, Any] = {
        "algorithms": [Sized],
        "kpis": [Cost],
        "initial_datasets": lambda: {
            "Master data": dataset("Master data", [1, 2, 3]),
            "Small data": dataset("Small data", [1]),
        },
        "data_object_type": GrowthData,
        "max_experiment_scenarios": 50,
    }
    if request.param == "postgres":
        config = api_config(database_url=request.getfixturevalue("postgres_url"), **values)
    elif request.param == "sqlite":
        config = api_config(has_persistent_state=True, data_path=str(tmp_path / "s"), **values)
    else:
        config = api_config(**values)
    with TestClient(ApiLauncher.build(config), raise_server_exceptions=False) as test_client:
        yield test_client


def create(client: TestClient, name: str, design: dict[str, Any], **base: Any) -> Any:
    body = {"name": name, "base": {"algo_name": "Sized", **base}, "design": design}
    return client.post(f"{M}/experiments", json=body)


def frame_rows(client: TestClient, experiment_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = client.get(f"{M}/experiments/{experiment_id}/frame").json()["rows"]
    return rows


def new_version(client: TestClient, key: str, qty: list[int]) -> None:
    document = dataset(key, qty).to_json()
    answer = client.post(
        f"{M}/data/from-json?new_version=true", content=document, headers=JSON_TYPE
    )
    assert answer.status_code == 201, answer.text


BOTH = {"on": "dataset", "values": ["Master data", "Small data"]}


def test_a_grid_over_datasets_runs_each_point_on_its_dataset(client: TestClient) -> None:
    design = {"kind": "grid", "axes": [BOTH, {"name": "crews", "values": [1, 2]}]}
    answer = create(client, "ds", design)  # no dataset_key: the axis' first
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["axes"] == ["dataset", "dataset_version", "crews"]
    assert body["base"]["dataset_key"] == "Master data"
    finished(client, body["id"])
    rows = frame_rows(client, body["id"])
    assert [(r["dataset"], r["dataset_version"], r["crews"], r["cost"]) for r in rows] == [
        ("Master data", 1, 1, 7.0),
        ("Master data", 1, 2, 8.0),
        ("Small data", 1, 1, 2.0),
        ("Small data", 1, 2, 3.0),
    ]
    listed = {s["tag"]: s for s in client.get(f"{M}/scenarios").json()}
    assert [listed[f"ds-{n}"]["input_data_key"] for n in range(1, 5)] == [
        "Master data",
        "Master data",
        "Small data",
        "Small data",
    ]


def test_dataset_versions_are_axis_values_and_reuse_follows_the_digest(
    client: TestClient,
) -> None:
    first = create(
        client, "v1", {"kind": "grid", "axes": [{"on": "dataset", "values": ["Master data"]}]}
    )
    assert first.status_code == 201, first.text
    finished(client, first.json()["id"])
    new_version(client, "Master data", [10, 20])
    versions = {
        "on": "dataset",
        "values": [{"key": "Master data", "version": 1}, {"key": "Master data"}],
    }
    second = create(client, "v2", {"kind": "grid", "axes": [versions]})
    assert second.status_code == 201, second.text
    body = second.json()
    # Version 1 ran already (same digest, same parameters): reused; version 2 is new.
    assert (body["counts"]["reused"], body["counts"]["created"]) == (1, 1)
    finished(client, body["id"])
    rows = frame_rows(client, body["id"])
    assert [(r["dataset_version"], r["cost"]) for r in rows] == [(1, 8.0), (2, 32.0)]
    tags = {s["tag"]: s for s in client.get(f"{M}/scenarios").json()}
    assert tags["v2-2"]["dataset_version"] == 2 and "v2-1" not in tags
    prints = [s["fingerprint"] for s in tags.values()]
    assert len(set(prints)) == len(prints) == 2  # nothing ran twice


def test_sampled_designs_take_the_dataset_as_a_category(client: TestClient) -> None:
    design = {"kind": "lhs", "n": 4, "seed": 3, "axes": [BOTH, {"name": "speed"}]}
    body = create(client, "lhs", design).json()
    finished(client, body["id"])
    rows = frame_rows(client, body["id"])
    # A Latin hypercube puts half of its points in each of the two datasets' strata.
    assert Counter(r["dataset"] for r in rows) == {"Master data": 2, "Small data": 2}
    random = create(
        client, "rnd", {"kind": "random", "n": 6, "axes": [BOTH]}, dataset_key="Small data"
    )
    assert random.status_code == 201, random.text
    assert {r["dataset"] for r in frame_rows(client, random.json()["id"])} <= {
        "Master data",
        "Small data",
    }


def test_exclusions_and_trimming_name_the_dataset(client: TestClient) -> None:
    design = {
        "kind": "grid",
        "axes": [BOTH, {"name": "crews", "values": [1, 2]}],
        "exclude": [{"dataset": "Small data", "crews": 1}],
    }
    body = create(client, "ex", design).json()
    assert body["counts"]["planned"] == 3
    rows = frame_rows(client, body["id"])
    assert ("Small data", 1) not in {(r["dataset"], r["crews"]) for r in rows}


@pytest.mark.parametrize("kind", ["oat", "morris", "sobol"])
def test_analysed_designs_refuse_a_dataset_axis_naming_why(client: TestClient, kind: str) -> None:
    design = {"kind": kind, "n": 4, "axes": [BOTH, {"name": "speed"}]}
    answer = create(client, "no", design)
    assert answer.status_code == 422, answer.text
    assert "cannot vary the dataset" in answer.text
    assert client.get(f"{M}/scenarios").json() == []


@pytest.mark.parametrize(
    ("axis", "status", "words"),
    [
        ({"on": "dataset", "values": ["Nope"]}, 400, "Nope"),
        ({"on": "dataset", "values": [{"key": "Master data", "version": 9}]}, 400, "version 9"),
        ({"on": "dataset", "values": ["Small data", {"key": "Small data"}]}, 400, "twice"),
        ({"on": "dataset", "values": [7]}, 400, "neither a dataset key"),
        ({"on": "dataset", "values": []}, 422, "takes values"),
        ({"on": "dataset", "name": "x", "values": ["Small data"]}, 422, "no name"),
        ({"on": "algorithm", "values": [1]}, 422, "needs the parameter's name"),
    ],
)
def test_a_bad_dataset_axis_is_refused_naming_it(
    client: TestClient, axis: dict[str, Any], status: int, words: str
) -> None:
    answer = create(client, "bad", {"kind": "grid", "axes": [axis]}, dataset_key="Master data")
    assert answer.status_code == status, answer.text
    assert words in answer.text
    assert scenarios(client) == {}
