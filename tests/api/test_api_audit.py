"""The audit trail over HTTP: every write route leaves a record (found by walking the
OpenAPI document), refused writes too, and only administrators read it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_data import Column, DataSource, Schema
from tests.api.conftest import PREFIX, ClientFactory
from tests.core.conftest import Gate
from tests.polling import wait_for

KEYS = {"key-alice": "alice", "key-root": "root"}
ALICE = {"X-API-Key": "key-alice"}
ROOT = {"X-API-Key": "key-root"}
ITEMS = Schema(
    "items",
    extension="csv",
    columns=[Column("sku", "string", primary_key=True), Column("qty", "integer", nullable=False)],
)

#: The audit kind of each write operation. A new write route must be added here
#: (with a way to perform it in `prepare`): the walk fails on one it does not know.
KINDS = {
    "sessions-create_session": "session.create",
    "sessions-copy_session": "session.copy",
    "sessions-rename_session": "session.rename",
    "sessions-delete_session": "session.delete",
    "data-add_from_json": "dataset.add",
    "data-delete_dataset": "dataset.delete",
    "data-derive_dataset": "dataset.derive",
    "data-save_as_master": "dataset.save_as_master",
    "data-run_etl": "dataset.etl",
    "scenarios-create_scenario": "scenario.create",
    "scenarios-delete_scenario": "scenario.delete",
    "scenarios-cancel_scenario": "scenario.cancel",
    "scenarios-reset_scenario": "scenario.reset",
    "scenarios-run_scenario": "scenario.run",
    "decisions-put_baseline": "baseline.pin",
    "decisions-delete_baseline": "baseline.unpin",
    "scenarios-import_archive": "scenario.import",
    "experiments-create_experiment": "experiment.create",
    "experiments-cancel_experiment": "experiment.cancel",
    "experiments-resume_experiment": "experiment.resume",
    "experiments-patch_experiment": "experiment.update",
    "experiments-delete_experiment": "experiment.delete",
    "studies-create_study": "study.create",
    "studies-stop_study": "study.stop",
    "studies-delete_study": "study.delete",
}

STUDY = {
    "name": "search",
    "base": {"algo_name": "Instant", "dataset_key": "Master data"},
    "space": [{"name": "count", "min": 1, "max": 3}],
    "objectives": [{"kpi": "total"}],
    "n_trials": 1,
}

EXPERIMENT = {
    "name": "sweep",
    "base": {"algo_name": "Instant", "dataset_key": "Master data"},
    "design": {"kind": "grid", "axes": [{"name": "count", "values": [1, 2]}]},
}

#: POST routes that change nothing (a computation with a body): not audited.
READS = {"decisions-check_acceptance"}

Request = dict[str, Any]


def write_operations(client: TestClient) -> list[tuple[str, str, str]]:
    """(method, path template, operation id) of every write in the OpenAPI document."""
    document = client.app.openapi()  # type: ignore[attr-defined]
    return [
        (method.upper(), path, operation["operationId"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch", "delete")
    ]


@pytest.fixture(params=["memory", "sqlite"])
def audited_client(
    request: pytest.FixtureRequest, make_client: ClientFactory, tmp_path: Path
) -> TestClient:
    store: dict[str, Any] = (
        {"has_persistent_state": True, "data_path": str(tmp_path)}
        if request.param == "sqlite"
        else {}
    )
    return make_client(api_keys=KEYS, admin_users=["root"], schemas=[ITEMS], **store)


def audit(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    r = client.get(f"{PREFIX}/audit", params=params, headers=ROOT)
    assert r.status_code == 200, r.text
    records: list[dict[str, Any]] = r.json()["records"]
    return records


class Workspace:
    """A fresh session of alice's with a dataset and a scenario, for one write."""

    def __init__(self, client: TestClient, name: str) -> None:
        self.client = client
        r = client.post(f"{PREFIX}/sessions", json={"display_name": name}, headers=ALICE)
        assert r.status_code == 201, r.text
        self.session_id: str = r.json()["session"]["id"]
        self.base = f"{PREFIX}/sessions/{self.session_id}"
        self.scenario_id = self.scenario("t", "Instant")

    def scenario(self, tag: str, algorithm: str) -> str:
        body = {"tag": tag, "dataset_key": "Master data", "algo_name": algorithm}
        r = self.client.post(f"{self.base}/scenarios", json=body, headers=ALICE)
        assert r.status_code == 201, r.text
        scenario_id: str = r.json()["id"]
        return scenario_id

    def status(self, scenario_id: str) -> str:
        r = self.client.get(f"{self.base}/scenarios/{scenario_id}", headers=ALICE)
        status: str = r.json()["status"]
        return status

    def run(self, scenario_id: str) -> None:
        r = self.client.post(f"{self.base}/scenarios/{scenario_id}/run", headers=ALICE)
        assert r.status_code in (200, 202), r.text


def prepare(op: str, w: Workspace, gate: Gate) -> tuple[dict[str, str], Request]:
    """The path values and the request that performs `op` successfully in `w`."""
    ids = {"session_id": w.session_id, "scenario_id": w.scenario_id, "data_key": "Master data"}
    table = DataSource("posted", tables={"t": pd.DataFrame({"a": [1]})})
    builders: dict[str, Callable[[], Request]] = {
        "sessions-create_session": lambda: {"json": {"display_name": f"new-{w.session_id}"}},
        "sessions-copy_session": lambda: {"json": {"new_display_name": f"copy-{w.session_id}"}},
        "sessions-rename_session": lambda: {"json": {"display_name": f"re-{w.session_id}"}},
        "data-add_from_json": lambda: {
            "content": table.to_json(),
            "headers": {"Content-Type": "application/json"},
        },
        "data-derive_dataset": lambda: {"json": {"new_key": "derived"}},
        "data-save_as_master": lambda: {"json": {"new_key": "mastered"}},
        "decisions-put_baseline": lambda: {"json": {"scenario_id": w.scenario_id}},
        "data-run_etl": lambda: {
            "data": {"dataset_name": "uploaded"},
            "files": [("files", ("items.csv", b"sku,qty\nA,1\n", "text/csv"))],
        },
        "scenarios-create_scenario": lambda: {
            "json": {"tag": "new", "dataset_key": "Master data", "algo_name": "Instant"}
        },
        "experiments-create_experiment": lambda: {"json": EXPERIMENT},
        "experiments-patch_experiment": lambda: {"json": {"drop_points": []}},
        "studies-create_study": lambda: {"json": STUDY},
    }
    if op in ("studies-stop_study", "studies-delete_study"):
        made = w.client.post(f"{w.base}/studies", json=STUDY, headers=ALICE)
        assert made.status_code == 201, made.text
        ids["study_id"] = made.json()["id"]
    if op in (
        "experiments-cancel_experiment",
        "experiments-delete_experiment",
        "experiments-resume_experiment",
        "experiments-patch_experiment",
    ):
        made = w.client.post(f"{w.base}/experiments", json=EXPERIMENT, headers=ALICE)
        assert made.status_code == 201, made.text
        ids["experiment_id"] = made.json()["id"]
    if op == "data-delete_dataset":
        derived = w.client.post(
            f"{w.base}/data/Master data/derive", json={"new_key": "spare"}, headers=ALICE
        )
        assert derived.status_code == 201, derived.text
        ids["data_key"] = "spare"
    if op == "scenarios-reset_scenario":
        w.run(w.scenario_id)
        wait_for(lambda: w.status(w.scenario_id), lambda s: s == "complete")
    if op == "scenarios-import_archive":
        w.run(w.scenario_id)
        wait_for(lambda: w.status(w.scenario_id), lambda s: s == "complete")
        archive = w.client.get(f"{w.base}/scenarios/{w.scenario_id}/archive", headers=ALICE)
        assert archive.status_code == 200, archive.text
        return ids, {
            "content": archive.content,
            "headers": {"Content-Type": "application/zip"},
            "params": {"tag": "imported"},
        }
    if op == "scenarios-cancel_scenario":
        gate.release.clear()
        ids["scenario_id"] = w.scenario("held", "Gated")
        w.run(ids["scenario_id"])
    return ids, builders.get(op, dict)()


def test_every_write_route_leaves_an_audit_record(audited_client: TestClient, gate: Gate) -> None:
    client = audited_client
    operations = write_operations(client)
    operations = [o for o in operations if o[2] not in READS]
    unknown = sorted({op for _, _, op in operations} - set(KINDS))
    assert not unknown, f"write routes without an audit kind in this test: {unknown}"
    for i, (method, template, op) in enumerate(operations):
        workspace = Workspace(client, f"w{i}")
        ids, request = prepare(op, workspace, gate)
        path = template.format(**{k: ids[k] for k in ids if "{" + k + "}" in template})
        before = len(audit(client, kind=KINDS[op], limit=1000))
        answer = client.request(method, path, headers={**request.pop("headers", {}), **ALICE},
                                **request)  # fmt: skip
        gate.release.set()
        assert answer.status_code < 400, (op, answer.status_code, answer.text)
        assert len(audit(client, kind=KINDS[op], limit=1000)) == before + 1, op
        [newest] = audit(client, kind=KINDS[op], limit=1)
        assert newest["user"] == "alice" and newest["outcome"] == "ok", (op, newest)
        assert newest["client"] == "testclient"
        assert newest["summary"] == f"{method} {path}"
        if "{session_id}" in template:
            assert newest["session_id"] == workspace.session_id, op
        if "{scenario_id}" in template:
            assert newest["subject"]["scenario_id"] == ids["scenario_id"], op
        created = answer.json() if answer.content else {}
        if op == "sessions-create_session":
            assert newest["session_id"] == created["session"]["id"]
        if op == "sessions-copy_session":
            assert newest["subject"]["copy_id"] == created["session"]["id"]
        if op == "scenarios-create_scenario":
            assert newest["subject"]["scenario_id"] == created["id"]


def test_refused_writes_are_recorded_with_their_outcome(audited_client: TestClient) -> None:
    client = audited_client
    w = Workspace(client, "taken")
    r = client.post(f"{PREFIX}/sessions", json={"display_name": "taken"}, headers=ALICE)
    assert r.status_code == 409
    [refused] = audit(client, kind="session.create", limit=1)
    assert (refused["outcome"], refused["user"]) == ("409", "alice")
    r = client.post(f"{w.base}/scenarios/nope/run", headers=ALICE)
    assert r.status_code == 404
    [missing] = audit(client, kind="scenario.run")
    assert missing["outcome"] == "404" and missing["subject"]["scenario_id"] == "nope"
    r = client.post(f"{w.base}/scenarios", json={"tag": ""}, headers=ALICE)
    assert r.status_code == 422
    assert audit(client, kind="scenario.create", limit=1)[0]["outcome"] == "422"


def test_a_session_named_in_the_path_is_recorded_by_its_id(audited_client: TestClient) -> None:
    w = Workspace(audited_client, "by name")
    r = audited_client.post(
        f"{PREFIX}/sessions/by name/scenarios/{w.scenario_id}/run", headers=ALICE
    )
    assert r.status_code == 202
    [run] = audit(audited_client, kind="scenario.run")
    assert run["session_id"] == w.session_id
    assert run["summary"] == f"POST {PREFIX}/sessions/by name/scenarios/{w.scenario_id}/run"


def test_only_administrators_read_the_audit_and_the_deliveries(
    make_client: ClientFactory,
) -> None:
    client = make_client(api_keys=KEYS, admin_users=["root"])
    for path in ("/audit", "/webhooks/deliveries"):
        r = client.get(f"{PREFIX}{path}", headers=ALICE)
        assert r.status_code == 403 and "admin_users" in r.json()["detail"]
        assert client.get(f"{PREFIX}{path}").status_code == 401
        assert client.get(f"{PREFIX}{path}", headers=ROOT).status_code == 200
    open_client = make_client()
    assert open_client.get(f"{PREFIX}/audit").status_code == 403


def test_the_audit_is_append_only_through_the_api(audited_client: TestClient) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = audited_client.request(method, f"{PREFIX}/audit", headers=ROOT)
        assert r.status_code == 405


def test_filters_and_paging(audited_client: TestClient) -> None:
    client = audited_client
    first = Workspace(client, "first")
    Workspace(client, "second")
    r = client.post(f"{PREFIX}/sessions", json={"display_name": "by-root"}, headers=ROOT)
    assert r.status_code == 201
    everything = audit(client)
    assert [r["kind"] for r in everything] == [
        "session.create",
        "scenario.create",
        "session.create",
        "scenario.create",
        "session.create",
    ]
    assert [r["user"] for r in audit(client, user="root")] == ["root"]
    assert len(audit(client, user="alice")) == 4
    by_session = audit(client, session_id=first.session_id)
    assert [r["kind"] for r in by_session] == ["scenario.create", "session.create"]
    assert len(audit(client, kind="scenario.create")) == 2
    page = audit(client, limit=2, offset=1)
    assert [r["id"] for r in page] == [r["id"] for r in everything[1:3]]
    newest = everything[0]["at"]
    assert [r["id"] for r in audit(client, since=newest)] == [everything[0]["id"]]
    assert everything[0] not in audit(client, until=newest)
    bad = client.get(f"{PREFIX}/audit", params={"since": "yesterday"}, headers=ROOT)
    assert bad.status_code == 422 and "since" in bad.text
    assert client.get(f"{PREFIX}/audit?limit=0", headers=ROOT).status_code == 422


def test_each_record_is_a_json_log_line(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(api_keys=KEYS, admin_users=["root"])
    with caplog.at_level(logging.INFO, logger="algomancy.audit"):
        r = client.post(f"{PREFIX}/sessions", json={"display_name": "logged"}, headers=ALICE)
    assert r.status_code == 201
    [line] = [rec for rec in caplog.records if rec.name == "algomancy.audit"]
    fields = orjson.loads(line.getMessage())
    assert (fields["kind"], fields["user"], fields["outcome"], fields["status"]) == (
        "session.create",
        "alice",
        "ok",
        201,
    )
    assert line.event == "audit"  # type: ignore[attr-defined]
    assert all(getattr(line, name) == value for name, value in fields.items())


def test_reads_are_not_audited(audited_client: TestClient) -> None:
    audited_client.get(f"{PREFIX}/sessions", headers=ALICE)
    assert audit(audited_client) == []
