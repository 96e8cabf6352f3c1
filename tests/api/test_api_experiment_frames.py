"""The frame of an experiment kept by the schema version 15 code answers, once its
database migrated to version 16 (points in rows of their own), the very bytes that
code answered, whole and by page, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from tests.api.conftest import PREFIX, api_config
from tests.core.test_core_experiment_points import version_15_database  # noqa: F401
from tests.fixtures import TABULAR_FRAME_V1_SCHEMA, fixture_file
from tests.pg import postgres_server, postgres_url  # noqa: F401

M = f"{PREFIX}/sessions/main"


@pytest.mark.parametrize("name", ["grid", "again", "rand"])
def test_the_frame_is_byte_identical_after_the_migration(
    version_15_database: tuple[str, dict[str, Any]],  # noqa: F811
    name: str,
) -> None:
    url, made = version_15_database
    expected = made["experiments"][name]
    schema = json.loads(fixture_file(TABULAR_FRAME_V1_SCHEMA).read_text())
    with TestClient(ApiLauncher.build(api_config(database_url=url))) as client:
        frame = f"{M}/experiments/{expected['id']}/frame"
        whole = client.get(frame)
        page = client.get(f"{frame}?offset=1&limit=2")
    assert whole.status_code == 200 and page.status_code == 200
    assert whole.content == expected["whole"].encode()
    assert page.content == expected["page"].encode()
    jsonschema.validate(whole.json(), schema)
