"""The reference's summary fields, and `?view=summary` read without results or datasets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import algomancy_core.runtime
from algomancy_api import ApiLauncher
from algomancy_api.example import build_example_config
from tests.polling import scenario_status

from .conftest import MAIN, TEST_HOSTS

SUMMARY_FIELDS = {
    "id",
    "tag",
    "input_data_key",
    "algorithm",
    "data_parameters",
    "status",
    "progress",
    "created_at",
    "run_started_at",
    "run_finished_at",
    "result_available",
    "kpis",
}
ABC = {"tag": "abc", "dataset_key": "Master data", "algo_name": "ABC slotting"}


class StoreSpy:
    """A store that notes the name of every method called on it."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.calls: list[str] = []
        #: Whether each call asked for summaries (`summaries=True`), in step with `calls`.
        self.summaries: list[bool] = []

    def clear(self) -> None:
        self.calls.clear()
        self.summaries.clear()

    def scenario_reads(self) -> list[tuple[str, bool]]:
        """The reads of scenarios made, each with whether it left results out."""
        reads = ("list_scenarios", "list_scenario_summaries", "page_scenarios", "get_scenarios")
        return [
            (name, light or name == "list_scenario_summaries")
            for name, light in zip(self.calls, self.summaries, strict=True)
            if name in reads
        ]

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.store, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            self.summaries.append(bool(kwargs.get("summaries")))
            return attribute(*args, **kwargs)

        return call


@pytest.fixture
def spied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, StoreSpy]]:
    spies: list[StoreSpy] = []
    real_build_store = algomancy_core.runtime.build_store

    def build_store(config: Any) -> Any:
        spies.append(StoreSpy(real_build_store(config)))
        return spies[-1]

    monkeypatch.setattr(algomancy_core.runtime, "build_store", build_store)
    config = build_example_config(
        has_persistent_state=True, data_path=tmp_path / "state", allowed_hosts=TEST_HOSTS
    )
    with TestClient(ApiLauncher.build(config)) as client:
        yield client, spies[0]


def complete_one(client: TestClient, tag: str = "abc") -> dict[str, Any]:
    created = client.post(f"{MAIN}/scenarios", json=ABC | {"tag": tag}).json()
    path = f"{MAIN}/scenarios/{created['id']}"
    client.post(f"{path}/run")
    scenario_status(client.get, path, {"complete"})
    result: dict[str, Any] = client.get(path).json()
    return result


def test_full_payloads_carry_the_reference_fields(client: TestClient) -> None:
    created = client.post(f"{MAIN}/scenarios", json=ABC).json()
    assert created["input_data_key"] == created["input_data_id"] == "Master data"
    assert (created["run_started_at"], created["run_finished_at"]) == (None, None)
    assert created["result_available"] is False
    assert created["data_parameters"] == {"demand_growth": 1.0}
    done = complete_one(client, "run")
    assert done["result_available"] is True
    assert done["run_started_at"] == done["started_at"] is not None
    assert done["run_finished_at"] == done["finished_at"] is not None


def test_summary_is_the_reference_light_shape(client: TestClient) -> None:
    done = complete_one(client)
    client.post(f"{MAIN}/scenarios", json=ABC | {"tag": "waiting"})
    listed = client.get(f"{MAIN}/scenarios", params={"view": "summary"}).json()
    assert [s["tag"] for s in listed] == ["abc", "waiting"]
    for item in listed:
        # The reference's fields, and (additively) whether it is the pinned baseline.
        assert set(item) == SUMMARY_FIELDS | {"baseline"}
        assert item["baseline"] is False
    first = listed[0]
    assert first["algorithm"] == {
        "name": "ABC slotting",
        "parameters": {p["name"]: p["value"] for p in done["algorithm"]["parameters"]},
    }
    assert first["result_available"] is True and listed[1]["result_available"] is False
    assert first["kpis"] == done["kpis"]
    assert set(first["kpis"]["throughput"]) == {"name", "better_when", "unit", "value", "threshold"}
    assert first["run_finished_at"] == done["finished_at"]
    assert listed[1]["status"] == "created" and listed[1]["progress"] == 0.0


def test_the_default_list_stays_full(client: TestClient) -> None:
    client.post(f"{MAIN}/scenarios", json=ABC)
    (item,) = client.get(f"{MAIN}/scenarios").json()
    assert "result" in item and isinstance(item["algorithm"]["parameters"], list)
    assert client.get(f"{MAIN}/scenarios", params={"view": "nope"}).status_code == 422


def test_summary_reads_no_result_and_no_dataset(spied: tuple[TestClient, StoreSpy]) -> None:
    client, spy = spied
    complete_one(client)
    spy.clear()
    listed = client.get(f"{MAIN}/scenarios", params={"view": "summary"}).json()
    assert listed[0]["result_available"] is True
    # The scenarios are read (the listing keeps views by version: the first listing
    # reads them by id), and every read leaves the results out.
    reads = spy.scenario_reads()
    assert reads and all(light for _, light in reads), reads
    touched = set(spy.calls) & {
        "list_scenarios",
        "get_scenario",
        "get_dataset",
        "get_result_tables",
    }
    assert touched == set()
    # And the SQL read leaves the result column alone.
    session_id = client.get("/api/v1/sessions").json()["default"]
    (summary,) = spy.store.list_scenario_summaries(session_id)
    (full,) = spy.store.list_scenarios(session_id)
    assert summary.result is None and full.result is not None


def test_a_page_of_the_summary_reads_no_result_and_no_dataset(
    spied: tuple[TestClient, StoreSpy],
) -> None:
    client, spy = spied
    complete_one(client)
    complete_one(client, "second")
    spy.clear()
    listed = client.get(f"{MAIN}/scenarios", params={"view": "summary", "limit": 1, "offset": 1})
    assert [s["tag"] for s in listed.json()] == ["second"]
    reads = spy.scenario_reads()
    assert reads and all(light for _, light in reads), reads
    touched = set(spy.calls) & {
        "list_scenarios",
        "get_scenario",
        "get_dataset",
        "get_result_tables",
    }
    assert touched == set()
    session_id = client.get("/api/v1/sessions").json()["default"]
    (summary,) = spy.store.page_scenarios(session_id, None, 1, 1, summaries=True)
    (full,) = spy.store.page_scenarios(session_id, None, 1, 1)
    assert summary.result is None and full.result is not None
