"""`AlgomancyClient`: a small Python client for the HTTP API (httpx)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson

TERMINAL = ("complete", "failed")


class AlgomancyError(Exception):
    """The server answered with an error; `status` and `detail` say which."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class AlgomancyClient:
    """Drive a server from Python:

        client = AlgomancyClient("http://127.0.0.1:8051")
        scenario = client.create_scenario("abc", "Master data", "ABC slotting")
        client.run(scenario["id"])
        done = client.wait(scenario["id"])

    `session` is the session every call uses (UUID or display name, default `main`).
    Pass `http` to reuse an `httpx.Client` (e.g. a test client).
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8051",
        *,
        session: str = "main",
        prefix: str = "/api/v1",
        api_key: str | None = None,
        timeout: float = 60.0,
        http: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = http or httpx.Client(base_url=base_url, headers=headers, timeout=timeout)
        self.prefix = prefix.rstrip("/")
        self.session = session

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> AlgomancyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------
    def _url(self, path: str, *, scoped: bool = True) -> str:
        if not scoped:
            return f"{self.prefix}{path}"
        return f"{self.prefix}/sessions/{self.session}{path}"

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.http.request(method, url, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text
            raise AlgomancyError(response.status_code, detail)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # -- sessions ------------------------------------------------------------
    def sessions(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", self._url("/sessions", scoped=False))
        return result

    def create_session(self, display_name: str) -> dict[str, Any]:
        body = {"display_name": display_name}
        result: dict[str, Any] = self._call("POST", self._url("/sessions", scoped=False), json=body)
        return result["session"]

    def delete_session(self, session: str) -> None:
        self._call("DELETE", self._url(f"/sessions/{session}", scoped=False))

    # -- discovery -----------------------------------------------------------
    def algorithms(self) -> list[str]:
        result: list[str] = self._call("GET", self._url("/algorithms"))["algorithms"]
        return result

    def parameters(self, algorithm: str) -> list[dict[str, Any]]:
        result = self._call("GET", self._url(f"/algorithms/{algorithm}/parameters"))
        return result["parameters"]

    # -- scenarios -----------------------------------------------------------
    def create_scenario(
        self,
        tag: str,
        dataset_key: str,
        algo_name: str,
        algo_params: Mapping[str, Any] | None = None,
        data_params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        body = {
            "tag": tag,
            "dataset_key": dataset_key,
            "algo_name": algo_name,
            "algo_params": dict(algo_params) if algo_params is not None else None,
            "data_params": dict(data_params) if data_params is not None else None,
        }
        result: dict[str, Any] = self._call("POST", self._url("/scenarios"), json=body)
        return result

    def scenarios(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", self._url("/scenarios"))
        return result

    def scenario(self, scenario_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", self._url(f"/scenarios/{scenario_id}"))
        return result

    def run(self, scenario_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", self._url(f"/scenarios/{scenario_id}/run"))
        return result

    def reset(self, scenario_id: str) -> dict[str, Any]:
        """Back to `created`, the run's result and KPI values cleared."""
        url = self._url(f"/scenarios/{scenario_id}/reset")
        result: dict[str, Any] = self._call("POST", url)
        return result

    def cancel(self, scenario_id: str) -> dict[str, Any]:
        url = self._url(f"/scenarios/{scenario_id}/cancel")
        result: dict[str, Any] = self._call("POST", url)
        return result

    def status(self, scenario_id: str) -> dict[str, Any]:
        url = self._url(f"/scenarios/{scenario_id}/status")
        result: dict[str, Any] = self._call("GET", url)
        return result

    def delete_scenario(self, scenario_id: str) -> None:
        self._call("DELETE", self._url(f"/scenarios/{scenario_id}"))

    def wait(
        self, scenario_id: str, *, timeout: float = 600.0, interval: float = 0.2
    ) -> dict[str, Any]:
        """Poll until the scenario is complete or failed; the full scenario."""
        deadline = time.monotonic() + timeout
        while self.status(scenario_id)["status"] not in TERMINAL:
            if time.monotonic() > deadline:
                raise TimeoutError(f"scenario {scenario_id} did not finish in {timeout} s")
            time.sleep(interval)
        return self.scenario(scenario_id)

    def events(self, scenario_id: str) -> Iterator[dict[str, Any]]:
        """The scenario's Server-Sent Events, as dicts, until it is complete or failed."""
        url = self._url(f"/scenarios/{scenario_id}/events")
        with self.http.stream("GET", url, timeout=None) as response:
            if response.status_code >= 400:
                response.read()
                raise AlgomancyError(response.status_code, response.json().get("detail"))
            for line in response.iter_lines():
                if line.startswith("data: "):
                    yield orjson.loads(line[6:])

    # -- data ----------------------------------------------------------------
    def datasets(self) -> list[str]:
        result: list[str] = self._call("GET", self._url("/data"))["keys"]
        return result

    def upload(self, dataset_name: str, *paths: str | Path) -> dict[str, Any]:
        """Run the ETL over files (their names are the logical names)."""
        handles = [open(p, "rb") for p in paths]  # noqa: SIM115 - closed below
        try:
            files = [("files", (Path(p).name, h)) for p, h in zip(paths, handles, strict=True)]
            result: dict[str, Any] = self._call(
                "POST", self._url("/etl"), data={"dataset_name": dataset_name}, files=files
            )
            return result
        finally:
            for handle in handles:
                handle.close()

    def kpi_frame(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", self._url("/kpis/frame"))
        return result
