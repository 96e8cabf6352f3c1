"""User context: API keys or a trusted identity header, off by default."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import FastAPI
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from algomancy_api.errors import detail_response
from algomancy_api.webapp import ASSET_PREFIXES

#: The web app's page and files hold no data: it asks for a key, then calls the API.
PUBLIC_PATHS = ("/health", "/")
API_KEY_HEADER = "X-API-Key"
DOC_PATHS = ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")


class UserContextMiddleware:
    """Sets `request.state.user` from the credentials; 401 when they are missing.

    API keys come as `Authorization: Bearer <key>` or `X-API-Key: <key>`; a
    trusted proxy may name the user in `identity_header` instead.
    """

    def __init__(
        self,
        app: ASGIApp,
        api_keys: dict[str, str],
        identity_header: str | None,
        public_docs: bool,
    ) -> None:
        self.app = app
        self.api_keys = dict(api_keys)
        self.identity_header = identity_header.lower().encode() if identity_header else None
        self.public = PUBLIC_PATHS + (DOC_PATHS if public_docs else ())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if scope["type"] != "http" or path in self.public or path.startswith(ASSET_PREFIXES):
            await self.app(scope, receive, send)
            return
        user = self.identify(dict(scope.get("headers", ())))
        if user is None:
            denied = detail_response(
                401, "authentication required: send a valid API key", {"WWW-Authenticate": "Bearer"}
            )
            await denied(scope, receive, send)
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)

    def identify(self, headers: dict[bytes, bytes]) -> str | None:
        key = headers.get(API_KEY_HEADER.lower().encode(), b"").decode("latin-1").strip()
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if not key and authorization.lower().startswith("bearer "):
            key = authorization[7:].strip()
        if key:
            for known, user in self.api_keys.items():
                if hmac.compare_digest(known.encode(), key.encode()):
                    return user
            return None
        if self.identity_header is not None:
            name = headers.get(self.identity_header, b"").decode("utf-8", "replace").strip()
            return name or None
        return None


#: The OpenAPI security schemes of API keys: either header works.
SECURITY_SCHEMES: dict[str, Any] = {
    "APIKeyHeader": APIKeyHeader(
        name=API_KEY_HEADER, description="An API key in the `X-API-Key` header."
    ).model.model_dump(mode="json", by_alias=True, exclude_none=True),
    "HTTPBearer": HTTPBearer(
        description="An API key as `Authorization: Bearer <key>`."
    ).model.model_dump(mode="json", by_alias=True, exclude_none=True),
}


def declare_api_keys(app: FastAPI) -> None:
    """Declare the API keys in `app`'s OpenAPI schema: both security schemes, and on
    every operation but the public ones, so that Swagger UI's Authorize button sends
    the key and generated clients know where it goes. `UserContextMiddleware` checks
    the key; the declaration adds no work per request."""
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build_schema()
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in schema.get("paths", {}).items():
            if path in PUBLIC_PATHS:
                continue
            for operation in operations.values():
                operation["security"] = [{name: []} for name in SECURITY_SCHEMES]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
