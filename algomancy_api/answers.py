"""The error answers every operation can give, declared in the OpenAPI document
(two of the steps of `algomancy_api.openapi.customise_openapi`).

`add_refusals` declares the refusals of the middlewares (`REFUSALS`: the Host,
Origin and content-type checks, the credentials), `add_shared_answers` the answers
of what all routes share.

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

from collections.abc import Iterable
from typing import Any

from algomancy_api.middleware.sitecheck import JSON, WRITES, is_json

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


#: The `{"detail": ...}` body of the refusals declared here.
DETAIL_SCHEMA: dict[str, Any] = {
    "title": "ErrorDetail",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "string"}},
    "required": ["detail"],
}


#: The refusals `declare_refusals` adds, by status code: they come from the
#: middlewares, alike on every operation they apply to.
REFUSALS = {
    "400": "The Host header is not one of `allowed_hosts`.",
    "401": "Missing or invalid credentials.",
    "403": "A cross-site write: the Origin is not allowed and the request has no "
    "X-Requested-With header.",
    "415": "The body is not sent as application/json.",
}


def refusal(code: str) -> dict[str, Any]:
    return {"description": REFUSALS[code], "content": {JSON: {"schema": DETAIL_SCHEMA}}}


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


def add_shared_answers(schema: dict[str, Any], public_paths: Iterable[str] = ("/health",)) -> None:
    """Declare the shared answers (see the module's docstring) in `schema`.
    `public_paths` answer none of them (`/health` never fails on input)."""
    public = set(public_paths)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            answers = operation.setdefault("responses", {})
            if path not in public:
                for code, reason in shared_answers(path, operation, method).items():
                    if code not in answers:
                        answers[code] = error_answer(reason)
                    elif reason not in answers[code].get("description", ""):
                        answer = answers[code]
                        answer["description"] = f"{answer.get('description', '')} {reason}"
            for code, answer in answers.items():
                if code[0] in "45" and not answer.get("content"):
                    answer["content"] = {JSON: {"schema": DETAIL_SCHEMA}}


def add_refusals(
    schema: dict[str, Any], *, host_check: bool, authenticated: bool, public_paths: Iterable[str]
) -> None:
    """Declare in `schema` the answers of the site checks (and of the credentials
    check): 400 for a Host not served, 403 for a cross-site write, 415 for a JSON
    route sent another type, 401 without credentials, each on the operations that
    can give it. Operations that already declare a code keep their own entry."""
    public = set(public_paths)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            answers = operation.setdefault("responses", {})
            added: dict[str, dict[str, Any]] = {}
            if host_check:
                added["400"] = refusal("400")
            if authenticated and path not in public:
                added["401"] = refusal("401")
            if method.upper() in WRITES:
                added["403"] = refusal("403")
            content = (operation.get("requestBody") or {}).get("content") or {}
            if any(is_json(kind) for kind in content):
                added["415"] = refusal("415")
            for code, answer in added.items():
                answers.setdefault(code, answer)
