"""FastAPI's per-app route analysis, done once per test process instead of once per app.

Most in-process tests build an app of their own (`ApiLauncher.build`) and send it a
request. FastAPI (0.165) analyses every route of an app on the first request that
reaches an included router: it reads each endpoint's signature (`inspect.signature`
with `eval_str=True`, which evaluates every string annotation of modules written
with `from __future__ import annotations`) and builds a pydantic `TypeAdapter` for
every parameter and response model. The routes are the same module-level functions
in every app, so a test process did the same work again for each of its apps:
~0.16 s of CPU per app, about two thirds of the cost of an app and its first request.

`install()` (called by `tests/conftest.py`) keeps the three results that do not
depend on the app:

- the signature of each endpoint or dependency, keyed by the callable itself (held
  weakly, so a callable made for one app is not kept alive by the memo);
- the `TypeAdapter` of each distinct annotated type (annotation, metadata and field
  attributes, each attribute with its type, so that `1` and `True` stay apart). A
  field whose attributes cannot be hashed (a list default, a dict of schema extras)
  or that carries a pydantic config builds its own adapter, as before;
- the dependant of each route (what `_build_dependant_with_parameterless_dependencies`
  returns), keyed by the endpoint (held weakly), the route's path and its own
  `Depends` (frozen dataclasses, equal when their dependency, cache use and scope
  are). FastAPI reads a dependant and never changes it once built, so the routes of
  several apps share it; an endpoint made for one app (a closure of its build) gets
  its own.

All three are pure functions of their key: the apps and their routes are still
built for each app, and a test sees the same validation and the same OpenAPI
document (`tests/meta/test_route_memo.py`). Bought figures: an app built and asked
`/health` costs 0.165 -> 0.057 s of CPU with the first two (`ApiLauncher.build` and
a TestClient, 20 apps, measured twice side by side); an app asked six list routes
0.057 -> 0.026 s with the dependants too (15 apps each way, three runs side by side:
0.063/0.048/0.061 -> 0.023/0.023/0.033); the fast loop's CPU, see docs/testing.md.
"""

from __future__ import annotations

import hashlib
import inspect
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from fastapi import params
from fastapi import routing as fastapi_routing
from fastapi._compat import v2
from fastapi.dependencies import utils as dependency_utils
from fastapi.dependencies.models import Dependant
from pydantic import TypeAdapter

#: FastAPI's own functions, before `install` replaced them.
ORIGINAL_SIGNATURE = dependency_utils._get_signature
ORIGINAL_POST_INIT = v2.ModelField.__post_init__

#: Signature of each callable analysed so far (weak keys: a callable made for one
#: app goes with it).
signatures: weakref.WeakKeyDictionary[Callable[..., Any], inspect.Signature] = (
    weakref.WeakKeyDictionary()
)
#: The TypeAdapter of each annotated type built so far.
adapters: dict[Hashable, TypeAdapter[Any]] = {}


def signature(call: Callable[..., Any]) -> inspect.Signature:
    """FastAPI's `_get_signature(call)`, computed once per callable."""
    try:
        return signatures[call]
    except KeyError:
        pass
    except TypeError:  # neither hashable nor weakly referable
        return ORIGINAL_SIGNATURE(call)
    found = signatures[call] = ORIGINAL_SIGNATURE(call)
    return found


def adapter_key(field: v2.ModelField) -> Hashable | None:
    """What the field's TypeAdapter is built from, or None when it cannot be a key."""
    if field.config is not None:
        return None
    parts = v2.asdict(field.field_info)
    attributes = tuple(
        sorted((name, type(value), value) for name, value in parts["attributes"].items())
    )
    key = (field.mode, parts["annotation"], tuple(parts["metadata"]), attributes)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def post_init(field: v2.ModelField) -> None:
    """`ModelField.__post_init__`, with the TypeAdapter taken from `adapters` when an
    equal annotated type was built before."""
    key = adapter_key(field)
    if key is None:
        ORIGINAL_POST_INIT(field)
        return
    adapter = adapters.get(key)
    if adapter is None:
        ORIGINAL_POST_INIT(field)
        adapters[key] = field._type_adapter
    else:
        field._type_adapter = adapter


#: FastAPI's own `_build_dependant_with_parameterless_dependencies`, before `install`
#: replaced it.
ORIGINAL_BUILD_DEPENDANT = fastapi_routing._build_dependant_with_parameterless_dependencies

#: What it returns: the route's dependant, its flat body parameters, whether to embed them.
Built = tuple[Dependant, list[v2.ModelField], bool]

#: The result for each endpoint (held weakly, as in `signatures`), by path and the
#: route's own dependencies.
dependants: weakref.WeakKeyDictionary[Callable[..., Any], dict[Hashable, Built]] = (
    weakref.WeakKeyDictionary()
)


def build_dependant(
    *, path: str, call: Callable[..., Any], dependencies: Sequence[params.Depends]
) -> Built:
    """FastAPI's `_build_dependant_with_parameterless_dependencies`, computed once per
    endpoint, path and route dependencies (a `Depends` is a frozen dataclass, equal to
    another of the same dependency, cache use and scope). FastAPI only reads a built
    dependant afterwards (when it solves a request, writes the OpenAPI document), so
    the routes of several apps can share it."""
    key = (path, tuple(dependencies))
    try:
        hash(key)
        known = dependants.setdefault(call, {})
    except TypeError:  # a Security's list of scopes, or a callable not weakly referable
        return ORIGINAL_BUILD_DEPENDANT(path=path, call=call, dependencies=dependencies)
    found = known.get(key)
    if found is None:
        found = known[key] = ORIGINAL_BUILD_DEPENDANT(
            path=path, call=call, dependencies=dependencies
        )
    return found


#: The source of FastAPI's `ModelField.__post_init__` the memo was written against
#: (FastAPI 0.165: it builds the field's TypeAdapter and nothing else). A version
#: whose method does more would lose that on a memo hit, so with any other source
#: the memos stay out (the tests are slower there, not wrong).
REVIEWED_POST_INIT = "5d3689614a475b63"
#: Likewise for `_build_dependant_with_parameterless_dependencies` (FastAPI 0.165: it
#: builds a new dependant from its arguments and nothing else).
REVIEWED_BUILD_DEPENDANT = "9bb60b5335596798"


def reviewed(function: Callable[..., Any], digest: str) -> bool:
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    return hashlib.sha256(source.encode()).hexdigest()[:16] == digest


def installable() -> bool:
    """Whether FastAPI's `ModelField.__post_init__` and route dependant builder are the
    ones the memos were written for."""
    return reviewed(ORIGINAL_POST_INIT, REVIEWED_POST_INIT) and reviewed(
        ORIGINAL_BUILD_DEPENDANT, REVIEWED_BUILD_DEPENDANT
    )


def install() -> bool:
    """Put the memos in place of FastAPI's functions, in this process, where this
    FastAPI is the one they were written for; say whether they were."""
    if not installable():
        return False
    dependency_utils._get_signature = signature
    v2.ModelField.__post_init__ = post_init  # type: ignore[method-assign]
    fastapi_routing._build_dependant_with_parameterless_dependencies = build_dependant
    return True


def uninstall() -> None:
    """FastAPI's own functions back (to compare an app built without the memos)."""
    dependency_utils._get_signature = ORIGINAL_SIGNATURE
    v2.ModelField.__post_init__ = ORIGINAL_POST_INIT  # type: ignore[method-assign]
    fastapi_routing._build_dependant_with_parameterless_dependencies = ORIGINAL_BUILD_DEPENDANT
