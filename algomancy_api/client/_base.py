"""What the sync and async clients share: configuration, errors, files, the
scenario event parser (the routes are in `routes`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import orjson
from httpx_sse import ServerSentEvent

from algomancy_api.client.models import ScenarioEvent

DEFAULT_URL = "http://127.0.0.1:8051"
ENV_URL = "ALGOMANCY_URL"
ENV_API_KEY = "ALGOMANCY_API_KEY"
ENV_SESSION = "ALGOMANCY_SESSION"


class AlgomancyError(Exception):
    """The server answered with an error: `status` (the HTTP status code, also as
    `status_code`), the server's `detail` (a string, or a list for 422s) and
    `request_id`, the answer's `X-Request-ID` (None for an error the client raised
    itself): quote it when reporting a problem, the server's log lines carry it."""

    def __init__(self, status: int, detail: Any, request_id: str | None = None) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail
        self.request_id = request_id

    @property
    def status_code(self) -> int:
        return self.status


def settings(
    base_url: str | None, api_key: str | None, session: str | None
) -> tuple[str, str | None, str]:
    """Arguments first, then ALGOMANCY_URL / ALGOMANCY_API_KEY / ALGOMANCY_SESSION."""
    return (
        base_url or os.environ.get(ENV_URL) or DEFAULT_URL,
        api_key or os.environ.get(ENV_API_KEY) or None,
        session or os.environ.get(ENV_SESSION) or "main",
    )


def headers(api_key: str | None) -> dict[str, str]:
    values = {"X-Requested-With": "algomancy-client"}
    if api_key:
        values["Authorization"] = f"Bearer {api_key}"
    return values


def raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
        detail = body.get("detail", body) if isinstance(body, dict) else body
    except ValueError:
        detail = response.text
    raise AlgomancyError(response.status_code, detail, response.headers.get("X-Request-ID"))


def read_files(paths: Iterable[str | Path]) -> list[tuple[str, tuple[str, bytes]]]:
    """Multipart parts for the ETL: each file under its own name (the logical name)."""
    return [("files", (Path(p).name, Path(p).read_bytes())) for p in paths]


def scenario_event(message: ServerSentEvent) -> ScenarioEvent | None:
    """The `ScenarioEvent` of one event of a scenario's stream (framed by
    `httpx_sse`); raises AlgomancyError on `deleted`."""
    if message.event == "deleted":
        raise AlgomancyError(404, "the scenario was deleted")
    if not message.data:
        return None
    event_id = message.id or None
    return ScenarioEvent.model_validate(orjson.loads(message.data) | {"event_id": event_id})
