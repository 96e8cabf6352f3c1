"""Algorithm and KPI discovery."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import PREFIX

M = f"{PREFIX}/sessions/main"


def test_lists(client: TestClient) -> None:
    assert client.get(f"{M}/algorithms").json() == {"algorithms": ["Instant", "Gated", "Broken"]}
    assert client.get(f"{M}/kpis").json() == {"kpis": ["total"]}


def test_parameter_descriptors(client: TestClient) -> None:
    r = client.get(f"{M}/algorithms/Instant/parameters")
    assert r.status_code == 200
    assert r.json() == {
        "name": "Instant",
        "parameters": [
            {
                "name": "count",
                "type": "integer",
                "required": True,
                "value": 3,
                "default": 3,
                "min": 0,
                "max": 1000,
            }
        ],
    }
    r = client.get(f"{M}/algorithms/Nope/parameters")
    assert r.status_code == 404 and "Nope" in r.json()["detail"]


def test_kpi_descriptions(client: TestClient) -> None:
    assert client.get(f"{M}/kpis/describe").json() == [
        {
            "name": "total",
            "unit": "items",
            "better_when": "higher",
            "threshold": 0.0,
            "description": "",
        }
    ]
