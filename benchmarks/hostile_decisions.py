"""Hostile input against the decision routes (issue 26), merged into
`benchmarks.hostile.cases()`: long selections, odd tolerances, a pinned scenario
deleted, big acceptance bodies, formulas in a report."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from benchmarks.common import PREFIX

M = f"{PREFIX}/sessions/main"
Case = Callable[[httpx.Client, str], str]


def _answer(response: httpx.Response) -> str:
    return f"{response.status_code} {response.text[:90]}"


def _scenario(client: httpx.Client, tag: str) -> str:
    body = {"tag": tag, "dataset_key": "Master data", "algo_name": "Slow"}
    created = client.post(f"{M}/scenarios", json=body)
    created.raise_for_status()
    return str(created.json()["id"])


def _pinned_delete(client: httpx.Client, _: str) -> str:
    sid = _scenario(client, f"pinned-{time.monotonic_ns()}")
    client.put(f"{M}/baseline", json={"scenario_id": sid}).raise_for_status()
    refused = _answer(client.delete(f"{M}/scenarios/{sid}"))
    client.delete(f"{M}/baseline").raise_for_status()
    return refused


def _acceptance(client: httpx.Client, _: str) -> str:
    sid = _scenario(client, f"accept-{time.monotonic_ns()}")
    rules = [{"kpi": "throughput", "rule": "within", "tolerance": 0.1}] * 100
    body = {"baseline": sid, "candidates": [sid] * 1000, "rules": rules}
    began = time.perf_counter()
    answer = _answer(client.post(f"{M}/acceptance", json=body))
    return f"{answer[:40]} in {time.perf_counter() - began:.2f} s"


def _formula_report(client: httpx.Client, _: str) -> str:
    tag = f'=HYPERLINK("x")-{time.monotonic_ns()}'
    _scenario(client, tag)
    response = client.get(f"{M}/report", params={"format": "xlsx", "ids": tag})
    return f"{response.status_code} {len(response.content)} bytes"


def cases_decisions() -> dict[str, Case]:
    many = "&".join(f"ids=s{i}" for i in range(5_000))
    return {
        "decide: 5,000 unknown ids in the frame query": lambda c, _: _answer(
            c.get(f"{M}/kpis/frame?{many}")
        ),
        "decide: tolerance 1e400": lambda c, _: _answer(
            c.get(f"{M}/kpis/frame", params={"tolerance": "1e400"})
        ),
        "decide: tolerance NaN": lambda c, _: _answer(
            c.get(f"{M}/kpis/frame", params={"tolerance": "nan"})
        ),
        "decide: baseline=pinned with none pinned": lambda c, _: _answer(
            c.get(f"{M}/kpis/frame", params={"baseline": "pinned"})
        ),
        "decide: delete the pinned baseline": _pinned_delete,
        "decide: acceptance, a candidate named 1,000 times, 100 rules": _acceptance,
        "decide: XLSX report of a formula tag": _formula_report,
        "decide: report format docx": lambda c, _: _answer(
            c.get(f"{M}/report", params={"format": "docx"})
        ),
    }
