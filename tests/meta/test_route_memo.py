"""`tests.route_memo`: a second app reuses the first one's route analysis, and what it
reuses is what FastAPI would have built."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI, Security
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from tests.api.conftest import PREFIX, api_config

try:
    from fastapi import routing as fastapi_routing
    from fastapi._compat import v2
    from fastapi.dependencies import utils as dependency_utils

    from tests import route_memo
except (ImportError, AttributeError):
    pytest.skip(
        "this FastAPI has not the internals tests.route_memo memoises", allow_module_level=True
    )
if not route_memo.installable():
    pytest.skip("tests.route_memo was written for another FastAPI", allow_module_level=True)


def first_request(app: FastAPI) -> int:
    with TestClient(app, raise_server_exceptions=False) as client:
        return client.get(f"{PREFIX}/sessions/main/scenarios").status_code


def test_the_memos_are_installed_in_the_test_process() -> None:
    assert dependency_utils._get_signature is route_memo.signature
    assert v2.ModelField.__post_init__ is route_memo.post_init
    built = fastapi_routing._build_dependant_with_parameterless_dependencies
    assert built is route_memo.build_dependant


def test_a_second_app_builds_no_type_adapter_and_reads_only_its_own_closures() -> None:
    assert first_request(ApiLauncher.build(api_config())) == 200
    built, read = len(route_memo.adapters), len(route_memo.signatures)
    calls: list[object] = []
    original = route_memo.ORIGINAL_SIGNATURE
    route_memo.ORIGINAL_SIGNATURE = lambda call: calls.append(call) or original(call)
    try:
        assert first_request(ApiLauncher.build(api_config())) == 200
    finally:
        route_memo.ORIGINAL_SIGNATURE = original
    assert len(route_memo.adapters) == built
    # Only the callables made for that app (closures of its build) are read again.
    assert calls
    assert all("<locals>" in getattr(call, "__qualname__", "") for call in calls), calls
    assert len(route_memo.signatures) >= read


def test_the_app_validates_and_documents_as_without_the_memos() -> None:
    def answer(app: FastAPI) -> tuple[object, ...]:
        with TestClient(app, raise_server_exceptions=False) as client:
            bad = client.get(f"{PREFIX}/sessions/main/scenarios", params={"limit": "x"})
            return bad.status_code, bad.json(), client.get("/openapi.json").json()

    with_memos = answer(ApiLauncher.build(api_config()))
    route_memo.uninstall()
    try:
        without = answer(ApiLauncher.build(api_config()))
    finally:
        route_memo.install()
    assert with_memos[0] == 422
    assert with_memos == without


def test_a_second_app_shares_the_first_ones_dependants_and_answers_the_same() -> None:
    """Each route's dependant is built once per endpoint, path and dependencies; a
    second app's routes use it, and the app still validates (a path parameter, a JSON
    body) as the first did."""

    def answers(app: FastAPI) -> list[tuple[int, object]]:
        with TestClient(app, raise_server_exceptions=False) as client:
            sent = [
                client.get(f"{PREFIX}/sessions/main/scenarios/nope/status"),
                client.post(f"{PREFIX}/sessions/main/scenarios", json={"tag": 1}),
            ]
            made = client.post(f"{PREFIX}/sessions", json={"display_name": "memo"})
        named = made.json()["session"]["display_name"]
        return [(r.status_code, r.json()) for r in sent] + [(made.status_code, named)]

    route_memo.dependants.clear()
    calls: list[str] = []
    original = route_memo.ORIGINAL_BUILD_DEPENDANT

    def counted(**kwargs: Any) -> route_memo.Built:
        calls.append(kwargs["path"])
        return original(**kwargs)

    route_memo.ORIGINAL_BUILD_DEPENDANT = counted
    try:
        first = answers(ApiLauncher.build(api_config()))
        built = len(calls)
        second = answers(ApiLauncher.build(api_config()))
    finally:
        route_memo.ORIGINAL_BUILD_DEPENDANT = original
    assert built > 0
    # Only the endpoints made for that app (closures of its build) are built again.
    assert len(calls) - built < built, calls
    assert [status for status, _ in first] == [404, 422, 201]
    assert second == first


def test_other_route_dependencies_get_a_dependant_of_their_own() -> None:
    def endpoint() -> None:
        pass

    def one() -> int:
        return 1

    def two() -> int:
        return 2

    plain = route_memo.build_dependant(path="/x", call=endpoint, dependencies=[])
    again = route_memo.build_dependant(path="/x", call=endpoint, dependencies=[])
    first = route_memo.build_dependant(path="/x", call=endpoint, dependencies=[Depends(one)])
    second = route_memo.build_dependant(path="/x", call=endpoint, dependencies=[Depends(two)])
    elsewhere = route_memo.build_dependant(path="/y", call=endpoint, dependencies=[])
    assert again is plain
    assert [d.call for d in first[0].dependencies] == [one]
    assert [d.call for d in second[0].dependencies] == [two]
    assert elsewhere is not plain and elsewhere[0].path == "/y"
    scoped = [Security(one, scopes=["read"])]  # a list: not a key, built each time
    assert route_memo.build_dependant(path="/x", call=endpoint, dependencies=scoped) is not (
        route_memo.build_dependant(path="/x", call=endpoint, dependencies=scoped)
    )


def test_equal_but_distinct_values_keep_their_own_adapter() -> None:
    def field(default: object) -> v2.ModelField:
        return v2.ModelField(field_info=v2.FieldInfo(annotation=int, default=default), name="n")

    one, true, again = field(1), field(True), field(1)
    assert route_memo.adapter_key(one) != route_memo.adapter_key(true)
    assert one._type_adapter is not true._type_adapter
    assert one._type_adapter is again._type_adapter


def test_a_field_that_cannot_be_a_key_builds_its_own_adapter() -> None:
    field = v2.ModelField(field_info=v2.FieldInfo(annotation=list[int], default=[]), name="x")
    assert route_memo.adapter_key(field) is None
    assert field.validate(["1"])[0] == [1]
