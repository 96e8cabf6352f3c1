"""Hostile input over HTTP: each answered with a 4xx (or a failed ETL) naming the
problem, and the server still serving afterwards."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_data import Column, Schema
from tests import hostile

from .conftest import PREFIX, ClientFactory, api_config

M = f"{PREFIX}/sessions/main"
ITEMS = Schema("sku_data", extension="csv", columns=[Column("sku", "string")], required=False)
STOCK = Schema(
    "inventory",
    extension="xlsx",
    sheets={"stock": [Column("sku", "string"), Column("quantity", "integer")]},
    required=False,
)


@pytest.fixture
def etl_client(make_client: ClientFactory) -> TestClient:
    return make_client(schemas=[ITEMS, STOCK], max_upload_files=3, max_file_bytes=50_000)


def etl(client: TestClient, *files: tuple[str, bytes]) -> httpx.Response:
    return client.post(
        f"{M}/etl",
        data={"dataset_name": "up"},
        files=[("files", (name, content, "application/octet-stream")) for name, content in files],
    )


def etl_raw(client: TestClient, name: str, content: bytes) -> httpx.Response:
    """A multipart upload whose filename goes out byte for byte (httpx would
    percent-encode control characters)."""
    boundary = b"hostile-boundary"
    body = b"".join(
        [
            b"--" + boundary + b'\r\nContent-Disposition: form-data; name="dataset_name"\r\n\r\n',
            b"up\r\n--" + boundary + b"\r\n",
            b'Content-Disposition: form-data; name="files"; filename="',
            name.encode("utf-8"),
            b'"\r\nContent-Type: text/csv\r\n\r\n',
            content,
            b"\r\n--" + boundary + b"--\r\n",
        ]
    )
    return client.post(
        f"{M}/etl",
        content=body,
        headers={"content-type": "multipart/form-data; boundary=" + boundary.decode()},
    )


def still_serving(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    assert etl(client, ("sku_data.csv", b"sku\nA\n")).json()["success"] is True


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../sku_data.csv", "outside its folder"),
        ("/etc/sku_data.csv", "absolute path"),
        ("C:\\Windows\\sku_data.csv", "absolute path"),
        ("\\\\server\\share\\sku_data.csv", "absolute path"),
        ("sku\x01data.csv", "control characters"),
        ("sku_data.csv\x00.xlsx", "control characters"),
        ("a" * 1000 + ".csv", "over 255 characters"),
        # the multipart parser refuses a part header this long before we see it
        ("a" * 10_000 + ".csv", "Maximum header size exceeded (a part's headers, its filename"),
    ],
)
def test_hostile_upload_names_are_400(etl_client: TestClient, name: str, problem: str) -> None:
    r = etl_raw(etl_client, name, b"sku\nA\n")
    assert r.status_code == 400, r.text
    assert problem in r.json()["detail"]
    assert len(r.text) < 400
    still_serving(etl_client)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("inventory.xlsx", hostile.far_cell_workbook("XFD1048576"), "max_table_cells"),
        ("inventory.xlsx", hostile.far_cell_workbook("ZZ100000"), "max_table_cells"),
        ("inventory.xlsx", hostile.declared_dimension_workbook(), "max_table_cells"),
        ("inventory.xlsx", hostile.bomb_workbook(4 * 1024 * 1024), "max_compression_ratio"),
        ("inventory.xlsx", b"not a zip at all", "not a zip archive"),
        ("sku_data.csv", b"\x00\x01\x02binary\xff" * 10, "binary file"),
        ("sku_data.csv", b"sku\n" + b"x" * 40_000 + b"\n", "max_cell_chars"),
    ],
)
def test_hostile_files_fail_the_etl_naming_the_problem(
    make_client: ClientFactory, name: str, content: bytes, problem: str
) -> None:
    client = make_client(schemas=[ITEMS, STOCK], max_cell_chars=1000)
    r = etl(client, (name, content))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is False
    assert any(problem in m["message"] for m in body["messages"]), body["messages"]
    assert len(r.text) < 2000
    still_serving(client)


def test_too_many_files_is_400(etl_client: TestClient) -> None:
    files = [(f"f{i}.csv", b"a\n1\n") for i in range(4)]
    r = etl(etl_client, *files)
    assert r.status_code == 400
    assert "max_upload_files" in r.json()["detail"]


def test_a_file_over_its_limit_is_413(etl_client: TestClient) -> None:
    r = etl(etl_client, ("sku_data.csv", b"sku\n" + b"A\n" * 30_000))
    assert r.status_code == 413
    assert "max_file_bytes" in r.json()["detail"]
    still_serving(etl_client)


def test_an_oversized_chunked_body_is_413_with_connection_close(
    make_client: ClientFactory,
) -> None:
    client = make_client(max_upload_bytes=10_000)

    def chunks() -> object:
        for _ in range(100):
            yield b"x" * 1000

    r = client.post(
        f"{M}/data/from-json", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert r.headers["connection"] == "close"


def test_uploads_in_flight_are_bounded_across_requests() -> None:
    app = ApiLauncher.build(api_config(max_upload_bytes=10_000, max_uploads_in_flight_bytes=15_000))
    release = asyncio.Event()
    entered = asyncio.Event()

    async def slow_body(scope: object, receive: object, send: object) -> None:
        pass

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

            async def body() -> object:
                entered.set()
                await release.wait()
                yield b"{}"

            first = asyncio.create_task(
                client.post(
                    f"{M}/data/from-json",
                    content=body(),
                    headers={"content-type": "application/json", "content-length": "8000"},
                )
            )
            await entered.wait()
            second = await client.post(
                f"{M}/data/from-json",
                content=b"x" * 8000,
                headers={"content-type": "application/json"},
            )
            release.set()
            await first
            assert second.headers["retry-after"]
            assert "max_uploads_in_flight_bytes" in second.json()["detail"]
            third = await client.get("/health")
            return [second.status_code, third.status_code]

    assert asyncio.run(scenario()) == [503, 200]


def test_a_huge_name_is_not_echoed_in_the_422(client: TestClient) -> None:
    r = client.post(f"{PREFIX}/sessions", json={"display_name": 12, "x": "y" * 1_000_000})
    assert r.status_code in (400, 422)
    r = client.post(f"{PREFIX}/sessions", json=["z" * 1_000_000])
    assert r.status_code == 422
    assert len(r.text) < 1000
    r = client.post(f"{PREFIX}/sessions", json={"display_name": "n" * 1_000_000})
    assert r.status_code in (400, 422)
    assert len(r.text) < 1000


def test_uploaded_formulas_are_stored_as_text(etl_client: TestClient) -> None:
    formula = b'<c r="A2"><f>CONCAT("A02-", "B01")</f><v>A02-B01</v></c>'
    sheet = hostile.sheet_xml([hostile.HEADER, (2, [formula, hostile.cell("B2", "4")])])
    r = etl(
        etl_client,
        ("inventory.xlsx", hostile.workbook(sheet)),
        ("sku_data.csv", b'sku\n=1+1\n=HYPERLINK("http://x")\n'),
    )
    assert r.json()["success"] is True, r.text
    stock = etl_client.get(f"{M}/data/up/tables/stock/frame").json()["rows"]
    assert stock == [{"sku": '=CONCAT("A02-", "B01")', "quantity": 4}]
    items = etl_client.get(f"{M}/data/up/tables/sku_data/frame").json()["rows"]
    assert [row["sku"] for row in items] == ["=1+1", '=HYPERLINK("http://x")']
