"""Discovery routes: the reference's list shapes and path parameter names."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import MAIN, PREFIX


def test_algorithms_are_listed_in_an_object(client: TestClient) -> None:
    assert client.get(f"{MAIN}/algorithms").json() == {
        "algorithms": [
            "Slow",
            "Random slotting",
            "ABC slotting",
            "Batch picking",
            "Iterative descent",
        ]
    }


def test_kpis_are_listed_in_an_object(client: TestClient) -> None:
    body = client.get(f"{MAIN}/kpis").json()
    assert set(body) == {"kpis"} and "throughput" in body["kpis"]


def test_datasets_are_listed_as_keys(client: TestClient) -> None:
    assert client.get(f"{MAIN}/data").json() == {"keys": ["Master data"]}


def test_unknown_session_is_404_on_discovery(client: TestClient) -> None:
    for path in ("algorithms", "kpis", "data", "algorithms/Slow/parameters"):
        r = client.get(f"{PREFIX}/sessions/no-such-session/{path}")
        assert r.status_code == 404, path
        assert "no-such-session" in r.json()["detail"]


def test_parameters_describe_each_field(client: TestClient) -> None:
    body = client.get(f"{MAIN}/algorithms/Slow/parameters").json()
    assert body["name"] == "Slow"
    (duration,) = [p for p in body["parameters"] if p["name"] == "duration"]
    assert duration | {"description": None} == {
        "name": "duration",
        "type": "integer",
        "required": True,
        "value": 1,
        "default": 1,
        "min": 1,
        "max": 60,
        "description": None,
    } | {"description": None}
    missing = client.get(f"{MAIN}/algorithms/Nope/parameters")
    assert missing.status_code == 404 and "Nope" in missing.json()["detail"]


def test_path_parameters_have_the_references_names(client: TestClient) -> None:
    """Generated clients get the reference's argument names."""
    schema = client.get("/openapi.json").json()
    names: set[str] = set()
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    names.add(parameter["name"])
                    assert "{" + parameter["name"] + "}" in path
    assert {"session_id", "scenario_id", "algorithm_name", "data_key"} <= names
    assert not names & {"sid", "id", "name", "key"}
    paths = set(schema["paths"])
    assert f"{PREFIX}/sessions/{{session_id}}/algorithms/{{algorithm_name}}/parameters" in paths
    assert f"{PREFIX}/sessions/{{session_id}}/data/{{data_key}}" in paths
    assert f"{PREFIX}/sessions/{{session_id}}/scenarios/{{scenario_id}}" in paths
