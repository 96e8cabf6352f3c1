"""The folder of Prometheus' multiprocess mode, for servers of several processes.

prometheus-client decides at import whether values go to files: the variable
`PROMETHEUS_MULTIPROC_DIR` must be set before a worker imports it. `serve
--workers N` and `algomancy_api.gunicorn_conf` set it up in the parent process,
before any worker starts. Nothing here imports prometheus-client.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from algomancy_api.envnames import MULTIPROC_ENV


def prepare_multiproc_dir() -> str | None:
    """Make `PROMETHEUS_MULTIPROC_DIR` ready: the one set is created if missing and
    emptied of earlier metric files (their values would be summed with the new
    ones); without one, a fresh temporary folder is made and set. Returns the
    folder made (for `remove_multiproc_dir` at exit), or None."""
    from algomancy_api.deployment import DeploymentSettings

    folder = DeploymentSettings().multiproc_dir
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
        return None
    made = tempfile.mkdtemp(prefix="algomancy-metrics-")
    DeploymentSettings.given(multiproc_dir=made).export()
    return made


def remove_multiproc_dir(folder: str) -> None:
    """Remove a folder `prepare_multiproc_dir` made, and its variable."""
    from algomancy_api.deployment import DeploymentSettings

    shutil.rmtree(folder, ignore_errors=True)
    if DeploymentSettings().multiproc_dir == folder:
        del os.environ[MULTIPROC_ENV]
