"""`GET …/scenarios` from the views it kept by scenario version
(`algomancy_api.listing`): byte for byte what the views write, on every store,
after every kind of change, from this process or another one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_api.deps import current_caller
from algomancy_api.listing import ScenarioListCache
from algomancy_api.routers import scenarios as scenarios_router
from algomancy_api.views import scenario_views, summary_view
from algomancy_core import ScenarioManager, SessionManager
from tests.polling import scenario_status

from .conftest import PREFIX, ClientFactory, api_config

M = f"{PREFIX}/sessions/main"
VIEWS = ["full", "summary"]


@pytest.fixture(params=["memory", "sqlite"])
def stored(
    request: pytest.FixtureRequest, make_client: ClientFactory, tmp_path: Path
) -> TestClient:
    if request.param == "memory":
        return make_client()
    return make_client(has_persistent_state=True, data_path=str(tmp_path / "state"))


def create(client: TestClient, tag: str, algo: str = "Instant", **params: Any) -> str:
    r = client.post(
        f"{M}/scenarios",
        json={"tag": tag, "dataset_key": "Master data", "algo_name": algo, "algo_params": params},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def run(client: TestClient, scenario_id: str, wanted: str = "complete") -> None:
    assert client.post(f"{M}/scenarios/{scenario_id}/run").status_code == 202
    scenario_status(client.get, f"{M}/scenarios/{scenario_id}", {wanted})


def manager_of(client: TestClient) -> ScenarioManager:
    sessions: SessionManager = client.app.state.sessions  # type: ignore[attr-defined]
    return sessions.get_session("main")


def written(client: TestClient, view: str, **params: Any) -> bytes:
    """What the views write for that listing, without any kept view (the list route
    before `algomancy_api.listing`)."""
    manager = manager_of(client)
    pinned = manager.baseline_id()
    records = manager.page_scenarios(
        params.get("fingerprint"),
        params.get("limit"),
        params.get("offset", 0),
        summaries=view == "summary",
    )
    if view == "summary":
        return orjson.dumps([summary_view(manager, r, pinned) for r in records])
    return orjson.dumps(scenario_views(manager, records, pinned))


def listed(client: TestClient, view: str, **params: Any) -> bytes:
    r = client.get(f"{M}/scenarios", params={"view": view, **params})
    assert r.status_code == 200, r.text
    return r.content


def same_as_written(client: TestClient, **params: Any) -> None:
    for view in VIEWS:
        assert listed(client, view, **params) == written(client, view, **params), view


def test_a_listing_is_byte_for_byte_what_the_views_write(stored: TestClient) -> None:
    done = create(stored, "done", count=4)
    run(stored, done)
    failed = create(stored, "failed", algo="Broken")
    run(stored, failed, "failed")
    for i in range(3):
        create(stored, f"waiting {i}", count=i)
    assert stored.put(f"{M}/baseline", json={"scenario_id": done}).status_code == 200
    fingerprint = stored.get(f"{M}/scenarios/{done}").json()["fingerprint"]
    for params in [{}, {"limit": 2, "offset": 1}, {"offset": 4}, {"fingerprint": fingerprint}]:
        same_as_written(stored, **params)  # written
        same_as_written(stored, **params)  # from the kept views and listings


def test_a_listing_follows_every_change(stored: TestClient) -> None:
    first, second, third = (create(stored, f"s{i}") for i in range(3))
    same_as_written(stored)
    run(stored, first)
    same_as_written(stored)
    assert stored.put(f"{M}/baseline", json={"scenario_id": first}).status_code == 200
    same_as_written(stored)
    assert stored.put(f"{M}/baseline", json={"scenario_id": second}).status_code == 200
    same_as_written(stored)
    assert stored.delete(f"{M}/baseline").status_code in (200, 204)
    same_as_written(stored)
    assert stored.post(f"{M}/scenarios/{first}/reset").status_code == 200
    same_as_written(stored)
    assert stored.delete(f"{M}/scenarios/{third}").status_code == 204
    same_as_written(stored)
    assert [item["id"] for item in orjson.loads(listed(stored, "summary"))] == [first, second]
    create(stored, "s3")
    same_as_written(stored)


def test_a_change_made_by_another_process_is_listed(tmp_path: Path) -> None:
    """Two apps over one SQLite file (as two workers): what one writes, the other's
    kept views do not hide."""
    config = api_config(has_persistent_state=True, data_path=str(tmp_path / "state"))
    with (
        TestClient(ApiLauncher.build(config)) as one,
        TestClient(ApiLauncher.build(config)) as other,
    ):
        scenario_id = create(one, "s0")
        create(one, "s1")
        same_as_written(one)
        run(other, scenario_id)
        assert other.put(f"{M}/baseline", json={"scenario_id": scenario_id}).status_code == 200
        same_as_written(one)
        first = orjson.loads(listed(one, "full"))[0]
        assert (first["status"], first["baseline"]) == ("complete", True)


class Counted:
    """A store whose `get_scenarios` calls are counted (the reads of whole records)."""

    def __init__(self, manager: ScenarioManager) -> None:
        self.calls: list[int] = []
        store = manager._store
        real = store.get_scenarios

        def counted(session_id: str, ids: Any, *, summaries: bool = False) -> Any:
            self.calls.append(len(ids))
            return real(session_id, ids, summaries=summaries)

        self.undo = lambda: setattr(store, "get_scenarios", real)
        store.get_scenarios = counted  # type: ignore[method-assign]


@pytest.fixture
def counted(stored: TestClient) -> Iterator[Counted]:
    found = Counted(manager_of(stored))
    yield found
    found.undo()


def test_unchanged_scenarios_are_not_read_again(stored: TestClient, counted: Counted) -> None:
    ids = [create(stored, f"s{i}") for i in range(4)]
    for view in VIEWS:
        listed(stored, view)
        listed(stored, view, limit=2)
    assert counted.calls == [4, 4]  # each view's first listing read them all
    run(stored, ids[1])
    listed(stored, "full")
    assert counted.calls[2:] == [1]  # then only the one that changed


def test_the_kept_views_stay_within_their_bound(stored: TestClient) -> None:
    for i in range(6):
        create(stored, f"s{i}")
    one = len(orjson.dumps(orjson.loads(listed(stored, "full"))[0]))
    cache = ScenarioListCache(max_bytes=one * 8)
    manager = manager_of(stored)
    for limit in (1, 2, 3, 4, 5, 6):
        body = cache.listing(manager, "full", None, limit, 0)
        assert body == written(stored, "full", limit=limit)
        assert cache._bytes <= cache.max_bytes


class VersionReads:
    """A store whose `page_scenario_versions` calls are counted (a listing's check of
    what changed, one read of every listed row)."""

    def __init__(self, manager: ScenarioManager) -> None:
        self.count = 0
        store = manager._store
        real = store.page_scenario_versions

        def counted(*args: Any) -> Any:
            self.count += 1
            return real(*args)

        self.undo = lambda: setattr(store, "page_scenario_versions", real)
        store.page_scenario_versions = counted  # type: ignore[method-assign]


def test_an_unchanged_sqlite_store_answers_a_kept_listing_without_reading_rows(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    """SQLite's data version (`Store.change_stamp`) vouches that nothing was
    written: the kept listing is answered without reading a version. A write anywhere
    in the store makes the next listing read them once, then the new stamp holds."""
    client = make_client(has_persistent_state=True, data_path=str(tmp_path / "state"))
    for i in range(3):
        create(client, f"s{i}")
    reads = VersionReads(manager_of(client))
    try:
        for view in VIEWS:
            listed(client, view)
        first = reads.count
        for view in VIEWS:
            assert listed(client, view) == written(client, view)
        assert reads.count == first  # nothing read: the stamp held
        # A write that lists nothing different: checked once, then the stamp holds.
        assert client.post(f"{PREFIX}/sessions", json={"display_name": "other"}).status_code == 201
        listed(client, "full")
        assert reads.count == first + 1
        listed(client, "full")
        assert reads.count == first + 1
        same_as_written(client)
    finally:
        reads.undo()


def test_the_same_request_at_the_same_stamp_does_not_look_the_session_up(
    make_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ScenarioListCache.answered`: the same request while SQLite's data version
    holds is answered without reading the session; after a write (here a rename,
    which the path's name no longer finds) it is looked up again."""
    client = make_client(has_persistent_state=True, data_path=str(tmp_path / "state"))
    create(client, "s0")
    sessions: SessionManager = client.app.state.sessions  # type: ignore[attr-defined]
    lookups: list[str] = []
    real = sessions.get_session

    def counted(session: str, owner: str | None = None) -> ScenarioManager:
        lookups.append(session)
        return real(session, owner)

    monkeypatch.setattr(sessions, "get_session", counted)
    first = listed(client, "summary")
    assert lookups == ["main"]
    for _ in range(3):
        assert listed(client, "summary") == first
    assert lookups == ["main"]  # the stamp held: the session was not read again
    assert listed(client, "full") != first  # another request: looked up, then kept
    assert lookups == ["main", "main"]
    session_id = manager_of(client).session_id
    renamed = client.patch(f"{PREFIX}/sessions/{session_id}", json={"display_name": "renamed"})
    assert renamed.status_code == 200, renamed.text
    assert client.get(f"{M}/scenarios", params={"view": "summary"}).status_code == 404
    again = client.get(f"{PREFIX}/sessions/renamed/scenarios", params={"view": "summary"})
    assert again.content == first


class EndpointCalls:
    """Counts the list endpoint's runs (its `list_request`, called first thing)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = scenarios_router.list_request

        def counted(*args: Any) -> tuple[object, ...]:
            self.count += 1
            return real(*args)

        monkeypatch.setattr(scenarios_router, "list_request", counted)


def test_a_kept_answer_is_given_before_fastapis_handler(
    make_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`KeptListRoute`: the same request at the same stamp is answered without the
    endpoint (nor FastAPI's solving of its parameters); another query string, a write,
    or dependency overrides send it to the endpoint; a query that fails validation is
    never kept."""
    client = make_client(has_persistent_state=True, data_path=str(tmp_path / "state"))
    create(client, "s0")
    calls = EndpointCalls(monkeypatch)
    first = listed(client, "summary")
    assert calls.count == 1
    for _ in range(3):
        assert listed(client, "summary") == first
    assert calls.count == 1  # answered by the route class
    assert listed(client, "summary", limit=5) == first  # another query: the endpoint
    assert calls.count == 2
    for _ in range(2):
        refused = client.get(f"{M}/scenarios", params={"view": "summary", "limit": 0})
        assert refused.status_code == 422 and "limit" in refused.text
    create(client, "s1")  # a write: the stamp moved
    again = listed(client, "summary")
    assert again != first and calls.count == 3
    overrides = client.app.dependency_overrides  # type: ignore[attr-defined]
    overrides[current_caller] = current_caller
    try:
        assert listed(client, "summary") == again
        assert calls.count == 4  # overrides: FastAPI's handler, whose endpoint answers
    finally:
        overrides.clear()
    assert listed(client, "summary") == again
    assert calls.count == 4


def test_a_kept_answer_is_only_given_to_the_same_caller(tmp_path: Path) -> None:
    """The kept answer is keyed by the caller: another user's request for the same
    path is looked up (404: not their session), an administrator's is answered."""
    keys = {"k-alice": "alice", "k-bob": "bob", "k-root": "root"}
    config = api_config(
        api_keys=keys,
        admin_users=["root"],
        has_persistent_state=True,
        data_path=str(tmp_path / "state"),
    )
    with TestClient(ApiLauncher.build(config), raise_server_exceptions=False) as client:
        alice, bob, root = ({"X-API-Key": k} for k in keys)
        made = client.post(f"{PREFIX}/sessions", json={"display_name": "a1"}, headers=alice)
        assert made.status_code == 201, made.text
        path = f"{PREFIX}/sessions/{made.json()['session']['id']}/scenarios"
        body = {"tag": "t", "dataset_key": "Master data", "algo_name": "Instant"}
        assert client.post(path, json=body, headers=alice).status_code == 201
        kept = client.get(path, params={"view": "summary"}, headers=alice)
        assert kept.status_code == 200 and len(kept.json()) == 1
        assert client.get(path, params={"view": "summary"}, headers=alice).content == kept.content
        assert client.get(path, params={"view": "summary"}, headers=bob).status_code == 404
        as_root = client.get(path, params={"view": "summary"}, headers=root)
        assert as_root.status_code == 200 and as_root.content == kept.content
