"""What the hostile cases (`benchmarks.hostile` and its `hostile_*` parts) send with:
a request and the short text of its answer (`answer_of`), an ETL upload, a
from-json post, a dataset document, and bodies built only when a case runs."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable

import httpx

from benchmarks.common import PREFIX, ROOT

MiB = 1024 * 1024
M = f"{PREFIX}/sessions/main"
DATA = ROOT / "algomancy_example" / "data"
#: A case: (client, the server's base URL) -> the answer's short text.
Case = Callable[[httpx.Client, str], str]
Content = bytes | Callable[[], bytes]


def answer_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:90]!r}"
    if isinstance(body, dict) and "detail" in body:
        detail = body["detail"]
        text = detail if isinstance(detail, str) else json.dumps(detail)
        return f"{response.status_code} {text[:110]}"
    if isinstance(body, dict) and body.get("success") is False:
        messages = body.get("messages", [])
        failed = [m for m in messages if m.get("severity") == "error"] or messages
        first = failed[0]["message"] if failed else "(no message)"
        return f"{response.status_code} ETL failed: {first[:100]}"
    return f"{response.status_code} {json.dumps(body)[:90]}"


def etl(client: httpx.Client, *files: tuple[str, bytes], dataset: str = "") -> str:
    dataset = dataset or f"upload-{time.monotonic_ns()}"
    parts = [("files", (name, content)) for name, content in files]
    return answer_of(client.post(f"{M}/etl", data={"dataset_name": dataset}, files=parts))


def from_json(client: httpx.Client, body: bytes, content_type: str = "application/json") -> str:
    response = client.post(
        f"{M}/data/from-json", content=body, headers={"content-type": content_type}
    )
    return answer_of(response)


def dataset_document(**changes: object) -> dict[str, object]:
    document: dict[str, object] = {
        "format": "algomancy.datasource",
        "version": 1,
        "name": "hostile-json",
        "classification": "master_data",
        "tables": {"t": {"columns": ["a"], "dtypes": ["int64"], "data": {"a": [1, 2]}}},
    }
    document.update(changes)
    return document


def lazily(build: Callable[..., bytes], *args: object) -> Callable[[], bytes]:
    """`build(*args)`, made on the first call and kept: building every case's body up
    front took ~18 s of CPU (the zip bombs, the 10M-cell workbook) even when `--only`
    keeps a few cases (tests/meta/test_soak_tools.py runs five)."""
    return functools.cache(lambda: build(*args))


def body(content: Content) -> bytes:
    return content if isinstance(content, bytes) else content()
