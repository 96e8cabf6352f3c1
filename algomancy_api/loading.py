"""Load a user's configuration from `module:attribute`."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from algomancy_api.config import ApiConfiguration
from algomancy_core import CoreConfig


class ConfigLoadError(ValueError):
    """`module:attribute` does not name a usable configuration."""


def load_config(spec: str) -> ApiConfiguration:
    """The configuration named by `module:attribute`.

    The attribute may be an `ApiConfiguration`, a `CoreConfig`, a dict of fields,
    or a zero-argument callable returning one of those.
    """
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigLoadError(f"--config {spec!r}: expected 'module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = ""
        missing = getattr(exc, "name", None)
        # Only when the module itself (or its package) is missing, not one it imports.
        if missing is not None and (module_name + ".").startswith(missing + "."):
            top = module_name.partition(".")[0]
            hint = (
                f" (looked in the current folder {os.getcwd()} and on the Python path: "
                f"run from the folder that holds {top}.py or the {top}/ package, "
                "or add its folder to PYTHONPATH)"
            )
        raise ConfigLoadError(
            f"--config {spec!r}: cannot import {module_name!r}: {exc}{hint}"
        ) from exc
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigLoadError(
                f"--config {spec!r}: {module_name} has no {attribute!r}"
            ) from None
    if callable(target) and not isinstance(target, CoreConfig | Mapping | type):
        target = target()
    if not isinstance(target, CoreConfig | Mapping):
        raise ConfigLoadError(
            f"--config {spec!r}: expected an ApiConfiguration, CoreConfig or dict, "
            f"got {type(target).__name__}"
        )
    return ApiConfiguration.coerce(target)
