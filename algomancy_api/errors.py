"""How errors become HTTP answers: always `{"detail": "..."}`."""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from algomancy_core import ConflictError, NotFoundError, ParameterError
from algomancy_core.errors import storage_full
from algomancy_data.limits import QUOTE_CHARS

log = logging.getLogger("algomancy.api")
#: Validation errors listed in a 422 answer.
MAX_ERRORS = 50


#: The most characters an error's `detail` text may have; a longer one is cut.
MAX_DETAIL_CHARS = 1000
#: A quoted value in a message: 'text' or "text", escapes included.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"', re.DOTALL)


def bounded(text: str) -> str:
    """`text` with every quoted value over `QUOTE_CHARS` cut (with its length), and
    the whole cut to `MAX_DETAIL_CHARS`: an answer never echoes a huge input."""
    if len(text) <= QUOTE_CHARS:
        return text

    def cut(match: re.Match[str]) -> str:
        quoted = match.group()
        if len(quoted) <= QUOTE_CHARS:
            return quoted
        return f"{quoted[:QUOTE_CHARS]}…{quoted[0]} ({len(quoted) - 2} characters)"

    text = _QUOTED.sub(cut, text)
    if len(text) > MAX_DETAIL_CHARS:
        text = f"{text[:MAX_DETAIL_CHARS]}… ({len(text)} characters in all)"
    return text


def detail_response(
    status: int, detail: object, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The error shape of every answer: `{"detail": ...}`, a text detail `bounded`."""
    if isinstance(detail, str):
        detail = bounded(detail)
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def not_found(request: Request, exc: Exception) -> JSONResponse:
    return detail_response(404, str(exc.args[0]) if exc.args else "not found")


async def conflict(request: Request, exc: Exception) -> JSONResponse:
    return detail_response(409, str(exc) or "conflict")


async def bad_input(request: Request, exc: Exception) -> JSONResponse:
    return detail_response(400, str(exc) or "bad request")


async def bad_parameter(request: Request, exc: Exception) -> JSONResponse:
    """Also names the parameter, so that a form can show the message at its field."""
    assert isinstance(exc, ParameterError)
    parameter = exc.parameter if exc.parameter is None else bounded(exc.parameter)
    body = {"detail": bounded(str(exc)), "parameter": parameter}
    return JSONResponse(body, status_code=400)


#: Missing fields answered 400 with a sentence, as the seed's contract says,
#: instead of 422: an ETL upload without any file.
MISSING_AS_400 = {
    ("body", "files"): "No files uploaded: send one or more 'files' parts "
    "(a multipart/form-data body)",
}


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # At most MAX_ERRORS errors are listed: an object of 100,000 unknown keys is
    # 100,000 errors, megabytes of answer and seconds of encoding. Inputs are cut
    # before any encoding (`_short_input`): the input may be a whole 1 MiB body.
    found = exc.errors()
    errors = [_short(error) for error in found[:MAX_ERRORS]]
    for error in errors:
        sentence = MISSING_AS_400.get(tuple(error.get("loc", ())))
        if error.get("type") == "missing" and sentence is not None:
            others = [".".join(map(str, e.get("loc", ()))) for e in errors if e is not error]
            if others:
                sentence += f"; missing or invalid too: {', '.join(others)}"
            return detail_response(400, sentence)
    if len(found) > MAX_ERRORS:
        errors.append(
            {
                "type": "too_many_errors",
                "loc": [],
                "msg": f"{len(found) - MAX_ERRORS} more errors not listed",
            }
        )
    return detail_response(422, errors)


def _short(error: Any) -> Any:
    """A validation error as pydantic describes it, each user value in it bounded:
    `input` cut to about `QUOTE_CHARS` characters (a 90 MiB display name must not
    come back), each part of `loc` (a body's key) and `msg` bounded, `ctx` (which
    may repeat the input) dropped, its parts already in `msg`."""
    if not isinstance(error, dict):
        return error
    short: dict[str, Any] = {}
    for key in ("type", "loc", "msg", "input"):
        if key not in error:
            continue
        value = error[key]
        if key == "loc":
            value = [_short_input(part) if isinstance(part, str) else part for part in value]
        elif key == "msg":
            value = bounded(str(value))
        elif key == "input":
            value = _short_input(value)
        short[key] = value
    return short


def _short_input(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        text = value
    else:
        # orjson first (C, linear); a value it cannot encode (keys that are not
        # strings) is quoted as its text, cut before it is built whole.
        try:
            text = orjson.dumps(value, default=str).decode("utf-8", "replace")
        except TypeError:
            text = str(value)[: QUOTE_CHARS + 1]
        else:
            if len(text) <= QUOTE_CHARS:
                return orjson.loads(text)
    if len(text) > QUOTE_CHARS:
        return text[:QUOTE_CHARS] + f"… ({len(text)} characters)"
    return text


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


async def storage_error(request: Request, exc: Exception) -> JSONResponse:
    """507 when the disk (or PostgreSQL's) is full, naming the cause; any other
    storage failure is a 500."""
    reason = storage_full(exc)
    if reason is None:
        return await server_error(request, exc)
    _count_store_error(request, exc)
    log.warning("insufficient storage on %s %s: %s", request.method, request.url.path, reason)
    return detail_response(
        507,
        f"insufficient storage: {reason}; nothing was written. Delete datasets or "
        "scenarios to free space (deletes still work), or ask the operator for more disk",
    )


async def server_error(request: Request, exc: Exception) -> JSONResponse:
    if storage_full(exc) is not None:
        return await storage_error(request, exc)
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    _count_store_error(request, exc)
    return detail_response(500, "Internal server error")


def _count_store_error(request: Request, exc: Exception) -> None:
    """`algomancy_store_errors_total`, when metrics are on and `exc` is the database's."""
    if getattr(getattr(request.app.state, "config", None), "metrics", False):
        from algomancy_api.metrics import count_store_error

        count_store_error(exc)


def install_error_handlers(app: FastAPI) -> None:
    """The seed's mapping: not found 404, conflicts and failed preconditions 409,
    bad values 400, malformed requests 422, a full disk 507, anything else 500
    (logged)."""
    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(ConflictError, conflict)
    app.add_exception_handler(AssertionError, conflict)
    app.add_exception_handler(ValueError, bad_input)
    app.add_exception_handler(ParameterError, bad_parameter)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for storage in (OSError, sqlite3.Error, sa.exc.DBAPIError):
        app.add_exception_handler(storage, storage_error)
    app.add_exception_handler(Exception, server_error)
