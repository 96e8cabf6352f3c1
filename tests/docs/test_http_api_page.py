"""docs/http-api.md lists every route of the OpenAPI schema, with each status code
the route declares, and nothing the server does not have."""

from __future__ import annotations

import re

import pytest

from algomancy_api import ApiConfiguration, ApiLauncher
from algomancy_api.answers import REFUSALS, SHARED_REASONS
from algomancy_example import example_settings
from tests.docs.blocks import DOCS

PAGE = DOCS / "http-api.md"
PREFIX = "/api/v1"
ROW = re.compile(r"^\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*`([^`]+)`[^|]*\|(.*)\|\s*$")
#: Declared on (nearly) every route and documented once, under Errors.
EVERYWHERE = {"401", "422"}
#: Served by FastAPI itself, or not JSON (Prometheus' text): not in the schema's paths.
NOT_IN_SCHEMA = {"/docs", "/redoc", "/openapi.json", "/metrics"}


def documented() -> dict[tuple[str, str], str]:
    rows: dict[tuple[str, str], str] = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            verb, path, answer = match.groups()
            rows[(verb, path.split("?")[0].split(" ")[0])] = answer
    return rows


def schema_operations() -> dict[tuple[str, str], set[str]]:
    app = ApiLauncher.build(ApiConfiguration(**example_settings()))
    operations: dict[tuple[str, str], set[str]] = {}
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            route = path.removeprefix(PREFIX)
            # The site checks' refusals and the answers every route shares are
            # documented once, under Errors.
            operations[(method.upper(), route)] = {
                code
                for code, answer in operation.get("responses", {}).items()
                if not shared_only(answer.get("description", ""))
            }
    return operations


def shared_only(description: str) -> bool:
    for reason in (*REFUSALS.values(), *SHARED_REASONS):
        description = description.replace(reason, "")
    return not description.strip()


OPERATIONS = schema_operations()


@pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=" ".join)
def test_every_route_is_documented_with_its_status_codes(operation: tuple[str, str]) -> None:
    rows = documented()
    assert operation in rows, f"{operation} is not in a table of docs/http-api.md"
    answer = rows[operation]
    missing = [
        code
        for code in sorted(OPERATIONS[operation] - EVERYWHERE)
        if not re.search(rf"\b{code}\b", answer)
    ]
    assert missing == [], f"{operation}: the page does not say when it answers {missing}"


def test_the_page_documents_no_route_the_server_lacks() -> None:
    extra = [row for row in documented() if row not in OPERATIONS and row[1] not in NOT_IN_SCHEMA]
    assert extra == []
