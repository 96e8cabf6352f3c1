"""Data routes, the ETL upload, uploads' checks and size limit, table frames."""

from __future__ import annotations

import io
import json

import jsonschema
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_data import Column, DataSource, Schema
from tests.fixtures import TABULAR_FRAME_V1_SCHEMA, fixture_file

from .conftest import PREFIX, ClientFactory

M = f"{PREFIX}/sessions/main"
SCHEMA_FILE = fixture_file(TABULAR_FRAME_V1_SCHEMA)
ITEMS = Schema(
    "items",
    extension="csv",
    columns=[Column("sku", "string", primary_key=True), Column("qty", "integer", nullable=False)],
)


@pytest.fixture
def etl_client(make_client: ClientFactory) -> TestClient:
    return make_client(schemas=[ITEMS], max_upload_bytes=64 * 1024)


def upload(client: TestClient, name: str, content: bytes, dataset: str = "up") -> object:
    return client.post(
        f"{M}/etl", data={"dataset_name": dataset}, files=[("files", (name, content, "text/csv"))]
    )


def test_list_get_delete(client: TestClient) -> None:
    assert client.get(f"{M}/data").json() == {"keys": ["Master data"]}
    r = client.get(f"{M}/data/Master data")
    assert r.status_code == 200
    data = DataSource.from_json(r.content)
    assert data.get_table("items")["qty"].tolist() == [1, 2, 3]
    assert client.get(f"{M}/data/nope").status_code == 404
    assert client.delete(f"{M}/data/nope").status_code == 404
    assert client.delete(f"{M}/data/Master data").status_code == 204
    assert client.get(f"{M}/data").json() == {"keys": []}


def test_delete_in_use_is_409(client: TestClient) -> None:
    client.post(
        f"{M}/scenarios", json={"tag": "u", "dataset_key": "Master data", "algo_name": "Instant"}
    )
    r = client.delete(f"{M}/data/Master data")
    assert r.status_code == 409 and "u" in r.json()["detail"]
    assert client.get(f"{M}/data").json() == {"keys": ["Master data"]}


def test_derive(client: TestClient) -> None:
    r = client.post(f"{M}/data/Master data/derive", json={"new_key": "copy"})
    assert r.status_code == 201 and r.json() == {"keys": ["Master data", "copy"]}
    assert client.post(f"{M}/data/Master data/derive", json={"new_key": "copy"}).status_code == 409
    assert client.post(f"{M}/data/nope/derive", json={"new_key": "x"}).status_code == 404
    assert client.post(f"{M}/data/Master data/derive", json={}).status_code == 422


def test_from_json(client: TestClient) -> None:
    payload = DataSource("posted", tables={"t": pd.DataFrame({"a": [1, None]})}).to_json()
    r = client.post(
        f"{M}/data/from-json", content=payload, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 201 and r.json() == {"keys": ["Master data", "posted"]}
    assert (
        client.post(
            f"{M}/data/from-json", content=payload, headers={"Content-Type": "application/json"}
        ).status_code
        == 409
    )
    back = DataSource.from_json(client.get(f"{M}/data/posted").content)
    assert back.get_table("t")["a"].isna().tolist() == [False, True]
    for bad in (b"", b"{oops", b"[1, 2]", b'{"tables": 3}'):
        r = client.post(
            f"{M}/data/from-json", content=bad, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400, bad
        assert r.json()["detail"]


def test_etl_success_and_failure(etl_client: TestClient) -> None:
    r = upload(etl_client, "items.csv", b"sku;qty\nA;1\nB;2\n")
    assert r.status_code == 200
    body = r.json()
    assert body["dataset_name"] == "up" and body["success"] is True
    assert body["keys"] == ["Master data", "up"]
    # A failing ETL answers success false and keeps the older dataset.
    r = upload(etl_client, "items.csv", b"sku,qty\nA,1\nA,x\n")
    body = r.json()
    assert r.status_code == 200 and body["success"] is False
    assert {m["severity"] for m in body["messages"]} & {"error", "critical"}
    kept = DataSource.from_json(etl_client.get(f"{M}/data/up").content)
    assert kept.get_table("items")["qty"].tolist() == [1, 2]


def test_etl_error_rows(etl_client: TestClient) -> None:
    cases = [
        ("items.txt", 400, "extension"),
        ("../items.csv", 400, "outside"),
        ("/etc/items.csv", 400, "absolute"),
        ("C:\\data\\items.csv", 400, "absolute"),
        (".csv", 400, "empty name"),
    ]
    for name, status, word in cases:
        r = upload(etl_client, name, b"sku,qty\nA,1\n")
        assert r.status_code == status, name
        assert word in r.json()["detail"], (name, r.json())
    # A relative folder prefix is dropped: the last component is the name.
    for name in ("dir/items.csv", "dir\\items.csv"):
        assert upload(etl_client, name, b"sku,qty\nA,1\n").json()["success"] is True
    # A missing dataset_name is a validation error naming it.
    r = etl_client.post(f"{M}/etl", files=[("files", ("items.csv", b"a", "text/csv"))])
    assert r.status_code == 422
    assert (
        etl_client.post(
            f"{PREFIX}/sessions/nope/etl",
            data={"dataset_name": "x"},
            files=[("files", ("items.csv", b"a", "text/csv"))],
        ).status_code
        == 404
    )


@pytest.mark.parametrize("files", [None, [("other", ("items.csv", b"sku,qty\nA,1\n", "text/csv"))]])
def test_etl_without_files_is_400(
    etl_client: TestClient, files: list[tuple[str, tuple[str, bytes, str]]] | None
) -> None:
    """The seed's table: 400 "No files uploaded" (FastAPI alone answered 422)."""
    r = etl_client.post(f"{M}/etl", data={"dataset_name": "x"}, files=files)
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("No files uploaded")
    assert "x" not in etl_client.get(f"{M}/data").json()["keys"]
    # With nothing at all sent, the other missing field is named too.
    r = etl_client.post(f"{M}/etl", content=b"")
    assert r.status_code == 400 and "dataset_name" in r.json()["detail"]


def test_openapi_declares_the_400_of_an_etl_without_files(etl_client: TestClient) -> None:
    paths = etl_client.app.openapi()["paths"]  # type: ignore[attr-defined]
    answers = paths[f"{PREFIX}/sessions/{{session_id}}/etl"]["post"]["responses"]
    assert answers["400"]["description"].startswith("No files uploaded")
    assert "422" in answers  # a missing dataset_name still is one


def test_upload_limit_is_413(etl_client: TestClient) -> None:
    big = b"sku,qty\n" + b"A,1\n" * 20_000  # 80 kB against a 64 kB limit
    r = upload(etl_client, "items.csv", big)
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    assert etl_client.get(f"{M}/data").json() == {"keys": ["Master data"]}


def test_tables_and_frame(client: TestClient) -> None:
    r = client.get(f"{M}/data/Master data/tables")
    assert r.json() == {"tables": [{"name": "items", "rows": 3, "columns": ["qty"]}]}
    frame = client.get(f"{M}/data/Master data/tables/items/frame", params={"offset": 1, "limit": 1})
    body = frame.json()
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(body)
    assert body["rows"] == [{"qty": 2}] and body["columns"] == ["qty"]
    assert client.get(f"{M}/data/Master data/tables/nope/frame").status_code == 404
    r = client.get(f"{M}/data/Master data/tables/items/frame", params={"limit": 0})
    assert r.status_code == 422


def test_kpi_frame_validates(client: TestClient) -> None:
    body = client.get(f"{M}/kpis/frame").json()
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(body)


def test_excel_upload(make_client: ClientFactory) -> None:
    schema = Schema(
        "stock",
        extension="xlsx",
        sheets={
            "a": [Column("sku", "string", primary_key=True)],
            "b": [Column("n", "integer")],
        },
    )
    client = make_client(schemas=[schema])
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"sku": ["A", "B"]}).to_excel(writer, sheet_name="a", index=False)
        pd.DataFrame({"n": [1, 2, 3]}).to_excel(writer, sheet_name="b", index=False)
    r = client.post(
        f"{M}/etl",
        data={"dataset_name": "x"},
        files=[("files", ("stock.xlsx", buffer.getvalue(), "application/octet-stream"))],
    )
    assert r.json()["success"] is True, r.json()
    tables = client.get(f"{M}/data/x/tables").json()["tables"]
    assert {(t["name"], t["rows"]) for t in tables} == {("a", 2), ("b", 3)}
