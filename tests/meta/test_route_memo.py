"""`tests.route_memo`: a second app reuses the first one's route analysis, and what it
reuses is what FastAPI would have built."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from tests.api.conftest import PREFIX, api_config

try:
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
    dependency_utils._get_signature = route_memo.ORIGINAL_SIGNATURE
    v2.ModelField.__post_init__ = route_memo.ORIGINAL_POST_INIT  # type: ignore[method-assign]
    try:
        without = answer(ApiLauncher.build(api_config()))
    finally:
        route_memo.install()
    assert with_memos[0] == 422
    assert with_memos == without


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
