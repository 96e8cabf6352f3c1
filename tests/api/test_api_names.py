"""A name's length limit is the configured `max_name_chars`, on every route that
takes a name: the wire models state no limit of their own."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from algomancy_data import Column, Schema

from .conftest import PREFIX, ClientFactory

S = f"{PREFIX}/sessions"
M = f"{S}/main"
ITEMS = Schema("items", extension="csv", columns=[Column("sku", "string", primary_key=True)])
LONG = "n" * 250

Send = Callable[[TestClient, str], httpx.Response]


def _create_session(client: TestClient, name: str) -> httpx.Response:
    return client.post(S, json={"display_name": name})


def _copy_session(client: TestClient, name: str) -> httpx.Response:
    return client.post(f"{M}/copy", json={"new_display_name": name})


def _rename_session(client: TestClient, name: str) -> httpx.Response:
    return client.patch(M, json={"display_name": name})


def _create_scenario(client: TestClient, name: str) -> httpx.Response:
    body = {"tag": name, "dataset_key": "Master data", "algo_name": "Instant"}
    return client.post(f"{M}/scenarios", json=body)


def _derive(client: TestClient, name: str) -> httpx.Response:
    return client.post(f"{M}/data/Master data/derive", json={"new_key": name})


def _etl(client: TestClient, name: str) -> httpx.Response:
    files = [("files", ("items.csv", b"sku\nA\n", "text/csv"))]
    return client.post(f"{M}/etl", data={"dataset_name": name}, files=files)


SENDS: dict[str, Send] = {
    "display_name": _create_session,
    "new_display_name": _copy_session,
    "rename": _rename_session,
    "tag": _create_scenario,
    "new_key": _derive,
    "dataset_name": _etl,
}


@pytest.mark.parametrize("field", sorted(SENDS))
def test_a_name_under_a_raised_limit_is_taken(make_client: ClientFactory, field: str) -> None:
    client = make_client(max_name_chars=300, schemas=[ITEMS])
    r = SENDS[field](client, LONG)
    assert r.status_code in (200, 201), r.text
    assert LONG in r.text


@pytest.mark.parametrize("field", sorted(SENDS))
def test_a_name_over_the_default_limit_is_400_naming_it(
    make_client: ClientFactory, field: str
) -> None:
    client = make_client(schemas=[ITEMS])
    r = SENDS[field](client, LONG)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert "at most 200 characters (max_name_chars)" in detail and "250" in detail


def test_the_openapi_document_states_no_length_the_configuration_can_change(
    make_client: ClientFactory,
) -> None:
    schemas = make_client().get("/openapi.json").json()["components"]["schemas"]
    for model, field in [
        ("CreateSession", "display_name"),
        ("CopySession", "new_display_name"),
        ("RenameSession", "display_name"),
        ("CreateScenario", "tag"),
        ("DeriveDataset", "new_key"),
    ]:
        declared = schemas[model]["properties"][field]
        assert "maxLength" not in declared and declared["minLength"] == 1, model
