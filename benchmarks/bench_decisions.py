"""Deciding between scenarios (issue 26):

1. The KPI comparison frame (`GET …/kpis/frame`) of 1,000 complete scenarios with a
   baseline (deltas and verdicts per KPI) against the same frame without one.
   Target ≤ 2x.
2. The XLSX report of 200 scenarios (`GET …/report?format=xlsx`, with a baseline)
   against writing the same cells plainly with openpyxl (no formats, fills, frozen
   rows or escaping). Target ≤ 3x.

Both in one process through the ASGI app (no network between), the best of
`ROUNDS` rounds each, so that a busy shared machine does not decide the ratio.

    python -m benchmarks.bench_decisions
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import openpyxl
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from benchmarks.common import Row, env_int, run_alone
from tests.api.conftest import api_config
from tests.decisions_domain import complete_records, decisions_config

ROUNDS = env_int("BENCH_DECISIONS_ROUNDS", 5)
FRAME_SCENARIOS = env_int("BENCH_DECISIONS_FRAME", 1000)
REPORT_SCENARIOS = env_int("BENCH_DECISIONS_REPORT", 200)
M = "/api/v1/sessions/main"


def best(func: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return min(times)


def fill(client: TestClient, count: int) -> None:
    """`count` complete scenarios written straight into the store (running them is
    not what is measured)."""
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    manager = sessions.get_session("main")
    for record in complete_records(manager.session_id, count):
        sessions.runtime.store.add_scenario(record)


def get(client: TestClient, path: str, **params: str) -> bytes:
    response = client.get(path, params=params)
    response.raise_for_status()
    return response.content


def frame_rows() -> list[Row]:
    with TestClient(ApiLauncher.build(api_config(**decisions_config()))) as client:
        fill(client, FRAME_SCENARIOS)
        plain = best(lambda: get(client, f"{M}/kpis/frame"))
        against = best(lambda: get(client, f"{M}/kpis/frame", baseline="scenario-0000"))
    return [
        Row(
            f"KPI frame of {FRAME_SCENARIOS} scenarios with a baseline",
            against * 1000,
            "ms",
            baseline=plain * 1000,
            target=2.0,
            op="<=",
            note="baseline: the same frame without a baseline",
        )
    ]


def plain_xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_rows() -> list[Row]:
    with TestClient(ApiLauncher.build(api_config(**decisions_config()))) as client:
        fill(client, REPORT_SCENARIOS)
        params = {"baseline": "scenario-0000", "format": "xlsx"}
        made = get(client, f"{M}/report", **params)
        read = openpyxl.load_workbook(io.BytesIO(made))
        sheets = {
            sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in read.worksheets
        }
        cells = sum(len(row) for rows in sheets.values() for row in rows)
        report = best(lambda: get(client, f"{M}/report", **params))
        plain = best(lambda: plain_xlsx(sheets))
    return [
        Row(
            f"XLSX report of {REPORT_SCENARIOS} scenarios",
            report * 1000,
            "ms",
            baseline=plain * 1000,
            target=3.0,
            op="<=",
            note=f"baseline: the same {cells} cells written plainly with openpyxl",
        )
    ]


def run() -> list[Row]:
    return frame_rows() + report_rows()


if __name__ == "__main__":
    raise SystemExit(run_alone(run))
