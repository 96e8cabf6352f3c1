"""The OpenAPI schema tells the truth: every route's answer matches its declared
response schema, parameter descriptors are typed, and API keys are declared so that
Swagger UI's Authorize button (and generated clients) can call protected routes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema_rs
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_core import (
    BaseAlgorithm,
    BaseParameterSet,
    BaseResult,
    BooleanParameter,
    DateParameter,
    DateTimeParameter,
    EnumParameter,
    FloatParameter,
    IntegerParameter,
    IntervalParameter,
    MultiEnumParameter,
    ResultView,
    RunContext,
    StringParameter,
)
from algomancy_data import DataSource
from tests.core.conftest import Broken, Gate, Gated, Instant
from tests.core.test_core_scenario_manager import Tabled as PlainTabled
from tests.polling import wait_for

from .conftest import PREFIX, ClientFactory
from .test_api_data import ITEMS
from .test_api_scenarios import poll

M = f"{PREFIX}/sessions/main"


class EveryTypeParameters(BaseParameterSet):
    count = IntegerParameter(default=3, min=0, max=10, description="How many")
    share = FloatParameter(default=0.5, min=0.0, max=1.0)
    label = StringParameter(default="x", min_length=1, max_length=20)
    fast = BooleanParameter(default=True)
    policy = EnumParameter(choices=["a", "b"], default="a")
    tags = MultiEnumParameter(choices=["x", "y", 3], default=["x"])
    day = DateParameter(default="2024-01-01", min="2023-01-01", max="2025-12-31")
    moment = DateTimeParameter(default=None, required=False)
    period = IntervalParameter(
        default={"start": "2024-01-01", "end": "2024-01-31"}, min="2023-01-01"
    )


class EveryType(BaseAlgorithm):
    """An algorithm with one parameter of every built-in type."""

    name = "Every type"
    parameters = EveryTypeParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        return BaseResult({"count": self.params.count})


class Tabled(PlainTabled):
    """Its result table drawn as a result view."""

    views = [
        ResultView("qty", "Quantity per line", table="lines", encoding={"x": "line", "y": "qty"})
    ]


# -- the contract test: every operation answered and checked against its schema ---------


@dataclass
class Call:
    """One request per operation of the schema, in an order that makes it succeed."""

    method: str
    template: str  # the path in the schema, parameter names left out: {} for each
    url: str
    status: int
    kwargs: dict[str, Any]


def operation_key(method: str, path: str) -> tuple[str, str]:
    """(METHOD, path) with path parameters reduced to `{}` (their names may change)."""
    return method.upper(), re.sub(r"\{[^}]+\}", "{}", path)


def calls(client: TestClient) -> list[Call]:
    csv = b"sku,qty\na,1\nb,2\n"
    scenario = {"tag": "t", "dataset_key": "Master data", "algo_name": "Tabled"}
    sid = client.get(f"{PREFIX}/sessions").json()["default"]
    created = client.post(f"{M}/scenarios", json=scenario).json()["id"]
    client.post(f"{M}/scenarios/{created}/run")
    assert poll(client, created)["status"] == "complete"
    archived = client.get(f"{M}/scenarios/{created}/archive").content
    gated = client.post(
        f"{M}/scenarios", json={"tag": "g", "dataset_key": "Master data", "algo_name": "Gated"}
    ).json()["id"]
    dataset = DataSource("posted", tables={"t": pd.DataFrame({"a": [1, None]})}).to_json()
    sweep = {
        "name": "sweep",
        "base": {"algo_name": "Instant", "dataset_key": "Master data"},
        "design": {"kind": "oat", "axes": [{"name": "count", "min": 1, "max": 5}]},
    }
    experiment = client.post(f"{M}/experiments", json=sweep).json()["id"]
    for point in range(1, 4):
        scenario_id = [
            s for s in client.get(f"{M}/scenarios").json() if s["tag"] == f"sweep-{point}"
        ]
        assert poll(client, scenario_id[0]["id"])["status"] == "complete"
    e = f"{M}/experiments/{experiment}"
    search = {
        "name": "search",
        "base": {"algo_name": "Instant", "dataset_key": "Master data"},
        "space": [{"name": "count", "min": 1, "max": 5}],
        "objectives": [{"kpi": "total"}],
        "n_trials": 2,
    }
    study = client.post(f"{M}/studies", json=search).json()["id"]
    st = f"{M}/studies/{study}"
    assert wait_for(lambda: client.get(st).json()["status"], lambda s: s == "complete")
    S = f"{PREFIX}/sessions"
    c = f"{M}/scenarios/{created}"
    return [
        Call("GET", "/health", "/health", 200, {}),
        Call("GET", "/me", "/me", 200, {}),
        Call("GET", "/app/settings", "/app/settings", 200, {}),
        # No logo configured, and nobody is an administrator with authentication off.
        Call("GET", "/app/logo", "/app/logo", 404, {}),
        Call("GET", "/app/modules/{}/{}", "/app/modules/tests.webapp/x.js", 404, {}),
        Call("GET", f"{PREFIX}/admin/logs", f"{PREFIX}/admin/logs", 403, {}),
        # Administrators only; with authentication off there is none.
        Call("GET", f"{PREFIX}/audit", f"{PREFIX}/audit", 403, {}),
        Call("GET", f"{PREFIX}/webhooks/deliveries", f"{PREFIX}/webhooks/deliveries", 403, {}),
        Call("GET", f"{S}", S, 200, {}),
        Call("POST", f"{S}", S, 201, {"json": {"display_name": "other"}}),
        Call("POST", f"{S}/{{}}/copy", f"{S}/{sid}/copy", 201, {"json": {"new_display_name": "c"}}),
        Call("PATCH", f"{S}/{{}}", f"{S}/c", 200, {"json": {"display_name": "renamed"}}),
        Call("DELETE", f"{S}/{{}}", f"{S}/renamed", 200, {}),
        # The session stream runs until the client leaves; its 404 is checked here.
        Call("GET", f"{S}/{{}}/events", f"{S}/nope/events", 404, {}),
        Call("GET", f"{S}/{{}}/algorithms", f"{M}/algorithms", 200, {}),
        Call(
            "GET",
            f"{S}/{{}}/algorithms/{{}}/parameters",
            f"{M}/algorithms/Every type/parameters",
            200,
            {},
        ),
        Call("GET", f"{S}/{{}}/algorithms/{{}}/views", f"{M}/algorithms/Tabled/views", 200, {}),
        Call("GET", f"{S}/{{}}/kpis", f"{M}/kpis", 200, {}),
        Call("GET", f"{S}/{{}}/kpis/describe", f"{M}/kpis/describe", 200, {}),
        Call("GET", f"{S}/{{}}/kpis/frame", f"{M}/kpis/frame", 200, {}),
        Call("PUT", f"{S}/{{}}/baseline", f"{M}/baseline", 200, {"json": {"scenario_id": created}}),
        Call("GET", f"{S}/{{}}/baseline", f"{M}/baseline", 200, {}),
        Call("GET", f"{S}/{{}}/kpis/frame", f"{M}/kpis/frame?baseline=pinned", 200, {}),
        Call(
            "POST",
            f"{S}/{{}}/acceptance",
            f"{M}/acceptance",
            200,
            {"json": {"candidates": [created], "rules": [{"kpi": "total", "rule": "not_worse"}]}},
        ),
        Call("GET", f"{S}/{{}}/report", f"{M}/report?baseline=pinned&format=html", 200, {}),
        Call("DELETE", f"{S}/{{}}/baseline", f"{M}/baseline", 200, {}),
        Call("GET", f"{S}/{{}}/data", f"{M}/data", 200, {}),
        Call(
            "POST",
            f"{S}/{{}}/data/from-json",
            f"{M}/data/from-json",
            201,
            {"content": dataset, "headers": {"Content-Type": "application/json"}},
        ),
        Call("GET", f"{S}/{{}}/data/{{}}", f"{M}/data/posted", 200, {}),
        Call("GET", f"{S}/{{}}/data/{{}}/tables", f"{M}/data/posted/tables", 200, {}),
        Call("GET", f"{S}/{{}}/data/{{}}/versions", f"{M}/data/posted/versions", 200, {}),
        Call("GET", f"{S}/{{}}/data/{{}}/parameters", f"{M}/data/posted/parameters", 200, {}),
        Call(
            "GET",
            f"{S}/{{}}/data/{{}}/tables/{{}}/frame",
            f"{M}/data/posted/tables/t/frame",
            200,
            {},
        ),
        Call(
            "GET",
            f"{S}/{{}}/data/{{}}/tables/{{}}/download",
            f"{M}/data/posted/tables/t/download",
            200,
            {},
        ),
        Call(
            "POST",
            f"{S}/{{}}/data/{{}}/derive",
            f"{M}/data/posted/derive",
            201,
            {"json": {"new_key": "derived"}},
        ),
        Call(
            "POST",
            f"{S}/{{}}/data/{{}}/save-as-master",
            f"{M}/data/derived/save-as-master",
            201,
            {"json": {"new_key": "mastered"}},
        ),
        Call("DELETE", f"{S}/{{}}/data/{{}}", f"{M}/data/derived", 204, {}),
        Call(
            "POST",
            f"{S}/{{}}/etl",
            f"{M}/etl",
            200,
            {
                "data": {"dataset_name": "up"},
                "files": [("files", ("items.csv", csv, "text/csv"))],
            },
        ),
        Call("GET", f"{S}/{{}}/scenarios", f"{M}/scenarios", 200, {}),
        Call("GET", f"{S}/{{}}/scenarios", f"{M}/scenarios?view=summary", 200, {}),
        Call(
            "POST", f"{S}/{{}}/scenarios", f"{M}/scenarios", 201, {"json": {**scenario, "tag": "n"}}
        ),
        Call("GET", f"{S}/{{}}/scenarios/{{}}", c, 200, {}),
        Call("GET", f"{S}/{{}}/scenarios/{{}}/status", f"{c}/status", 200, {}),
        Call("GET", f"{S}/{{}}/scenarios/{{}}/events", f"{c}/events", 200, {}),
        # The session stream ends after a quiet second (it never ends by itself).
        Call("GET", f"{S}/{{}}/events", f"{M}/events?idle_timeout=1", 200, {}),
        Call("GET", f"{S}/{{}}/scenarios/{{}}/reports", f"{c}/reports", 200, {}),
        Call("GET", f"{S}/{{}}/scenarios/{{}}/result/tables", f"{c}/result/tables", 200, {}),
        Call(
            "GET",
            f"{S}/{{}}/scenarios/{{}}/result/tables/{{}}/frame",
            f"{c}/result/tables/lines/frame",
            200,
            {},
        ),
        Call(
            "GET",
            f"{S}/{{}}/scenarios/{{}}/result/tables/{{}}/download",
            f"{c}/result/tables/lines/download",
            200,
            {},
        ),
        Call("GET", f"{S}/{{}}/scenarios/{{}}/result/views/{{}}", f"{c}/result/views/qty", 200, {}),
        Call("GET", f"{S}/{{}}/scenarios/{{}}/archive", f"{c}/archive", 200, {}),
        Call(
            "POST",
            f"{S}/{{}}/scenarios/import",
            f"{M}/scenarios/import?tag=imported",
            201,
            {"content": archived, "headers": {"Content-Type": "application/zip"}},
        ),
        Call("GET", f"{S}/{{}}/processing", f"{M}/processing", 200, {}),
        Call("POST", f"{S}/{{}}/scenarios/{{}}/run", f"{M}/scenarios/{gated}/run", 202, {}),
        Call("POST", f"{S}/{{}}/scenarios/{{}}/cancel", f"{M}/scenarios/{gated}/cancel", 202, {}),
        Call("POST", f"{S}/{{}}/scenarios/{{}}/reset", f"{c}/reset", 200, {}),
        Call("DELETE", f"{S}/{{}}/scenarios/{{}}", c, 204, {}),
        Call(
            "POST",
            f"{S}/{{}}/experiments",
            f"{M}/experiments",
            201,
            {"json": {**sweep, "name": "sweep2"}},
        ),
        Call("GET", f"{S}/{{}}/experiments", f"{M}/experiments", 200, {}),
        Call("GET", f"{S}/{{}}/experiments/{{}}", e, 200, {}),
        Call("GET", f"{S}/{{}}/experiments/{{}}/frame", f"{e}/frame", 200, {}),
        Call(
            "GET", f"{S}/{{}}/experiments/{{}}/sensitivity", f"{e}/sensitivity?kpi=total", 200, {}
        ),
        Call("POST", f"{S}/{{}}/experiments/{{}}/cancel", f"{e}/cancel", 200, {}),
        Call("POST", f"{S}/{{}}/experiments/{{}}/resume", f"{e}/resume", 200, {}),
        # Points of a one-at-a-time design cannot be dropped: its analysis needs each.
        Call("PATCH", f"{S}/{{}}/experiments/{{}}", e, 409, {"json": {"drop_points": [2]}}),
        Call("DELETE", f"{S}/{{}}/experiments/{{}}", e, 204, {}),
        Call("POST", f"{S}/{{}}/studies", f"{M}/studies", 201, {"json": {**search, "name": "s2"}}),
        Call("GET", f"{S}/{{}}/studies", f"{M}/studies", 200, {}),
        Call("GET", f"{S}/{{}}/studies/{{}}", st, 200, {}),
        Call("GET", f"{S}/{{}}/studies/{{}}/trials", f"{st}/trials", 200, {}),
        Call("GET", f"{S}/{{}}/studies/{{}}/pareto", f"{st}/pareto", 200, {}),
        Call("POST", f"{S}/{{}}/studies/{{}}/stop", f"{st}/stop", 200, {}),
        Call("DELETE", f"{S}/{{}}/studies/{{}}", st, 204, {}),
    ]


def declared_content(openapi: dict[str, Any], call: Call) -> dict[str, Any]:
    """The media types (and their schemas) the operation declares for `call.status`."""
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if operation_key(method, path) == (call.method, call.template):
                content: dict[str, Any] = operation["responses"][str(call.status)].get(
                    "content", {}
                )
                return content
    raise AssertionError(f"{call.method} {call.template} is not in the schema")


def response_schema(openapi: dict[str, Any], call: Call) -> dict[str, Any] | None:
    """The JSON schema the operation declares for `call.status`, with the document's
    components beside it so that its `$ref`s resolve; None when it declares no JSON."""
    content = declared_content(openapi, call)
    if "application/json" not in content:
        return None
    return {**content["application/json"]["schema"], "components": openapi["components"]}


@pytest.fixture
def contract_client(make_client: ClientFactory) -> TestClient:
    return make_client(algorithms=[Instant, Gated, Broken, Tabled, EveryType], schemas=[ITEMS])


def test_every_route_answers_what_its_schema_declares(
    contract_client: TestClient, gate: Gate
) -> None:
    """`gate` holds the Gated run, so that it can be cancelled."""
    client = contract_client
    openapi = client.get("/openapi.json").json()
    planned = calls(client)
    declared = {
        operation_key(method, path)
        for path, operations in openapi["paths"].items()
        for method in operations
    }
    # A new route must be added to `calls`, so that its answer is checked too.
    assert {(c.method, c.template) for c in planned} == declared
    for call in planned:
        response = client.request(call.method, call.url, **call.kwargs)
        assert response.status_code == call.status, (call.method, call.url, response.text)
        media = response.headers.get("content-type", "").split(";")[0]
        declared_media = {m.split(";")[0] for m in declared_content(openapi, call)}
        assert (media in declared_media) == bool(response.content), call.url
        schema = response_schema(openapi, call)
        if schema is None:
            continue
        assert media == "application/json", call.url
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in jsonschema.Draft202012Validator(schema).iter_errors(response.json())
        ]
        assert errors == [], (call.method, call.url)


def test_the_contract_check_catches_an_answer_that_does_not_fit() -> None:
    """The check above is not vacuous: a wrong answer fails it."""
    openapi = {
        "paths": {
            "/x": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/X"}}
                            }
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "X": {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}
            }
        },
    }
    schema = response_schema(openapi, Call("GET", "/x", "/x", 200, {}))
    assert schema is not None
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"a": 1})
    assert not validator.is_valid({"a": "1"})


# -- typed parameter descriptors --------------------------------------------------------


def test_parameter_descriptors_are_a_typed_model(contract_client: TestClient) -> None:
    schemas = contract_client.get("/openapi.json").json()["components"]["schemas"]
    descriptor = schemas["ParameterDescriptor"]
    assert descriptor["type"] == "object"
    assert set(descriptor["required"]) == {"name", "type", "required"}
    assert set(descriptor["properties"]) == {
        "name",
        "type",
        "required",
        "value",
        "default",
        "min",
        "max",
        "min_length",
        "max_length",
        "choices",
        "kind",
        "description",
    }
    types = descriptor["properties"]["type"]["anyOf"][0]["enum"]
    assert types == [
        "integer",
        "float",
        "string",
        "boolean",
        "enum",
        "multi_enum",
        "date",
        "datetime",
        "interval",
    ]
    ref = {"$ref": "#/components/schemas/ParameterDescriptor"}
    assert schemas["AlgorithmParameters"]["properties"]["parameters"]["items"] == ref
    # A scenario also shows stored values its algorithm no longer declares.
    stored = {"$ref": "#/components/schemas/StoredParameter"}
    items = schemas["AlgorithmConfig"]["properties"]["parameters"]["items"]
    assert items == {"anyOf": [ref, stored]}
    assert schemas["StoredParameter"]["required"] == ["name", "value"]


def test_descriptors_leave_out_what_does_not_apply(contract_client: TestClient) -> None:
    body = contract_client.get(f"{M}/algorithms/Every type/parameters").json()
    by_name = {p["name"]: p for p in body["parameters"]}
    assert by_name["count"] == {
        "name": "count",
        "type": "integer",
        "required": True,
        "value": 3,
        "default": 3,
        "min": 0,
        "max": 10,
        "description": "How many",
    }
    assert by_name["fast"] == {
        "name": "fast",
        "type": "boolean",
        "required": True,
        "value": True,
        "default": True,
    }
    assert by_name["label"]["min_length"] == 1 and "min" not in by_name["label"]
    assert by_name["tags"]["choices"] == ["x", "y", 3]
    assert by_name["moment"]["value"] is None and by_name["moment"]["required"] is False
    assert by_name["period"]["kind"] == "date"
    assert by_name["period"]["value"] == {"start": "2024-01-01", "end": "2024-01-31"}


# -- API keys in OpenAPI ------------------------------------------------------------------


def swagger_headers(scheme: dict[str, Any], key: str) -> dict[str, str]:
    """The header Swagger UI sends for `scheme` once a key is entered under Authorize."""
    if scheme["type"] == "apiKey":
        assert scheme["in"] == "header"
        return {scheme["name"]: key}
    assert scheme["type"] == "http" and scheme["scheme"].lower() == "bearer"
    return {"Authorization": f"Bearer {key}"}


def test_api_keys_are_declared_for_swagger(make_client: ClientFactory) -> None:
    client = make_client(api_keys={"k-alice": "alice"})
    openapi = client.get("/openapi.json").json()
    schemes = openapi["components"]["securitySchemes"]
    assert schemes == {
        "APIKeyHeader": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An API key in the `X-API-Key` header.",
        },
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key as `Authorization: Bearer <key>`.",
        },
    }
    assert "security" not in openapi["paths"]["/health"]["get"]
    me = openapi["paths"]["/me"]["get"]
    assert me["security"] == [{"APIKeyHeader": []}, {"HTTPBearer": []}]
    scenarios = openapi["paths"][f"{PREFIX}/sessions/{{session_id}}/scenarios"]["post"]
    assert scenarios["security"] == me["security"]
    # Swagger UI sends the key as the scheme says; either scheme reaches a protected route.
    for requirement in me["security"]:
        (name,) = requirement
        headers = swagger_headers(schemes[name], "k-alice")
        assert client.get("/me", headers=headers).json()["username"] == "alice"
        created = client.post(
            f"{M}/scenarios",
            json={"tag": f"via {name}", "dataset_key": "Master data", "algo_name": "Instant"},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        assert client.get("/me", headers=swagger_headers(schemes[name], "wrong")).status_code == 401
    assert client.get("/me").status_code == 401


def test_no_security_declared_without_api_keys(client: TestClient) -> None:
    openapi = client.get("/openapi.json").json()
    assert "securitySchemes" not in openapi.get("components", {})
    assert all(
        "security" not in operation
        for operations in openapi["paths"].values()
        for operation in operations.values()
    )


def test_swagger_ui_is_served_with_the_schema_it_authorises_against(
    make_client: ClientFactory,
) -> None:
    """With public docs, /docs and /openapi.json need no key (Swagger loads them before
    Authorize); everything behind them does."""
    client = make_client(api_keys={"k-alice": "alice"}, public_docs=True)
    page = client.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assert client.get("/openapi.json").status_code == 200
    assert client.get(f"{M}/scenarios").status_code == 401


def test_the_shared_answers_are_declared(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    processing = paths[f"{PREFIX}/sessions/{{session_id}}/processing"]["get"]["responses"]
    assert "names nothing" in processing["404"]["description"]
    assert "503" in processing
    create = paths[f"{PREFIX}/sessions"]["post"]["responses"]
    assert "max_json_depth" in create["400"]["description"]
    assert "max_json_bytes" in create["413"]["description"]
    assert "404" not in create
    assert "413" not in paths["/health"]["get"]["responses"]
    for operations in paths.values():
        for operation in operations.values():
            for code, answer in operation["responses"].items():
                if code[0] in "45":
                    assert answer["content"]["application/json"]["schema"], code


def test_a_405_lists_every_method_of_the_path(client: TestClient) -> None:
    r = client.request("OPTIONS", f"{PREFIX}/sessions")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST"
    r = client.put(f"{PREFIX}/sessions/main/data/Master data")
    assert r.status_code == 405
    assert r.headers["allow"] == "DELETE, GET"
    assert r.json() == {"detail": "Method Not Allowed"}
    # A literal path wins over a templated one, as in OpenAPI's path matching.
    r = client.request("OPTIONS", f"{PREFIX}/sessions/main/data/from-json")
    assert r.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "name",
    [
        *("main", "v1.2 .. final", "a/b", ".", "..", "...", " . ", "  ", "nul\x00", "tab\there"),
        *("é", "x", ".x", "x.", ".x.", "a b", "week1 ", " week1", "a\u202eb", "a\u200bb"),
        *("\ufeffa", "a\u2028b", "a\xadb", "\u3000a", "a\u00a0"),
    ],
)
def test_the_name_pattern_says_what_the_core_checks(name: str) -> None:
    from algomancy_api.models import NAME_PATTERN
    from algomancy_core import InvalidInputError
    from algomancy_core.names import check_name

    try:
        check_name("name", name)
        accepted = True
    except InvalidInputError:
        accepted = False
    assert (re.search(NAME_PATTERN, name) is not None) == accepted
    # The same in the Rust engine schemathesis validates with (a pattern it cannot
    # compile is ignored there: any string would pass for valid).
    validator = jsonschema_rs.validator_for({"type": "string", "pattern": NAME_PATTERN})
    assert validator.is_valid(name) == accepted
