"""How errors become HTTP answers: always `{"detail": "..."}`."""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.types import ASGIApp, Receive, Scope, Send

from algomancy_core import ConflictError, NotFoundError, ParameterError
from algomancy_data.limits import QUOTE_CHARS

log = logging.getLogger("algomancy.api")


def detail_response(
    status: int, detail: object, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The error shape of every answer: `{"detail": ...}`."""
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class RefuseNulPaths:
    """404 for a path with a NUL character in it, before any route reads it.

    No name, key, tag or id may hold a NUL (every write refuses control characters),
    so such a path names nothing; PostgreSQL would refuse it in a query besides.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "\x00" in scope["path"]:
            answer = detail_response(404, "not found: the path holds a NUL character")
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def not_found(request: Request, exc: Exception) -> JSONResponse:
    return detail_response(404, str(exc.args[0]) if exc.args else "not found")


async def conflict(request: Request, exc: Exception) -> JSONResponse:
    return detail_response(409, str(exc) or "conflict")


async def bad_input(request: Request, exc: Exception) -> JSONResponse:
    return detail_response(400, str(exc) or "bad request")


async def bad_parameter(request: Request, exc: Exception) -> JSONResponse:
    """Also names the parameter, so that a form can show the message at its field."""
    assert isinstance(exc, ParameterError)
    body = {"detail": str(exc), "parameter": exc.parameter}
    return JSONResponse(body, status_code=400)


#: Missing fields answered 400 with a sentence, as the seed's contract says,
#: instead of 422: an ETL upload without any file.
MISSING_AS_400 = {
    ("body", "files"): "No files uploaded: send one or more 'files' parts "
    "(a multipart/form-data body)",
}


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_short(error) for error in jsonable_encoder(exc.errors())]
    for error in errors:
        sentence = MISSING_AS_400.get(tuple(error.get("loc", ())))
        if error.get("type") == "missing" and sentence is not None:
            others = [".".join(map(str, e.get("loc", ()))) for e in errors if e is not error]
            if others:
                sentence += f"; missing or invalid too: {', '.join(others)}"
            return detail_response(400, sentence)
    return detail_response(422, errors)


def _short(error: Any) -> Any:
    """A validation error whose quoted input is cut to about 200 characters: a
    90 MiB display name must not come back in the answer."""
    if not isinstance(error, dict) or "input" not in error:
        return error
    value = error["input"]
    if isinstance(value, str):
        if len(value) > QUOTE_CHARS:
            error["input"] = value[:QUOTE_CHARS] + f"… ({len(value)} characters)"
    elif isinstance(value, dict | list):
        text = orjson.dumps(value, default=str)
        if len(text) > QUOTE_CHARS:
            error["input"] = text[:QUOTE_CHARS].decode("utf-8", "replace") + "…"
    return error


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = _multipart_problem(exc) or exc.detail
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405 and (methods := allowed_methods(request)):
        headers = {**(headers or {}), "Allow": ", ".join(methods)}
    return detail_response(exc.status_code, detail, headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document declares at the request's path. Starlette's
    405 names only the first route whose path matched (`Allow: GET` where DELETE is
    served too). As in OpenAPI's path matching, a path with fewer templated parts
    wins (`…/data/from-json` over `…/data/{data_key}`)."""
    path = request.scope["path"]
    matching: list[tuple[int, set[str]]] = []
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            matching.append((template.count("{"), {method.upper() for method in operations}))
    if not matching:
        return []
    fewest = min(count for count, _ in matching)
    return sorted(set().union(*(methods for count, methods in matching if count == fewest)))


def _multipart_problem(exc: StarletteHTTPException) -> str | None:
    """What the multipart parser found wrong, where Starlette only says "Invalid
    multipart data." (its 400 hides the parser's reason in the exception chain)."""
    failure = exc.__context__
    if exc.status_code != 400 or not isinstance(failure, MultiPartException):
        return None
    reason = failure.__cause__
    if reason is None:
        return None
    text = f"the multipart body cannot be read: {reason}"
    if "header size" in str(reason):
        text += (
            " (a part's headers, its filename included, are limited in size; "
            "an upload filename may have at most 255 characters)"
        )
    return text


async def server_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    config = getattr(request.app.state, "config", None)
    if getattr(config, "metrics", False):
        from algomancy_api.metrics import count_store_error

        count_store_error(exc)
    return detail_response(500, "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    """The seed's mapping: not found 404, conflicts and failed preconditions 409,
    bad values 400, malformed requests 422, anything else 500 (logged)."""
    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(ConflictError, conflict)
    app.add_exception_handler(AssertionError, conflict)
    app.add_exception_handler(ValueError, bad_input)
    app.add_exception_handler(ParameterError, bad_parameter)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, server_error)
