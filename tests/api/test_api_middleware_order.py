"""`algomancy_api.middleware.install`: the stack is in the order its docstring states."""

from __future__ import annotations

from typing import Any

from algomancy_api import ApiLauncher
from tests.api.conftest import api_config

#: The layers the docstring orders (FastAPI adds layers of its own between them); the
#: first three are the concerns of one layer, `AnswerLayer`, in the order it runs them.
ORDERED = [
    "RequestIds",
    "RequestMetrics",
    "SecurityHeaders",
    "ServerErrorMiddleware",
    "RecordPeer",
    "ProxyHeadersMiddleware",
    "SiteCheck",
    "CORSMiddleware",
    "UserContextMiddleware",
    "BodySizeLimit",
    "JsonDepthLimit",
    "RefuseNulPaths",
    "StartOnFirstRequest",
    "AuditWrites",
    "ExceptionMiddleware",
]


def stack_names(app: Any) -> list[str]:
    """The classes of the built middleware stack the docstring orders, outermost
    first."""
    names = []
    layer = app.build_middleware_stack()
    while layer is not None:
        names += [type(c).__name__ for c in getattr(layer, "concerns", [layer])]
        layer = getattr(layer, "app", None)
    return [name for name in names if name in ORDERED]


def test_every_middleware_is_where_the_docstring_says() -> None:
    app = ApiLauncher.build(
        api_config(
            metrics=True,
            cors_origins=["https://front.example"],
            api_keys={"k": "ann"},
            forwarded_allow_ips=["10.0.0.1"],
        )
    )
    try:
        assert stack_names(app) == ORDERED
    finally:
        app.state.sessions.close()


def test_the_optional_middlewares_are_left_out_when_off() -> None:
    app = ApiLauncher.build(api_config(metrics=False))
    try:
        names = stack_names(app)
    finally:
        app.state.sessions.close()
    for absent in ("RequestMetrics", "ProxyHeadersMiddleware", "CORSMiddleware"):
        assert absent not in names
    assert "UserContextMiddleware" not in names
    assert names[0] == "RequestIds" and names[-1] == "ExceptionMiddleware"


def test_the_answer_concerns_are_one_layer_outside_starlettes_error_middleware() -> None:
    """One call frame for the id, the metrics and the headers (`AnswerLayer`), not
    three middlewares, and it wraps Starlette's error middleware (a 500 gets them)."""
    app = ApiLauncher.build(api_config(metrics=True))
    try:
        stack = app.build_middleware_stack()
    finally:
        app.state.sessions.close()
    assert type(stack).__name__ == "AnswerLayer"
    assert type(stack.app).__name__ == "ServerErrorMiddleware"  # type: ignore[attr-defined]
