"""A scenario archive: downloaded from one app, imported into another (separate
stores), with the same fingerprint, KPIs, dataset digest and result tables; and the
archives an import refuses."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import orjson
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_data import DataSource
from tests.core.conftest import Instant
from tests.core.test_core_scenario_manager import Tabled

from .conftest import PREFIX, ClientFactory
from .test_api_scenarios import poll

M = f"{PREFIX}/sessions/main"


def complete(client: TestClient, tag: str = "base", **extra: Any) -> dict[str, Any]:
    body = {"tag": tag, "dataset_key": "Master data", "algo_name": "Tabled"} | extra
    r = client.post(f"{M}/scenarios", json=body)
    assert r.status_code == 201, r.text
    scenario_id = r.json()["id"]
    assert client.post(f"{M}/scenarios/{scenario_id}/run").status_code == 202
    assert poll(client, scenario_id)["status"] == "complete"
    done: dict[str, Any] = client.get(f"{M}/scenarios/{scenario_id}").json()
    return done


def archive_of(client: TestClient, scenario_id: str) -> bytes:
    r = client.get(f"{M}/scenarios/{scenario_id}/archive")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    return r.content


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def members_of(payload: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def post_zip(client: TestClient, payload: bytes, **params: str) -> Any:
    return client.post(
        f"{M}/scenarios/import",
        content=payload,
        headers={"Content-Type": "application/zip"},
        params=params,
    )


def test_round_trip_between_two_apps(make_client: ClientFactory) -> None:
    source = make_client(algorithms=[Instant, Tabled])
    target = make_client(algorithms=[Instant, Tabled])
    original = complete(source, "base", algo_params={"count": 3}, seed=7)
    r = source.get(f"{M}/scenarios/{original['id']}/archive")
    assert 'filename="base.zip"' in r.headers["content-disposition"]
    payload = r.content
    members = members_of(payload)
    assert set(members) == {"manifest.json", "dataset.json", "result.json", "tables/lines.json"}
    manifest = orjson.loads(members["manifest.json"])
    assert manifest["format_version"] == 1 and manifest["tag"] == "base"
    assert manifest["fingerprint"] == original["fingerprint"] and manifest["seed"] == 7

    # A multipart upload, into a session of another app with its own store.
    r = target.post(
        f"{M}/scenarios/import", files={"file": ("base.zip", payload, "application/zip")}
    )
    assert r.status_code == 201, r.text
    imported = r.json()
    assert imported["status"] == "complete" and imported["tag"] == "base"
    assert imported["fingerprint"] == original["fingerprint"]
    assert imported["kpis"] == original["kpis"] and imported["result"] == original["result"]
    assert imported["algorithm"] == original["algorithm"] and imported["seed"] == 7
    assert imported["dataset_digest"] == original["dataset_digest"]
    assert imported["lineage"]["dataset_digest"] == original["lineage"]["dataset_digest"]
    base = f"{M}/scenarios/{imported['id']}/result/tables/lines/frame"
    mine = target.get(base).json()
    theirs = source.get(f"{M}/scenarios/{original['id']}/result/tables/lines/frame").json()
    mine.pop("source"), theirs.pop("source")
    assert mine == theirs

    # The same archive again: a taken tag is 409; another tag reuses the dataset
    # version with the same digest (no new version).
    versions = [
        v["digest"] for v in target.get(f"{M}/data/Master data/versions").json()["versions"]
    ]
    r = post_zip(target, payload)
    assert r.status_code == 409 and "base" in r.json()["detail"]
    r = post_zip(target, payload, tag="again")
    assert r.status_code == 201, r.text
    assert r.json()["fingerprint"] == original["fingerprint"]
    now = target.get(f"{M}/data/Master data/versions").json()["versions"]
    assert [v["digest"] for v in now] == versions == [original["dataset_digest"]]
    # The imported scenario archives again to the same manifest fields.
    again = orjson.loads(members_of(archive_of(target, r.json()["id"]))["manifest.json"])
    assert again["fingerprint"] == manifest["fingerprint"] and again["kpis"] == manifest["kpis"]


def test_only_complete_scenarios_are_archived(make_client: ClientFactory) -> None:
    client = make_client(algorithms=[Instant, Tabled])
    body = {"tag": "new", "dataset_key": "Master data", "algo_name": "Tabled"}
    scenario_id = client.post(f"{M}/scenarios", json=body).json()["id"]
    r = client.get(f"{M}/scenarios/{scenario_id}/archive")
    assert r.status_code == 409 and "not complete" in r.json()["detail"]
    assert client.get(f"{M}/scenarios/nope/archive").status_code == 404


@pytest.fixture
def good(make_client: ClientFactory) -> tuple[TestClient, dict[str, bytes]]:
    client = make_client(algorithms=[Instant, Tabled])
    payload = archive_of(client, complete(client)["id"])
    return client, members_of(payload)


def with_manifest(members: dict[str, bytes], **changes: Any) -> bytes:
    manifest = orjson.loads(members["manifest.json"]) | changes
    return zip_of(members | {"manifest.json": orjson.dumps(manifest)})


def test_hostile_archives(good: tuple[TestClient, dict[str, bytes]]) -> None:
    client, members = good
    cases: list[tuple[bytes, int, str]] = [
        (b"not a zip at all", 400, "not a zip"),
        (b"", 400, "not a zip"),
        (zip_of({k: v for k, v in members.items() if k != "manifest.json"}), 400, "manifest"),
        (zip_of({k: v for k, v in members.items() if k != "dataset.json"}), 400, "dataset.json"),
        (zip_of(members | {"../evil.json": b"{}"}), 400, "unexpected member"),
        (zip_of(members | {"manifest.json": b"[1"}), 400, "manifest.json is not JSON"),
        (zip_of(members | {"dataset.json": b"{}"}), 400, "dataset.json"),
        (with_manifest(members, format_version=99), 400, "format_version"),
        (with_manifest(members, format="other"), 400, "format"),
        (with_manifest(members, algorithm={"name": "Nope", "version": "1"}), 400, "Nope"),
        (with_manifest(members, kpis={"Total": "x"}), 400, "KPI"),
        (with_manifest(members, seed="7"), 400, "seed"),
        (with_manifest(members, parameters={"nope": 1}), 400, "nope"),
    ]
    for payload, status, words in cases:
        r = post_zip(client, payload, tag="other")
        assert r.status_code == status, (words, r.text)
        assert words in r.json()["detail"], r.text


def test_inflated_sizes_are_counted_not_trusted(make_client: ClientFactory) -> None:
    client = make_client(algorithms=[Instant, Tabled], max_file_bytes=64 * 1024)
    # 10 MB of zeros deflates to about 10 KB: under the upload limit, over it inflated.
    bomb = zip_of({"manifest.json": b"{}", "dataset.json": b"0" * 10_000_000})
    assert len(bomb) < 64 * 1024
    r = post_zip(client, bomb)
    assert r.status_code == 413 and "dataset.json" in r.json()["detail"]
    r = post_zip(client, b"x" * (65 * 1024))
    assert r.status_code == 413


def test_clients_download_and_import(make_client: ClientFactory) -> None:
    import asyncio

    import httpx

    from algomancy_api import AlgomancyClient
    from algomancy_api.client import AsyncAlgomancyClient

    source = make_client(algorithms=[Instant, Tabled])
    target = make_client(algorithms=[Instant, Tabled])
    original = complete(source, "shared")
    payload = AlgomancyClient(http=source).download_archive(original["id"])
    imported = AlgomancyClient(http=target).import_archive(payload)
    assert imported.tag == "shared" and imported.fingerprint == original["fingerprint"]

    async def drive() -> None:
        transport = httpx.ASGITransport(app=target.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            api = AsyncAlgomancyClient(http=http)
            again = await api.download_archive(imported.id)
            copy = await api.import_archive(again, tag="copy")
            assert copy.tag == "copy" and copy.fingerprint == original["fingerprint"]
            assert copy.status == "complete"

    asyncio.run(drive())


def test_a_directory_that_understates_sizes_is_not_believed(make_client: ClientFactory) -> None:
    client = make_client(algorithms=[Instant, Tabled], max_file_bytes=64 * 1024)
    bomb = bytearray(zip_of({"manifest.json": b"{}", "dataset.json": b"0" * 10_000_000}))
    # Claim 10 bytes for every member, in each local header and the central directory.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = bomb.find(signature)
        while start != -1:
            bomb[start + offset : start + offset + 4] = (10).to_bytes(4, "little")
            start = bomb.find(signature, start + 4)
    r = post_zip(client, bytes(bomb))
    # zipfile stops at the claimed size, and the checksum then tells the lie.
    assert r.status_code == 400 and "'dataset.json' is unreadable" in r.json()["detail"], r.text


def test_a_taken_tag_stores_no_dataset_version(good: tuple[TestClient, dict[str, bytes]]) -> None:
    client, members = good
    other = DataSource("Master data", tables={"items": pd.DataFrame({"sku": ["x"], "qty": [1]})})
    payload = zip_of(members | {"dataset.json": other.to_json_bytes()})
    before = client.get(f"{M}/data/Master data/versions").json()["versions"]
    r = post_zip(client, payload)
    assert r.status_code == 409 and "base" in r.json()["detail"], r.text
    assert client.get(f"{M}/data/Master data/versions").json()["versions"] == before
    r = post_zip(client, payload, tag="fresh")
    assert r.status_code == 201, r.text
    after = client.get(f"{M}/data/Master data/versions").json()["versions"]
    assert (
        len(after) == len(before) + 1
        and r.json()["dataset_version"] == max(v["version"] for v in after) == 2
    )
