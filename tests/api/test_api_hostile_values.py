"""Hostile values that used to answer 500, on both SQL stores: times UTC cannot hold,
columns a dataset cannot be read back with, offsets past 64 bits, NUL characters in
names and in path ids (PostgreSQL refuses NUL in text). Each is a 4xx naming the
problem, and the server serves on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_data import DataSource
from tests.api.conftest import PREFIX, api_config
from tests.pg import postgres_server, postgres_url  # noqa: F401

M = f"{PREFIX}/sessions/main"
JSON_HEADERS = {"content-type": "application/json"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    if request.param == "postgres":
        config = api_config(database_url=request.getfixturevalue("postgres_url"))
    else:
        config = api_config(has_persistent_state=True, data_path=str(tmp_path / "state"))
    with TestClient(ApiLauncher.build(config), raise_server_exceptions=False) as test_client:
        yield test_client


def document(name: str, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": "algomancy.datasource",
        "version": 1,
        "name": name,
        "classification": "master_data",
        "tables": {"t": {"columns": ["a"], "dtypes": ["int64"], "data": {"a": [1, 2]}}},
    }
    doc.update(changes)
    return doc


def still_serving(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    assert client.get(f"{M}/data").status_code == 200
    assert client.post(f"{M}/data/from-json", json=document("fine")).status_code == 201


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_created_at_utc_cannot_hold_is_400(client: TestClient, created_at: str) -> None:
    r = client.post(f"{M}/data/from-json", json=document("old", created_at=created_at))
    assert r.status_code == 400, r.text
    assert "'created_at' is out of range" in r.json()["detail"]
    still_serving(client)


@pytest.mark.parametrize(
    ("columns", "problem"),
    [(["a", "a"], "duplicate column names: 'a'"), ([""], "a column without a name")],
)
def test_columns_a_dataset_cannot_be_read_back_with_are_400(
    client: TestClient, columns: list[str], problem: str
) -> None:
    table = {
        "columns": columns,
        "dtypes": ["int64"] * len(columns),
        "data": {c: [1] for c in columns},
    }
    r = client.post(f"{M}/data/from-json", json=document("cols", tables={"t": table}))
    assert r.status_code == 400, r.text
    assert problem in r.json()["detail"]
    assert "cols" not in client.get(f"{M}/data").json()["keys"]
    still_serving(client)


def test_data_sources_refuse_duplicate_and_empty_column_names() -> None:
    with pytest.raises(ValueError, match="duplicate column names: 'a'"):
        DataSource("d", tables={"t": pd.DataFrame([[1, 2]], columns=["a", "a"])})
    with pytest.raises(ValueError, match="a column without a name"):
        DataSource("d", tables={"t": pd.DataFrame({" ": [1]})})


def test_the_last_day_of_year_9999_reads_back(client: TestClient) -> None:
    table = {
        "columns": ["d"],
        "dtypes": ["datetime64[us]"],
        "data": {"d": ["9999-12-31T23:59:59.999999", "0001-01-01T00:00:00.000000"]},
    }
    r = client.post(f"{M}/data/from-json", json=document("far", tables={"t": table}))
    assert r.status_code == 201, r.text
    back = client.get(f"{M}/data/far")
    assert back.status_code == 200, back.text
    assert back.json()["tables"]["t"]["data"]["d"] == table["data"]["d"]  # type: ignore[index]


@pytest.mark.parametrize(
    "path",
    [f"{M}/data/Master data/tables/items/frame", f"{PREFIX}/sessions"],
)
@pytest.mark.parametrize("offset", [2**63, 2**64, 10**30])
def test_an_offset_past_the_largest_safe_integer_is_422(
    client: TestClient, path: str, offset: int
) -> None:
    r = client.get(path, params={"offset": offset})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", "offset"]
    still_serving(client)


NUL_WRITES = [
    ("POST", f"{PREFIX}/sessions", {"display_name": "a\x00b"}),
    (
        "POST",
        f"{M}/scenarios",
        {"tag": "a\x00b", "dataset_key": "Master data", "algo_name": "Instant"},
    ),
    ("POST", f"{M}/scenarios", {"tag": "t", "dataset_key": "a\x00b", "algo_name": "Instant"}),
    ("POST", f"{M}/scenarios", {"tag": "t", "dataset_key": "Master data", "algo_name": "a\x00b"}),
    ("POST", f"{M}/data/from-json", document("a\x00b")),
    ("POST", f"{M}/data/Master data/derive", {"new_key": "a\x00b"}),
]


@pytest.mark.parametrize(("method", "path", "body"), NUL_WRITES)
def test_a_nul_in_a_name_is_a_4xx(
    client: TestClient, method: str, path: str, body: dict[str, Any]
) -> None:
    r = client.request(method, path, json=body)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["detail"]
    still_serving(client)


@pytest.mark.parametrize(
    "path",
    [
        f"{PREFIX}/sessions/a%00b/scenarios",
        f"{M}/scenarios/a%00b",
        f"{M}/scenarios/a%00b/status",
        f"{M}/data/a%00b",
        f"{M}/data/a%00b/tables",
        f"{M}/data/Master data/tables/a%00b/frame",
        f"{M}/algorithms/a%00b/parameters",
    ],
)
def test_a_nul_in_a_path_id_is_404(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404, r.text
    still_serving(client)


def test_a_nul_in_a_path_id_of_a_delete_is_404(client: TestClient) -> None:
    for path in (f"{M}/scenarios/a%00b", f"{M}/data/a%00b", f"{PREFIX}/sessions/a%00b"):
        assert client.delete(path).status_code == 404, path
    still_serving(client)


def test_an_index_name_that_is_not_a_string_is_400(client: TestClient) -> None:
    table = {
        "columns": ["a"],
        "dtypes": ["int64"],
        "data": {"a": [1]},
        "index": {"name": {"an": "object"}, "dtype": "int64", "data": [0]},
    }
    r = client.post(f"{M}/data/from-json", json=document("indexed", tables={"t": table}))
    assert r.status_code == 400, r.text
    assert "table 't': the index 'name' must be a string or null" in r.json()["detail"]
    still_serving(client)


@pytest.mark.parametrize("field", ["data_parameters", "extra"])
def test_dataset_metadata_nested_400_deep_is_400_naming_the_field(
    client: TestClient, field: str
) -> None:
    body = json.dumps(document("deep"))[:-1] + f', "{field}": {{"x": {"[" * 400 + "]" * 400}}}}}'
    r = client.post(f"{M}/data/from-json", content=body, headers=JSON_HEADERS)
    assert r.status_code == 400, r.text
    assert f"'{field}' nests deeper than 64 levels" in r.json()["detail"]
    still_serving(client)


HUGE = "k" * 900_000


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", f"{M}/scenarios", {"tag": "a", "dataset_key": HUGE, "algo_name": "Instant"}, 404),
        ("POST", f"{M}/scenarios", {"tag": "a", "dataset_key": "d", "algo_name": HUGE}, 404),
        (
            "POST",
            f"{M}/scenarios",
            {"tag": "a", "dataset_key": "d", "algo_name": "I", HUGE: 1},
            422,
        ),
        ("POST", f"{M}/scenarios", {"tag": list(range(20_000)), "dataset_key": "d"}, 422),
        # Over max_name_chars: the core's 400 (the wire model states no length).
        ("POST", f"{PREFIX}/sessions", {"display_name": "n" * 900_000}, 400),
        ("POST", f"{M}/data/from-json", document("x", classification=HUGE), 400),
        ("POST", f"{M}/data/from-json", document("x", format=HUGE), 400),
    ],
)
def test_an_error_never_echoes_a_huge_value(
    client: TestClient, method: str, path: str, body: dict[str, Any], status: int
) -> None:
    r = client.request(method, path, json=body)
    assert r.status_code == status, r.text[:300]
    assert len(r.content) < 2_000, r.text[:300]
    assert "characters" in r.text  # the cut says how long the value was
    still_serving(client)


def test_a_value_pandas_cannot_read_is_named_in_our_words(client: TestClient) -> None:
    """No library's message (which may quote the whole input) reaches a 400."""
    table = {"columns": ["d"], "dtypes": ["datetime64[ns]"], "data": {"d": ["x" * 5000]}}
    r = client.post(f"{M}/data/from-json", json=document("dates", tables={"t": table}))
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.endswith("table 't' column 'd': a value cannot be read as dtype 'datetime64[ns]'")
    r = client.post(
        f"{M}/data/from-json", content=b'{"name": "x' + b"x" * 5000, headers=JSON_HEADERS
    )
    assert r.status_code == 400
    assert r.json()["detail"].endswith("the payload is not valid JSON (line 1, column 5012)")
