"""The baseline of the polling figures: a bare FastAPI route returning a constant dict.

    uvicorn benchmarks.baseline_app:app --host 127.0.0.1 --port P

Served by uvicorn with the settings `algomancy-api serve` uses (log level info, so
with access logs), and with a `/health` route for the readiness check.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()

STATUS = {
    "id": "00000000-0000-0000-0000-000000000000",
    "tag": "baseline",
    "status": "processing",
    "progress": 0.5,
}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/v1/sessions/main/scenarios/{scenario_id}/status")
async def status(scenario_id: str) -> dict[str, Any]:
    return STATUS
