"""A gunicorn worker class: uvicorn's, with `serve`'s guard on slow clients.

    gunicorn -k algomancy_api.gunicorn_worker.UvicornWorker \\
        'algomancy_api.cli:app_from_environment()'

It serves with `algomancy_api.slowclients`'s protocol (a deadline on each request's
headers; the app factory sets it from the configuration) and raises the worker's
open-file limit to its hard limit, as `serve` does.
"""

from __future__ import annotations

import warnings
from typing import Any

from algomancy_api.slowclients import HTTP_PROTOCOL, raise_open_file_limit

with warnings.catch_warnings():
    # uvicorn announces that its worker moves to the `uvicorn-worker` package.
    warnings.simplefilter("ignore", DeprecationWarning)
    from uvicorn.workers import UvicornWorker as _UvicornWorker


class UvicornWorker(_UvicornWorker):
    """uvicorn's gunicorn worker with the header deadline and no WebSocket protocol."""

    CONFIG_KWARGS: dict[str, Any] = {
        **_UvicornWorker.CONFIG_KWARGS,
        "http": HTTP_PROTOCOL,
        # No WebSocket routes: no WebSocket library loaded (2.5 MiB of RSS at rest).
        "ws": "none",
    }

    def init_process(self) -> None:
        raise_open_file_limit()
        super().init_process()
