"""The web app's settings from the configuration: title, logo, accent colour, features."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from algomancy_core import ConfigurationError

#: Switches of the web app, and their defaults.
FEATURES: dict[str, bool] = {"session_picker": True, "parameter_upload": True}
#: Logo files served, by suffix.
LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
#: The largest logo served (it is read once, at startup).
MAX_LOGO_BYTES = 512 * 1024
COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def check_accent(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not COLOUR.match(value.strip()):
        raise ConfigurationError(f"app_accent: must be a colour like '#1d4ed8', got {value!r}")
    return value.strip().lower()


def check_features(value: object) -> dict[str, bool]:
    if value is None:
        return dict(FEATURES)
    if not isinstance(value, Mapping):
        raise ConfigurationError("app_features: must map feature names to true or false")
    unknown = sorted(set(value) - set(FEATURES))
    if unknown:
        raise ConfigurationError(
            f"app_features: unknown feature {unknown[0]!r} (features: {', '.join(FEATURES)})"
        )
    for name, on in value.items():
        if not isinstance(on, bool):
            raise ConfigurationError(f"app_features: {name} must be true or false")
    return FEATURES | dict(value)


def check_logo(value: object) -> str | None:
    """The logo's path as given, once it names a readable image file of a served
    type and size."""
    if value is None:
        return None
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ConfigurationError("app_logo: must be the path of an image file")
    path = Path(value).expanduser()
    if path.suffix.lower() not in LOGO_TYPES:
        raise ConfigurationError(
            f"app_logo: {str(value)!r} must be one of {', '.join(LOGO_TYPES)} files"
        )
    if not path.is_file():
        raise ConfigurationError(f"app_logo: {str(value)!r} is not a file")
    if path.stat().st_size > MAX_LOGO_BYTES:
        raise ConfigurationError(f"app_logo: {str(value)!r} is over {MAX_LOGO_BYTES} bytes")
    return str(value)


def settings_payload(
    title: str, app_title: str | None, logo: bool, accent: str | None, features: dict[str, bool]
) -> dict[str, Any]:
    return {
        "title": app_title or title,
        "logo": logo,
        "accent": accent,
        "features": dict(features),
    }
