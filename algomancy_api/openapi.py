"""The app's OpenAPI document: FastAPI's, then our steps, in one place.

`customise_openapi(app, cfg)` replaces `app.openapi` once. The document is built
on first use (and cached on `app.openapi_schema`, as FastAPI does) from FastAPI's,
by these steps, in this order:

1. `add_api_keys` (only when API keys are configured): the security schemes, and
   the security requirement on every operation but the public ones;
2. `add_refusals`: the answers of the middlewares' refusals (400 Host, 401
   credentials, 403 cross-site write, 415 content type);
3. `add_shared_answers`: the answers of what all routes share (400, 404, 408, 413,
   503, 507), and the `{"detail": ...}` body on every error answer declared
   without one.

The order matters: a step keeps an answer an earlier one (or the route) declared,
and the last gives a body to every error answer the others left bodiless.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.security import APIKeyHeader, HTTPBearer

from algomancy_api.answers import add_refusals, add_shared_answers
from algomancy_api.config import ApiConfiguration
from algomancy_api.middleware.auth import API_KEY_HEADER, PUBLIC_PATHS

#: The OpenAPI security schemes of API keys: either header works.
SECURITY_SCHEMES: dict[str, Any] = {
    "APIKeyHeader": APIKeyHeader(
        name=API_KEY_HEADER, description="An API key in the `X-API-Key` header."
    ).model.model_dump(mode="json", by_alias=True, exclude_none=True),
    "HTTPBearer": HTTPBearer(
        description="An API key as `Authorization: Bearer <key>`."
    ).model.model_dump(mode="json", by_alias=True, exclude_none=True),
}

Step = Callable[[dict[str, Any]], None]


def add_api_keys(schema: dict[str, Any]) -> None:
    """Declare the API keys: both security schemes, and on every operation but the
    public ones, so that Swagger UI's Authorize button sends the key and generated
    clients know where it goes. `UserContextMiddleware` checks the key; the
    declaration adds no work per request."""
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in schema.get("paths", {}).items():
        if path in PUBLIC_PATHS:
            continue
        for operation in operations.values():
            operation["security"] = [{name: []} for name in SECURITY_SCHEMES]


def openapi_steps(cfg: ApiConfiguration) -> list[Step]:
    """The steps of the module's docstring that apply under `cfg`, in order."""
    steps: list[Step] = []
    if cfg.auth_enabled and cfg.api_keys:
        steps.append(add_api_keys)
    steps.append(
        partial(
            add_refusals,
            host_check=cfg.served_hosts != ["*"],
            authenticated=cfg.auth_enabled,
            public_paths=PUBLIC_PATHS,
        )
    )
    steps.append(add_shared_answers)
    return steps


def customise_openapi(app: FastAPI, cfg: ApiConfiguration) -> None:
    """Make `app.openapi` build FastAPI's document, then apply `openapi_steps`."""
    build_schema = app.openapi
    steps = openapi_steps(cfg)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build_schema()
        for step in steps:
            step(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
