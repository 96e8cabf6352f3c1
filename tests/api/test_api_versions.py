"""Dataset versions, lineage and the run fingerprint, through HTTP on every store."""

from __future__ import annotations

import io
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_core import BaseAlgorithm, BaseResult, RunContext
from algomancy_data import Column, DataSource, Schema, content_digest
from tests.core.conftest import CountParameters, Instant
from tests.pg import postgres_server, postgres_url  # noqa: F401
from tests.polling import scenario_status

from .conftest import PREFIX, ClientFactory

M = f"{PREFIX}/sessions/main"
JSON_TYPE = {"Content-Type": "application/json"}
COLUMNS = [
    Column("sku", "string", primary_key=True),
    Column("qty", "integer", nullable=False),
    Column("day", "date"),
]
#: The same table as a CSV file or as a sheet of a workbook; either may be sent.
CSV = Schema("items", extension="csv", columns=COLUMNS, required=False)
XLSX = Schema("book", extension="xlsx", sheets={"items": COLUMNS}, required=False)


class Seeded(BaseAlgorithm):
    """Sums the quantities, each times a random draw from `ctx.seed`."""

    name = "Seeded"
    parameters = CountParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        draws = random.Random(ctx.seed)
        qty = data.get_table("items")["qty"]
        total = sum(int(q) * draws.random() for q in qty)
        return BaseResult({"total": total, "count": self.params.count, "seed": ctx.seed})


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def versioned(
    request: pytest.FixtureRequest, make_client: ClientFactory, tmp_path: Path
) -> Callable[..., TestClient]:
    """A client factory on each store, with the items schemas and `Seeded`."""

    def make(**overrides: Any) -> TestClient:
        options: dict[str, Any] = {
            "schemas": [CSV, XLSX],
            "algorithms": [Instant, Seeded],
        }
        if request.param == "sqlite":
            options |= {"has_persistent_state": True, "data_path": str(tmp_path / "state")}
        elif request.param == "postgres":
            options["database_url"] = request.getfixturevalue("postgres_url")
        return make_client(**(options | overrides))

    return make


def frame(qty: list[int]) -> pd.DataFrame:
    days = [f"2024-01-{n + 1:02d}" for n in range(len(qty))]
    return pd.DataFrame({"sku": [f"S{n}" for n in range(len(qty))], "qty": qty, "day": days})


def upload_csv(client: TestClient, name: str, qty: list[int]) -> dict[str, Any]:
    content = frame(qty).to_csv(index=False).encode()
    r = client.post(
        f"{M}/etl",
        data={"dataset_name": name},
        files=[("files", ("items.csv", content, "text/csv"))],
    )
    assert r.status_code == 200 and r.json()["success"], r.text
    body: dict[str, Any] = r.json()
    return body


def upload_xlsx(client: TestClient, name: str, qty: list[int]) -> dict[str, Any]:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame(qty).to_excel(writer, sheet_name="items", index=False)
    r = client.post(
        f"{M}/etl",
        data={"dataset_name": name},
        files=[("files", ("book.xlsx", buffer.getvalue(), "application/octet-stream"))],
    )
    assert r.status_code == 200 and r.json()["success"], r.text
    body: dict[str, Any] = r.json()
    return body


def create(client: TestClient, tag: str, dataset: str, **extra: Any) -> dict[str, Any]:
    body = {"tag": tag, "dataset_key": dataset, "algo_name": "Seeded"} | extra
    r = client.post(f"{M}/scenarios", json=body)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def run(client: TestClient, scenario_id: str) -> dict[str, Any]:
    assert client.post(f"{M}/scenarios/{scenario_id}/run").status_code == 202
    path = f"{M}/scenarios/{scenario_id}"
    assert scenario_status(client.get, path, {"complete", "failed"})["status"] == "complete"
    done: dict[str, Any] = client.get(path).json()
    return done


def table_qty(client: TestClient, key: str, version: int | None = None) -> list[int]:
    query = f"?version={version}" if version is not None else ""
    r = client.get(f"{M}/data/{key}{query}")
    assert r.status_code == 200, r.text
    return [int(q) for q in DataSource.from_json(r.content).get_table("items")["qty"]]


def test_a_reupload_keeps_the_data_kpis_and_reruns_of_earlier_scenarios(
    versioned: Callable[..., TestClient],
) -> None:
    client = versioned()
    first = upload_csv(client, "week1", [1, 2, 3])
    assert first["dataset_version"] == 1
    early = create(client, "early", "week1")
    assert (early["dataset_version"], early["dataset_digest"]) == (1, first["dataset_digest"])
    done = run(client, early["id"])
    kpi, result = done["kpis"]["total"]["value"], done["result"]

    second = upload_csv(client, "week1", [2, 4, 6])
    assert second["dataset_version"] == 2
    assert second["dataset_digest"] != first["dataset_digest"]
    # The earlier scenario keeps its version, its KPIs and its data.
    kept = client.get(f"{M}/scenarios/{early['id']}").json()
    assert kept["dataset_version"] == 1 and kept["kpis"]["total"]["value"] == kpi
    assert table_qty(client, "week1", 1) == [1, 2, 3]
    assert table_qty(client, "week1") == [2, 4, 6]
    # Its re-run reads the same version with the same seed: the same numbers exactly.
    rerun = run(client, early["id"])
    assert rerun["result"] == result and rerun["kpis"]["total"]["value"] == kpi
    assert rerun["lineage"]["dataset_version"] == 1 and rerun["lineage"]["executor"] == "thread"
    # A new scenario takes the new data; one may still be created on the old version.
    late = run(client, create(client, "late", "week1")["id"])
    assert late["dataset_version"] == 2
    assert late["result"]["total"] != result["total"]
    again = create(client, "again", "week1", dataset_version=1)
    assert again["fingerprint"] == early["fingerprint"]

    versions = client.get(f"{M}/data/week1/versions").json()["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["scenario_ids"] == [late["id"]] and versions[0]["latest"] is True
    assert versions[1]["scenario_ids"] == [early["id"], again["id"]]
    assert client.get(f"{M}/data").json()["keys"][-1] == "week1"


def test_the_same_content_as_csv_and_as_xlsx_has_one_digest(
    versioned: Callable[..., TestClient],
) -> None:
    client = versioned()
    as_csv = upload_csv(client, "csv", [5, 6, 7])
    as_xlsx = upload_xlsx(client, "xlsx", [5, 6, 7])
    assert as_csv["dataset_digest"] == as_xlsx["dataset_digest"]
    # The same content again adds no version; other content does.
    assert upload_xlsx(client, "csv", [5, 6, 7])["dataset_version"] == 1
    assert upload_xlsx(client, "csv", [5, 6, 8])["dataset_version"] == 2
    assert upload_csv(client, "csv", [5, 6, 7])["dataset_version"] == 3
    versions = client.get(f"{M}/data/csv/versions").json()["versions"]
    assert versions[0]["digest"] == versions[2]["digest"] == as_csv["dataset_digest"]


def test_the_fingerprint_of_identical_runs_is_equal_and_differs_with_any_input(
    versioned: Callable[..., TestClient],
) -> None:
    client = versioned()
    upload_csv(client, "d", [1, 2, 3])
    a = run(client, create(client, "a", "d")["id"])
    b = run(client, create(client, "b", "d")["id"])
    assert a["fingerprint"] and a["fingerprint"] == b["fingerprint"]
    assert a["seed"] == b["seed"] and a["result"] == b["result"]
    lineage = a["lineage"]
    assert lineage["known"] is True and lineage["algorithm"]["name"] == "Seeded"
    assert lineage["algorithm"]["version"].startswith("src-")
    assert lineage["parameters"] == {"count": 3} and lineage["seed"] == a["seed"]
    assert lineage["algomancy_version"] and lineage["dataset_digest"] == a["dataset_digest"]
    different = [
        create(client, "params", "d", algo_params={"count": 4}),
        create(client, "seed", "d", seed=(a["seed"] + 1) % 2**31),
        create(client, "algorithm", "d", algo_name="Instant"),
    ]
    upload_csv(client, "d", [1, 2, 4])
    different.append(create(client, "data", "d"))
    prints = {s["fingerprint"] for s in different} | {a["fingerprint"]}
    assert len(prints) == 5
    found = client.get(f"{M}/scenarios", params={"fingerprint": a["fingerprint"]}).json()
    assert [s["tag"] for s in found] == ["a", "b"]
    summary = client.get(
        f"{M}/scenarios", params={"fingerprint": a["fingerprint"], "view": "summary"}
    ).json()
    assert [s["tag"] for s in summary] == ["a", "b"]
    assert client.get(f"{M}/scenarios", params={"fingerprint": "0" * 64}).json() == []


def test_from_json_and_derive_answer_409_unless_a_new_version_is_asked(
    versioned: Callable[..., TestClient],
) -> None:
    client = versioned()
    document = DataSource("doc", tables={"items": frame([1])}).to_json()
    assert (
        client.post(f"{M}/data/from-json", content=document, headers=JSON_TYPE).status_code == 201
    )
    assert (
        client.post(f"{M}/data/from-json", content=document, headers=JSON_TYPE).status_code == 409
    )
    changed = DataSource("doc", tables={"items": frame([9])}).to_json()
    r = client.post(f"{M}/data/from-json?new_version=true", content=changed, headers=JSON_TYPE)
    assert r.status_code == 201, r.text
    assert table_qty(client, "doc") == [9] and table_qty(client, "doc", 1) == [1]
    derive = f"{M}/data/doc/derive"
    assert client.post(derive, json={"new_key": "copy"}).status_code == 201
    assert client.post(derive, json={"new_key": "copy"}).status_code == 409
    r = client.post(f"{derive}?version=1&new_version=true", json={"new_key": "copy"})
    assert r.status_code == 201, r.text
    assert table_qty(client, "copy") == [1] and table_qty(client, "copy", 1) == [9]
    assert client.get(f"{M}/data/doc?version=7").status_code == 404
    assert client.get(f"{M}/data/doc?version=0").status_code == 422
    r = client.post(
        f"{M}/scenarios",
        json={"tag": "t", "dataset_key": "doc", "algo_name": "Instant", "dataset_version": 7},
    )
    assert r.status_code == 404 and "version 7" in r.json()["detail"]


def test_delete_keeps_the_versions_scenarios_use_and_says_which(
    versioned: Callable[..., TestClient],
) -> None:
    client = versioned()
    upload_csv(client, "d", [1])
    used = create(client, "used", "d")
    upload_csv(client, "d", [2])
    upload_csv(client, "d", [3])
    r = client.delete(f"{M}/data/d")
    assert r.status_code == 200, r.text
    assert r.json() == {"key": "d", "deleted": [2, 3], "remaining": [1]}
    assert client.get(f"{M}/data").json()["keys"][-1] == "d"
    assert table_qty(client, "d") == [1]
    r = client.delete(f"{M}/data/d")
    assert r.status_code == 409 and "used" in r.json()["detail"]
    assert client.delete(f"{M}/scenarios/{used['id']}").status_code == 204
    assert client.delete(f"{M}/data/d").status_code == 204
    assert client.get(f"{M}/data/d/versions").status_code == 404


def test_unused_versions_are_kept_up_to_the_configured_count(
    versioned: Callable[..., TestClient],
) -> None:
    client = versioned(dataset_versions_kept=2)
    upload_csv(client, "d", [1])
    pinned = create(client, "pinned", "d")
    for qty in ([2], [3], [4], [5]):
        upload_csv(client, "d", qty)
    versions = client.get(f"{M}/data/d/versions").json()["versions"]
    assert [v["version"] for v in versions] == [5, 4, 1]
    assert table_qty(client, "d", 1) == [1]
    assert client.get(f"{M}/data/d?version=2").status_code == 404
    assert client.get(f"{M}/scenarios/{pinned['id']}").json()["dataset_version"] == 1


def test_concurrent_reuploads_and_creates_lose_nothing(
    versioned: Callable[..., TestClient],
) -> None:
    client = versioned(dataset_versions_kept=100)
    upload_csv(client, "d", [0])
    errors: list[BaseException] = []
    created: list[dict[str, Any]] = []
    uploads: list[dict[str, Any]] = []

    def uploader(n: int) -> None:
        try:
            uploads.append(upload_csv(client, "d", [n + 1, n]))
        except BaseException as exc:
            errors.append(exc)

    def creator(n: int) -> None:
        try:
            created.append(create(client, f"s{n}", "d"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=uploader, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=creator, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    versions = client.get(f"{M}/data/d/versions").json()["versions"]
    assert sorted(v["version"] for v in versions) == list(range(1, 8))
    assert sorted(u["dataset_version"] for u in uploads) == list(range(2, 8))
    digests = {v["version"]: v["digest"] for v in versions}
    for scenario in created:
        assert digests[scenario["dataset_version"]] == scenario["dataset_digest"]
        data = client.get(f"{M}/data/d?version={scenario['dataset_version']}").content
        assert content_digest(DataSource.from_json(data)) == scenario["dataset_digest"]
    users = sorted(i for v in versions for i in v["scenario_ids"])
    assert users == sorted(s["id"] for s in created)


def test_the_digest_survives_storage_and_ignores_table_order() -> None:
    one = DataSource("a", tables={"x": frame([1, 2]), "y": pd.DataFrame({"n": [1.5]})})
    other = DataSource("b", tables={"y": pd.DataFrame({"n": [1.5]}), "x": frame([1, 2])})
    assert content_digest(one) == content_digest(other)
    assert content_digest(DataSource.from_arrow_bytes(one.to_arrow_bytes())) == content_digest(one)
    assert content_digest(DataSource.from_json(one.to_json())) == content_digest(one)
    changed = DataSource("a", tables={"x": frame([1, 3]), "y": pd.DataFrame({"n": [1.5]})})
    assert content_digest(changed) != content_digest(one)
    renamed = DataSource("a", tables={"x": frame([1, 2]).rename(columns={"qty": "q"})})
    assert content_digest(renamed) != content_digest(DataSource("a", tables={"x": frame([1, 2])}))


def test_a_session_copy_keeps_every_version_and_the_pins(
    versioned: Callable[..., TestClient],
) -> None:
    client = versioned()
    upload_csv(client, "d", [1])
    early = run(client, create(client, "early", "d")["id"])
    upload_csv(client, "d", [2])
    r = client.post(f"{M}/copy", json={"new_display_name": "copy"})
    assert r.status_code == 201, r.text
    copy = f"{PREFIX}/sessions/copy"
    versions = client.get(f"{copy}/data/d/versions").json()["versions"]
    assert [(v["version"], v["digest"]) for v in versions] == [
        (v["version"], v["digest"]) for v in client.get(f"{M}/data/d/versions").json()["versions"]
    ]
    (copied,) = client.get(f"{copy}/scenarios").json()
    assert copied["dataset_version"] == 1 and copied["fingerprint"] == early["fingerprint"]
    assert versions[1]["scenario_ids"] == [copied["id"]]


def test_the_change_feed_says_when_a_version_is_stored_or_dropped(
    versioned: Callable[..., TestClient],
) -> None:
    client = versioned()
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    session_id = sessions.get_session("main").session_id

    def dataset_changes() -> list[tuple[str, dict[str, Any]]]:
        found = sessions.runtime.store.read_changes(0, 1000, session_id)
        return [(c.kind, c.payload["dataset"]) for c in found if c.subject == "d"]

    first = upload_csv(client, "d", [1])
    upload_csv(client, "d", [1])  # identical content: no version, no change
    create(client, "pinned", "d")
    second = upload_csv(client, "d", [2])
    upload_csv(client, "d", [3])
    assert client.delete(f"{M}/data/d").status_code == 200
    assert dataset_changes() == [
        ("dataset.added", {"key": "d", "version": 1, "digest": first["dataset_digest"]}),
        ("dataset.replaced", {"key": "d", "version": 2, "digest": second["dataset_digest"]}),
        ("dataset.replaced", {"key": "d", "version": 3, "digest": ANY}),
        ("dataset.replaced", {"key": "d", "deleted": [2, 3], "remaining": [1]}),
    ]


def test_versions_of_an_earlier_digest_form_keep_it_and_new_uploads_dedupe_after_a_restart(
    versioned: Callable[..., TestClient], request: pytest.FixtureRequest
) -> None:
    # The digest's canonical form changed (algomancy_data.digest, version 2): a
    # version stored before keeps the digest it was stored with; the same content
    # uploaded again gets the new digest once (one new version), and from then on
    # identical uploads add none, after a restart too.
    client = versioned()
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    session_id = sessions.get_session("main").session_id
    probe = upload_csv(client, "probe", [1, 2])
    content = sessions.runtime.store.get_dataset(session_id, "probe")
    earlier = "0" * 63 + "1"  # as stored by the earlier form: never computed again
    sessions.runtime.store.put_dataset(session_id, "d", content, digest=earlier)
    pinned = create(client, "pinned", "d")
    assert pinned["dataset_digest"] == earlier

    again = upload_csv(client, "d", [1, 2])
    assert (again["dataset_version"], again["dataset_digest"]) == (2, probe["dataset_digest"])
    assert upload_csv(client, "d", [1, 2])["dataset_version"] == 2
    if request.node.callspec.params["versioned"] != "memory":
        client.__exit__(None, None, None)
        client = versioned()  # a restart on the same database
        assert upload_csv(client, "d", [1, 2])["dataset_version"] == 2
    versions = client.get(f"{M}/data/d/versions").json()["versions"]
    assert [(v["version"], v["digest"]) for v in versions] == [
        (2, probe["dataset_digest"]),
        (1, earlier),
    ]
    assert client.get(f"{M}/scenarios/{pinned['id']}").json()["dataset_digest"] == earlier
