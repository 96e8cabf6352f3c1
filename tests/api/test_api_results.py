"""Result tables of a scenario, listed and served as tabular frames."""

from __future__ import annotations

import io
import json

import jsonschema
import openpyxl
import pandas as pd
from fastapi.testclient import TestClient

from algomancy_core import BaseResult, RunContext
from algomancy_data import DataSource
from tests.core.conftest import Instant
from tests.core.test_core_scenario_manager import Tabled

from .conftest import PREFIX, ClientFactory
from .test_api_data import SCHEMA_FILE
from .test_api_scenarios import poll

M = f"{PREFIX}/sessions/main"


def test_result_tables_and_frames(make_client: ClientFactory) -> None:
    client: TestClient = make_client(algorithms=[Instant, Tabled])
    body = {"tag": "t", "dataset_key": "Master data", "algo_name": "Tabled"}
    scenario_id = client.post(f"{M}/scenarios", json=body).json()["id"]
    r = client.get(f"{M}/scenarios/{scenario_id}/result/tables")
    assert r.status_code == 409 and "not complete" in r.json()["detail"]
    client.post(f"{M}/scenarios/{scenario_id}/run")
    assert poll(client, scenario_id)["status"] == "complete"
    tables = client.get(f"{M}/scenarios/{scenario_id}/result/tables").json()
    assert tables == {"tables": [{"name": "lines", "rows": 3, "columns": ["line", "qty"]}]}
    frame = client.get(
        f"{M}/scenarios/{scenario_id}/result/tables/lines/frame", params={"offset": 1}
    ).json()
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(frame)
    assert frame["rows"] == [{"line": 1, "qty": 6}, {"line": 2, "qty": 9}]
    assert frame["source"]["kind"] == "scenario-result"
    assert client.get(f"{M}/scenarios/{scenario_id}/result/tables/nope/frame").status_code == 404
    assert client.get(f"{M}/scenarios/nope/result/tables").status_code == 404


class Risky(Instant):
    """A result table whose text cells a spreadsheet would run as formulas."""

    name = "Risky"

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        cells = pd.DataFrame({"text": ["=1+1", "@SUM(A1)", "plain"], "number": [-1.5, 2.0, 3.0]})
        return BaseResult({"total": 3, "count": 1}, tables={"cells": cells})


def test_result_tables_download_escaped_with_a_filename(make_client: ClientFactory) -> None:
    client: TestClient = make_client(algorithms=[Instant, Risky])
    body = {"tag": "risky ä", "dataset_key": "Master data", "algo_name": "Risky"}
    scenario_id = client.post(f"{M}/scenarios", json=body).json()["id"]
    url = f"{M}/scenarios/{scenario_id}/result/tables/cells/download"
    r = client.get(url)
    assert r.status_code == 409 and "not complete" in r.json()["detail"]
    client.post(f"{M}/scenarios/{scenario_id}/run")
    assert poll(client, scenario_id)["status"] == "complete"

    r = client.get(url)  # CSV by default
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="risky _-cells.csv"')
    assert "filename*=UTF-8''risky%20%C3%A4-cells.csv" in disposition
    assert r.content.splitlines() == [
        b"text,number",
        b"'=1+1,-1.5",
        b"'@SUM(A1),2.0",
        b"plain,3.0",
    ]

    r = client.get(url, params={"format": "xlsx"})
    assert (
        r.status_code == 200 and 'filename="risky _-cells.xlsx"' in r.headers["content-disposition"]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(r.content))["cells"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [("text", "number"), ("'=1+1", -1.5), ("'@SUM(A1)", 2), ("plain", 3)]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_result_table_download_errors(make_client: ClientFactory) -> None:
    client: TestClient = make_client(algorithms=[Instant, Risky])
    body = {"tag": "r", "dataset_key": "Master data", "algo_name": "Risky"}
    scenario_id = client.post(f"{M}/scenarios", json=body).json()["id"]
    client.post(f"{M}/scenarios/{scenario_id}/run")
    assert poll(client, scenario_id)["status"] == "complete"
    base = f"{M}/scenarios/{scenario_id}/result/tables"
    r = client.get(f"{base}/nope/download")
    assert r.status_code == 404 and "'nope'" in r.json()["detail"] and "cells" in r.json()["detail"]
    r = client.get(f"{base}/cells/download", params={"format": "pdf"})
    assert r.status_code == 422 and "format" in r.text
    assert client.get(f"{M}/scenarios/nope/result/tables/cells/download").status_code == 404
    assert (
        client.get(
            f"{PREFIX}/sessions/nope/scenarios/{scenario_id}/result/tables/cells/download"
        ).status_code
        == 404
    )
    # A complete scenario whose result has no tables: any table is 404.
    body = {"tag": "plain", "dataset_key": "Master data", "algo_name": "Instant"}
    plain = client.post(f"{M}/scenarios", json=body).json()["id"]
    client.post(f"{M}/scenarios/{plain}/run")
    assert poll(client, plain)["status"] == "complete"
    r = client.get(f"{M}/scenarios/{plain}/result/tables/cells/download")
    assert r.status_code == 404 and "none" in r.json()["detail"]
