"""The JSON body limits: size (`max_json_bytes`, 413 before the body is read) and
nesting depth (`max_json_depth`, 400 before it is parsed)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiConfiguration
from algomancy_api.middleware.jsonbody import json_depth, json_structure
from algomancy_core import ConfigurationError
from algomancy_data import DataSource

from .conftest import PREFIX, ClientFactory

M = f"{PREFIX}/sessions/main"
JSON_TYPE = {"content-type": "application/json"}


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def still_serving(client: TestClient) -> None:
    r = client.get(f"{PREFIX}/sessions")
    assert r.status_code == 200


def test_a_large_json_body_is_413_naming_the_limit(client: TestClient) -> None:
    r = client.post(f"{PREFIX}/sessions", json={"display_name": "n" * 2_000_000})
    assert r.status_code == 413
    assert "max_json_bytes" in r.json()["detail"]
    assert r.headers["connection"] == "close"
    still_serving(client)


def test_a_large_chunked_json_body_is_cut_off(make_client: ClientFactory) -> None:
    client = make_client(max_json_bytes=10_000)

    def chunks() -> Iterator[bytes]:
        yield b'{"display_name": "'
        for _ in range(1000):
            yield b"n" * 1000
        yield b'"}'

    r = client.post(f"{PREFIX}/sessions", content=chunks(), headers=JSON_TYPE)
    assert r.status_code == 413
    assert "10000 bytes (max_json_bytes)" in r.json()["detail"]
    assert r.headers["connection"] == "close"
    still_serving(client)


def test_the_json_limit_is_configurable(make_client: ClientFactory) -> None:
    client = make_client(max_json_bytes=100)
    r = client.post(f"{PREFIX}/sessions", json={"display_name": "n" * 200})
    assert r.status_code == 413
    assert client.post(f"{PREFIX}/sessions", json={"display_name": "short"}).status_code == 201


def test_datasets_keep_the_upload_limit(make_client: ClientFactory) -> None:
    client = make_client(max_json_bytes=1000)
    frame = pd.DataFrame({"text": [f"row {i}" for i in range(2000)]})
    payload = DataSource("big", tables={"t": frame}).to_json()
    assert len(payload) > 1000
    r = client.post(f"{M}/data/from-json", content=payload, headers=JSON_TYPE)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "route, body",
    [
        (f"{PREFIX}/sessions", '{"display_name": "x", "deep": %s}'),
        (
            f"{M}/scenarios",
            '{"tag": "t", "dataset_key": "Master data", "algorithm": "Instant", '
            '"parameters": {}, "data_params": %s}',
        ),
        (f"{M}/scenarios", "%s"),
    ],
)
@pytest.mark.parametrize("levels", [65, 100_000])
def test_deep_json_is_400_naming_the_limit(
    client: TestClient, route: str, body: str, levels: int
) -> None:
    r = client.post(route, content=body % nested(levels), headers=JSON_TYPE)
    assert r.status_code == 400
    assert "max_json_depth" in r.json()["detail"]
    still_serving(client)


def test_json_within_the_depth_passes_on(client: TestClient) -> None:
    # 64 levels in all: the check lets it through, the route's validation answers.
    r = client.post(
        f"{PREFIX}/sessions",
        content='{"display_name": "x", "deep": ' + nested(63) + "}",
        headers=JSON_TYPE,
    )
    assert r.status_code == 422
    assert "max_json_depth" not in r.text


def test_the_depth_limit_is_configurable(make_client: ClientFactory) -> None:
    client = make_client(max_json_depth=2)
    r = client.post(f"{PREFIX}/sessions", content='{"display_name": {"a": []}}', headers=JSON_TYPE)
    assert r.status_code == 400
    assert "more than 2 levels" in r.json()["detail"]
    r = client.post(f"{PREFIX}/sessions", json={"display_name": "[[[[{{{{"})
    assert r.status_code == 201


def test_json_depth_skips_strings() -> None:
    assert json_depth(b"1") == 0
    assert json_depth(b'{"a": [1, {"b": []}]}') == 4
    assert json_depth(b'["[[[[", "\\"[[[", "\\\\"]') == 1
    assert json_depth(nested(1000).encode(), stop_after=10) == 11


@pytest.mark.parametrize("field", ["max_json_bytes", "max_json_depth"])
def test_the_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        ApiConfiguration(**{field: 0})


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("NaN", "holds NaN"),
        ("Infinity", "holds Infinity"),
        ("-Infinity", "holds -Infinity"),
        ("1e400", "out of a double's range"),
        ("-1e400", "out of a double's range"),
        ("1" + "0" * 400, "out of the 64-bit range"),
        (str(2**63), "out of the 64-bit range"),
        ("1" + "0" * 5000, "out of the 64-bit range"),
    ],
)
def test_json_values_out_of_range_are_400(client: TestClient, value: str, problem: str) -> None:
    body = (
        '{"tag": "t", "dataset_key": "Master data", "algo_name": "Instant", '
        '"parameters": {"n": ' + value + "}}"
    )
    r = client.post(f"{M}/scenarios", content=body, headers=JSON_TYPE)
    assert r.status_code == 400, r.text
    assert problem in r.json()["detail"]
    assert len(r.text) < 400
    still_serving(client)


def test_a_repeated_key_is_400(client: TestClient) -> None:
    body = '{"display_name": "a", "display_name": "b"}'
    r = client.post(f"{PREFIX}/sessions", content=body, headers=JSON_TYPE)
    assert r.status_code == 400
    assert "repeats the key 'display_name'" in r.json()["detail"]
    still_serving(client)


def test_values_in_range_pass_on(client: TestClient) -> None:
    body = '{"display_name": "x", "n": [' + str(2**63 - 1) + ', 1e300, -1.5, {"a": 1, "b": 1}]}'
    r = client.post(f"{PREFIX}/sessions", content=body, headers=JSON_TYPE)
    # The session model refuses the extra field: the value checks let it through.
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "n"]


# -- issue 21: every check is linear, and hostile shapes are refused before parsing -----


@pytest.mark.timeout(20)
def test_a_key_repeated_at_the_end_of_1_mib_is_400_at_once(make_client: ClientFactory) -> None:
    """Finding the repeated key was quadratic (180 s for 1 MiB). `max_json_nodes`
    is raised so that the key check itself is what answers."""
    client = make_client(max_json_nodes=1_000_000)
    keys = ", ".join(f'"k{i}": 0' for i in range(80_000))
    body = ("{" + keys + ', "k79999": 1}').encode()
    assert len(body) < 1024 * 1024
    r = client.post(f"{PREFIX}/sessions", content=body, headers=JSON_TYPE)
    assert r.status_code == 400
    assert "'k79999'" in r.json()["detail"]


@pytest.mark.timeout(20)
def test_an_unterminated_string_of_escaped_quotes_is_scanned_in_linear_time() -> None:
    """The string scan restarted at every quote of an unterminated string (19.8 s
    for 48 KB); 1 MiB now takes one pass."""
    body = b'{"a": "' + b'\\"' * 500_000
    assert json_structure(body) == (1, 2)  # the object and its key
    assert json_depth(b'["\\\\", "\\\\\\"]]]", [[]]]') == 3
    assert json_depth(b'"\\') == 0


def test_json_structure_counts_arrays_objects_and_keys() -> None:
    assert json_structure(b'{"a": [1, {"b": []}], "c:": "{"}') == (4, 7)
    assert json_structure(b"7") == (0, 0)


def test_too_many_nodes_is_400_naming_the_limit(make_client: ClientFactory) -> None:
    client = make_client(max_json_nodes=10)
    r = client.post(f"{PREFIX}/sessions", content="[" + "[]," * 10 + "[]]", headers=JSON_TYPE)
    assert r.status_code == 400
    assert "max_json_nodes" in r.json()["detail"]
    assert client.post(f"{PREFIX}/sessions", json={"display_name": "ok"}).status_code == 201


def test_a_422_lists_at_most_50_errors(client: TestClient) -> None:
    body = {"display_name": "x", **{f"unknown{i}": 0 for i in range(500)}}
    r = client.post(f"{PREFIX}/sessions", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert len(detail) == 51
    assert detail[-1]["msg"] == "450 more errors not listed"
