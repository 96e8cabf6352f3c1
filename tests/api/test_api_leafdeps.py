"""`ConnectionDependencyRoute` (`algomancy_api.leafdeps`): a dependency that asks
only for the connection is called without FastAPI's nested solve, and everything
else about the route stays FastAPI's (values, caching, overrides, the OpenAPI
document, errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import fastapi.dependencies.utils
import fastapi.routing
import pytest
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.testclient import TestClient
from starlette.requests import HTTPConnection

from algomancy_api.leafdeps import ConnectionDependencyRoute, is_connection_leaf

from .conftest import PREFIX

calls: list[str] = []


async def who(request: Request) -> str:
    calls.append("who")
    return str(request.headers.get("x-who", "nobody"))


async def peer(connection: HTTPConnection) -> str:
    return str(connection.url.path)


async def limit(n: Annotated[int, Query()] = 1) -> int:
    """Not a leaf: it has a query parameter of its own."""
    return n


async def refuse(request: Request) -> str:
    raise HTTPException(403, "refused by the dependency")


Who = Annotated[str, Depends(who)]


def build(route_class: type[fastapi.routing.APIRoute]) -> FastAPI:
    """An app with three routes of `route_class`, on the app itself (a route of an
    included router is FastAPI's own in either case: see `leafdeps`)."""
    app = FastAPI()
    app.router.route_class = route_class
    router = app.router

    @router.get("/items/{item_id}")
    async def item(
        item_id: int,
        caller: Who,
        again: Who,
        path: Annotated[str, Depends(peer)],
        n: Annotated[int, Depends(limit)],
    ) -> dict[str, Any]:
        return {"item": item_id, "caller": caller, "again": again, "path": path, "n": n}

    @router.get("/own/{item_id}")
    async def own(request: Request, item_id: str, caller: Who) -> dict[str, Any]:
        return {"item": item_id, "caller": caller, "method": request.method}

    @router.get("/refused")
    async def refused(caller: Annotated[str, Depends(refuse)]) -> str:
        return caller

    return app


@pytest.fixture
def cheap() -> Iterator[TestClient]:
    calls.clear()
    with TestClient(build(ConnectionDependencyRoute)) as client:
        yield client


def test_leaves_are_told_apart() -> None:
    app = build(ConnectionDependencyRoute)
    route = next(r for r in app.routes if getattr(r, "path", "") == "/items/{item_id}")
    assert isinstance(route, fastapi.routing.APIRoute)
    leaves = {d.call: is_connection_leaf(d) for d in route.dependant.dependencies}
    assert leaves == {who: True, peer: True, limit: False}


def sync_who(request: Request) -> str:
    return "sync"


async def yielded(request: Request) -> AsyncIterator[str]:
    yield "yielded"


def test_only_async_functions_of_the_connection_alone_are_leaves() -> None:
    """A sync dependency (FastAPI runs it in a worker thread), a generator (FastAPI
    runs its exit after the answer) and one with parameters stay FastAPI's."""
    app = FastAPI()
    app.router.route_class = ConnectionDependencyRoute

    @app.get("/mixed")
    async def mixed(
        a: Annotated[str, Depends(sync_who)],
        b: Annotated[str, Depends(yielded)],
        c: Annotated[int, Depends(limit)],
        d: Who,
    ) -> list[Any]:
        return [a, b, c, d]

    route = next(r for r in app.routes if getattr(r, "path", "") == "/mixed")
    assert isinstance(route, fastapi.routing.APIRoute)
    leaves = [is_connection_leaf(d) for d in route.dependant.dependencies]
    assert leaves == [False, False, False, True]
    with TestClient(app) as client:
        assert client.get("/mixed?n=2").json() == ["sync", "yielded", 2, "nobody"]


Fresh = Annotated[str, Depends(who, use_cache=False)]


@pytest.mark.parametrize("route_class", [ConnectionDependencyRoute, fastapi.routing.APIRoute])
def test_uncached_leaves_are_called_each_time(route_class: type[fastapi.routing.APIRoute]) -> None:
    """`use_cache=False` calls again; a cached declaration after them takes the
    last value, as FastAPI does (the same calls with either route class)."""
    app = FastAPI()
    app.router.route_class = route_class

    @app.get("/twice")
    async def twice(a: Fresh, b: Fresh, c: Who) -> list[str]:
        return [a, b, c]

    calls.clear()
    with TestClient(app) as client:
        assert client.get("/twice").json() == ["nobody"] * 3
    assert calls == ["who", "who"]


def test_values_and_per_request_cache_as_fastapis(cheap: TestClient) -> None:
    answer = cheap.get("/items/7?n=3", headers={"x-who": "ann"})
    assert answer.json() == {"item": 7, "caller": "ann", "again": "ann", "path": "/items/7", "n": 3}
    assert calls == ["who"]  # declared twice, solved once a request
    with TestClient(build(fastapi.routing.APIRoute)) as plain:
        assert plain.get("/items/7?n=3", headers={"x-who": "ann"}).json() == answer.json()
    own = cheap.get("/own/x", headers={"x-who": "bo"})
    assert own.json() == {"item": "x", "caller": "bo", "method": "GET"}


def test_errors_as_fastapis(cheap: TestClient) -> None:
    bad = cheap.get("/items/seven")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["path", "item_id"]
    refused = cheap.get("/refused")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "refused by the dependency"}


def test_the_openapi_document_is_fastapis() -> None:
    assert build(ConnectionDependencyRoute).openapi() == build(fastapi.routing.APIRoute).openapi()


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The dependency callables `solve_dependencies` is asked for, in order."""
    calls: list[object] = []
    original = fastapi.routing.solve_dependencies

    async def counting(**kwargs: Any) -> Any:
        calls.append(kwargs["dependant"].call)
        return await original(**kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    monkeypatch.setattr(fastapi.dependencies.utils, "solve_dependencies", counting)
    return calls


def test_leaves_skip_the_nested_solve(cheap: TestClient, solved: list[object]) -> None:
    """One `solve_dependencies` a request for the endpoint (`limit` inside it, not a
    leaf, is still solved by FastAPI: two in all) against four for FastAPI's route."""
    assert cheap.get("/items/1").status_code == 200
    assert solved.count(limit) == 1 and who not in solved and peer not in solved
    solved.clear()
    with TestClient(build(fastapi.routing.APIRoute)) as plain:
        assert plain.get("/items/1").status_code == 200
    assert {who, peer, limit} <= set(solved)


def test_an_override_of_a_leaf_is_honoured(cheap: TestClient) -> None:
    app = cheap.app
    app.dependency_overrides[who] = lambda: "overridden"  # type: ignore[attr-defined]
    try:
        assert cheap.get("/items/1").json()["caller"] == "overridden"
    finally:
        app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert cheap.get("/items/1").json()["caller"] == "nobody"


def test_the_poll_solves_its_caller_without_a_nested_solve(
    client: TestClient, solved: list[object]
) -> None:
    """The status poll's route is a `ConnectionDependencyRoute`: `CallerDep` costs
    no second `solve_dependencies` (issue 22)."""
    created = client.post(
        f"{PREFIX}/sessions/main/scenarios",
        json={"tag": "t", "dataset_key": "Master data", "algo_name": "Instant"},
    ).json()
    solved.clear()
    answer = client.get(f"{PREFIX}/sessions/main/scenarios/{created['id']}/status")
    assert answer.status_code == 200
    assert len(solved) == 1


def test_a_route_of_an_included_router_answers_as_fastapis() -> None:
    """FastAPI builds it from its inclusion context (see `leafdeps`): same answers."""
    router = fastapi.routing.APIRouter(route_class=ConnectionDependencyRoute)

    @router.get("/included/{item_id}")
    async def included(item_id: int, caller: Who) -> dict[str, Any]:
        return {"item": item_id, "caller": caller}

    app = FastAPI()
    app.include_router(router, prefix="/p")
    with TestClient(app) as client:
        answer = client.get("/p/included/3", headers={"x-who": "cy"})
        assert answer.json() == {"item": 3, "caller": "cy"}
        app.dependency_overrides[who] = lambda: "overridden"
        assert client.get("/p/included/3").json()["caller"] == "overridden"


def texts_app() -> FastAPI:
    """Routes whose path parameters are plain text, constrained text, or not text."""
    app = FastAPI()
    app.router.route_class = ConnectionDependencyRoute

    @app.get("/t/{a}/{b:path}")
    async def plain(a: str, b: str, caller: Who) -> list[str]:
        return [a, b, caller]

    @app.get("/short/{a}")
    async def short(a: Annotated[str, Path(max_length=3)]) -> str:
        return a

    @app.get("/aliased/{theA}")
    async def aliased(a: Annotated[str, Path(alias="theA")]) -> str:
        return a

    @app.get("/number/{n:int}")
    async def number(n: str) -> str:
        return n

    return app


@pytest.fixture
def fields_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the parameters FastAPI's `request_params_to_args` is asked for."""
    names: list[str] = []
    original = fastapi.dependencies.utils.request_params_to_args

    def counting(fields: Any, received: Any) -> Any:
        names.extend(f.name for f in fields)
        return original(fields, received)

    monkeypatch.setattr(fastapi.dependencies.utils, "request_params_to_args", counting)
    return names


def test_plain_text_path_parameters_are_read_from_the_path(fields_read: list[str]) -> None:
    """A plain `str` path parameter (no constraint, no alias, a text convertor) is
    the path's text as FastAPI would validate it: the route takes it from the path
    without FastAPI's parameter solving (issue 22: ~9 us of the poll's two)."""
    with TestClient(texts_app()) as client:
        assert client.get("/t/x y/a/b", headers={"x-who": "di"}).json() == ["x y", "a/b", "di"]
        assert fields_read == []
        assert client.get("/short/abc").json() == "abc"
        assert client.get("/aliased/q").json() == "q"
        assert fields_read == ["a", "a"]


def test_constrained_or_converted_path_parameters_stay_fastapis() -> None:
    """Only plain text skips FastAPI's validation: a constraint, and a convertor that
    gives no text, still answer FastAPI's 422 (the same as its own route class)."""
    with TestClient(texts_app()) as cheap:
        long = cheap.get("/short/abcd")
        assert long.status_code == 422
        assert long.json()["detail"][0]["loc"] == ["path", "a"]
        number = cheap.get("/number/12")
        assert number.status_code == 422
        assert number.json()["detail"][0]["loc"] == ["path", "n"]
    plain_app = texts_app()
    plain_app.router.route_class = fastapi.routing.APIRoute
    assert texts_app().openapi() == plain_app.openapi()


def test_the_poll_reads_its_path_without_parameter_solving(
    client: TestClient, fields_read: list[str]
) -> None:
    """The status poll's `session_id` and `scenario_id` are plain text (issue 22)."""
    created = client.post(
        f"{PREFIX}/sessions/main/scenarios",
        json={"tag": "t", "dataset_key": "Master data", "algo_name": "Instant"},
    ).json()
    fields_read.clear()
    answer = client.get(f"{PREFIX}/sessions/main/scenarios/{created['id']}/status")
    assert answer.json()["id"] == created["id"]
    assert fields_read == []
    missing = client.get(f"{PREFIX}/sessions/main/scenarios/nope/status")
    assert missing.status_code == 404
