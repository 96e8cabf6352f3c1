"""The bundled warehouse example, as an `ApiConfiguration`.

The domain lives in the `algomancy_example` package; it is loaded by name, like any user
configuration (`--config`), so this package does not depend on it.
"""

from __future__ import annotations

from typing import Any

from algomancy_api.config import ApiConfiguration
from algomancy_api.loading import load_config

EXAMPLE_SPEC = "algomancy_example.domain:example_settings"


def build_example_config(**overrides: Any) -> ApiConfiguration:
    """The example domain's configuration; keyword arguments override fields
    (e.g. `data_path`, `has_persistent_state`, `port`)."""
    return load_config(EXAMPLE_SPEC).replace(**overrides)
