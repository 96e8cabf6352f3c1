"""The environment variables the deployment settings travel in between `serve` (or
your shell) and each server process (`algomancy_api.deployment` reads and writes
them). Kept apart so that the CLI names them without importing pydantic-settings."""

from __future__ import annotations

#: What `--config` takes: `module:attribute` or a file.
ENV_SPEC = "ALGOMANCY_CONFIG"
#: Configuration fields to override, as a JSON object.
ENV_OVERRIDES = "ALGOMANCY_OVERRIDES"
#: The folder `--config` modules are imported from first (the one `serve` ran in).
ENV_APP_DIR = "ALGOMANCY_APP_DIR"
#: Prometheus' multiprocess folder (prometheus-client's own variable, read at its
#: import in each worker).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
