"""gunicorn settings for serving Algomancy: `gunicorn -c python:algomancy_api.gunicorn_conf`.

- uvicorn's worker class (the app is ASGI);
- Prometheus' multiprocess mode: every worker writes its metrics to files in
  `PROMETHEUS_MULTIPROC_DIR`, and a scrape of `/metrics` on any worker sums them.
  The folder is the one in the environment (emptied of old metric files at start:
  values of an earlier server would be summed too), or else a fresh temporary one,
  removed at exit. A worker that exits (stopped, restarted or crashed) has its live
  gauges (uploads in flight, open event streams) dropped.

Other settings come from the command line as usual (`-w`, `--bind`...), which
override these.
"""

from __future__ import annotations

from typing import Any

from algomancy_api.multiproc import prepare_multiproc_dir, remove_multiproc_dir

worker_class = "uvicorn.workers.UvicornWorker"

# At import, in the master, before any worker starts (and imports prometheus-client).
_made = prepare_multiproc_dir()


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _made is not None:
        remove_multiproc_dir(_made)
