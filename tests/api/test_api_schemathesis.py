"""Schemathesis against the app, with all its default checks: no 5xx, no status
code the OpenAPI document does not declare, no response that breaks its schema,
no schema-valid request refused and no schema-invalid one accepted; once with
authentication off and once with an API key.

The number of examples per operation is bounded (`EXAMPLES`, `AUTHENTICATED_EXAMPLES`)
and the examples are derandomised, so that the run is the same on every CI run and
takes well under two minutes on two cores.

One check is configured, not left at its default: a schema-valid request may also
be answered 400. Algorithm and data parameters are declared by each algorithm and
dataset at run time (`…/algorithms/{name}/parameters`), so the static schema of a
scenario body says "any JSON value" where the algorithm wants, say, an integer from
1 to 60; such a value is refused with a 400 naming the parameter, which the
document declares. The same goes for values the API takes nowhere (NaN, numbers
out of range, a key repeated in one object: docs/configuration.md, Limits)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.config import SchemathesisConfig

from algomancy_api import ApiLauncher

from .conftest import api_config

#: Slow: no process of its own, but it runs long (~40 s of CPU, most of it Hypothesis
#: drawing the examples, and ~4 s more to collect it in each worker), so the fast loop
#: leaves it out; the README's command runs it (docs/testing.md, Markers).
pytestmark = pytest.mark.slow

EXAMPLES = 25
#: Fewer with the API key: what the key changes (the authentication middleware lets the
#: request through, the answers name their owner) is the same for every example of an
#: operation, and the generated values go through the same code as the open run's 25
#: (half the file's CPU was this run: 33% of its samples with py-spy, 30% the open run's;
#: with 10 rather than 25 the file alone took 57.9 and 53.1 s of CPU against 62.9 and
#: 70.7 s, two runs each side by side on a loaded machine; docs/testing.md).
AUTHENTICATED_EXAMPLES = 10
API_KEY = "schemathesis-key"

#: Ids that exist on a fresh app, so that examples reach past the 404s.
KNOWN_IDS = {
    "session_id": "main",
    "data_key": "Master data",
    "table": "items",
    "algorithm_name": "Instant",
}


def with_known_ids(
    context: Any, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """The generated path parameters, or the same with the known ids."""
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    known = {k: v for k, v in KNOWN_IDS.items() if k in path_parameters}
    return st.sampled_from([path_parameters, {**path_parameters, **known}])


@schemathesis.serializer("application/zip")
def zip_body(ctx: Any, value: Any) -> bytes:
    """The archive import's raw body: generated binary data, sent as it is (the
    import answers a body that is not an archive with 400)."""
    return value if isinstance(value, bytes) else str(value).encode()


#: The default statuses of the positive-data check, and 400 (see the docstring).
CONFIG = {
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
        }
    }
}


def app_schema(**overrides: Any) -> Any:
    app = ApiLauncher.build(api_config(**overrides))
    config = SchemathesisConfig.from_dict(CONFIG)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    schema.hook("flatmap_path_parameters")(with_known_ids)
    # The session stream follows until the client leaves: tested in
    # test_api_session_events, not called here (each call would never end).
    return schema.exclude(path_regex=r"/sessions/\{session_id\}/events$")


OPEN = app_schema()
AUTHENTICATED = app_schema(api_keys={API_KEY: "alice"})
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@OPEN.parametrize()
@SETTINGS
def test_the_api_holds_to_its_schema(case: Case) -> None:
    case.call_and_validate()


@AUTHENTICATED.parametrize()
@settings(SETTINGS, max_examples=AUTHENTICATED_EXAMPLES)
def test_the_api_holds_to_its_schema_with_authentication(case: Case) -> None:
    case.call_and_validate(headers={"X-API-Key": API_KEY})


def test_every_operation_is_covered() -> None:
    operations = [result.ok() for result in OPEN.get_all_operations()]
    assert len(operations) >= 30
    assert len(list(AUTHENTICATED.get_all_operations())) == len(operations)


@pytest.mark.parametrize("schema", [OPEN, AUTHENTICATED], ids=["open", "authenticated"])
def test_every_error_answer_has_the_detail_body(schema: Any) -> None:
    document = schema.raw_schema
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation["responses"].items():
                if code.startswith(("4", "5")):
                    body = answer.get("content", {}).get("application/json", {}).get("schema")
                    assert body, f"{method} {path} {code}"
