"""The error answers every operation can give, declared in the OpenAPI document.

Routes declare the answers of their own rules (a taken name is 409, say). The
answers that come from what all routes share are declared here once, by rule,
on each operation they apply to, so that the document lists every status code an
operation can answer, each with the `{"detail": ...}` body:

- 400: a value the route refuses (a `ValueError` of the core, named in `detail`),
  on operations that take parameters or a body; a JSON body nested deeper than
  `max_json_depth` or holding more than `max_json_nodes` arrays, objects and keys;
- 404: an id in the path that names nothing (another user's session included);
- 408: a body that arrives slower than `min_body_bytes_per_second`;
- 413: a body over its limit;
- 503: the store could not be opened, or (for bodies) too many uploads in flight,
  with `Retry-After`;
- 507: the storage is full (on operations that write: every method but GET).

An answer an operation already declares keeps its entry; the shared reason is
added to its description. Any error answer declared without a body gets the
`{"detail": ...}` one.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from algomancy_api.sitecheck import DETAIL_SCHEMA, JSON, is_json

NOT_FOUND = "An id in the path names nothing here (or another user's session)."
BAD_VALUE = "A value the route refuses; `detail` names it."
TOO_DEEP = (
    "The JSON body nests deeper than `max_json_depth`, or holds more than "
    "`max_json_nodes` arrays, objects and keys."
)
TOO_SLOW = "The body arrived slower than `min_body_bytes_per_second`."
TOO_LARGE = "The body is over its limit (`max_json_bytes`, or `max_upload_bytes` for datasets)."
UNAVAILABLE = (
    "The store could not be opened, or too many uploads are in flight; "
    "`Retry-After` says when to retry."
)
STARTING = "The store could not be opened; `Retry-After` says when to retry."
FULL = (
    "Insufficient storage: the disk (or PostgreSQL's) is full and nothing was written; "
    "`detail` names the cause. Deletes still work."
)
#: Every reason this module declares (documented once, under Errors in http-api.md).
SHARED_REASONS = (
    NOT_FOUND,
    BAD_VALUE,
    TOO_DEEP,
    TOO_SLOW,
    TOO_LARGE,
    UNAVAILABLE,
    STARTING,
    FULL,
)


def shared_answers(path: str, operation: dict[str, Any], method: str = "get") -> dict[str, str]:
    """The shared answers (status code → reason) `operation` at `path`, served for
    `method`, can give."""
    added: dict[str, list[str]] = {}
    if method.lower() not in ("get", "head"):
        added.setdefault("507", []).append(FULL)
    parameters = operation.get("parameters") or []
    content = (operation.get("requestBody") or {}).get("content") or {}
    if parameters or content:
        added.setdefault("400", []).append(BAD_VALUE)
    if any(is_json(kind) for kind in content):
        added.setdefault("400", []).append(TOO_DEEP)
    if any(p.get("in") == "path" for p in parameters) or "{" in path:
        added.setdefault("404", []).append(NOT_FOUND)
    if content:
        added.setdefault("408", []).append(TOO_SLOW)
        added.setdefault("413", []).append(TOO_LARGE)
        added.setdefault("503", []).append(UNAVAILABLE)
    else:
        added.setdefault("503", []).append(STARTING)
    return {code: " ".join(reasons) for code, reasons in added.items()}


def error_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": DETAIL_SCHEMA}}}


def declare_answers(app: FastAPI, *, public_paths: tuple[str, ...] = ("/health",)) -> None:
    """Declare the shared answers (see the module's docstring) in `app`'s OpenAPI
    document. `public_paths` answer none of them (`/health` never fails on input)."""
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build_schema()
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                answers = operation.setdefault("responses", {})
                if path not in public_paths:
                    for code, reason in shared_answers(path, operation, method).items():
                        if code not in answers:
                            answers[code] = error_answer(reason)
                        elif reason not in answers[code].get("description", ""):
                            answer = answers[code]
                            answer["description"] = f"{answer.get('description', '')} {reason}"
                for code, answer in answers.items():
                    if code[0] in "45" and not answer.get("content"):
                        answer["content"] = {JSON: {"schema": DETAIL_SCHEMA}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
