"""Request ids: one per request, on its answer (`X-Request-ID`) and its log lines.

A client's own `X-Request-ID` is kept only when the TCP peer is one of
`trusted_proxies` (a proxy that sets it for its own logs) and the value is short
and plain (letters, digits, `-_.:/+=`); otherwise the server makes one. Every log
record made while a request is handled carries it as `request_id` (see
`algomancy_api.logs.install_request_id_records`), so a user's error report (its
`X-Request-ID`) finds the server's lines about it.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable

from starlette.types import Scope

from algomancy_api.logs import request_id_var
from algomancy_api.middleware.auth import is_trusted, parse_networks

HEADER = "X-Request-ID"
_HEADER = HEADER.lower().encode()
#: What a proxy's id may look like: no spaces or control characters, no more
#: than 128 characters (it goes into log lines and an answer header as sent).
_ACCEPTED = re.compile(rb"^[A-Za-z0-9._:/+=-]{1,128}$")


#: This process's half of every id it makes: 16 random hex digits, drawn again in
#: a forked child (`_new_process`), so that two processes never share it.
_process = os.urandom(8).hex()
_serial = itertools.count()


def _new_process() -> None:
    global _process, _serial
    _process, _serial = os.urandom(8).hex(), itertools.count()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_new_process)


def new_request_id() -> str:
    """32 hex digits: this process's 16 random ones, then the request's serial
    number in it (16 more): unique, not secret (an id names a request in the logs;
    it grants nothing). Not `os.urandom(16).hex()` on every request (a system call,
    ~1.3 us, against ~0.3 us, `timeit`), nor `uuid.uuid4().hex` (~10 us under
    load). Bought figure: see `RequestMetrics` (`algomancy_api.middleware.metrics`)."""
    return _process + format(next(_serial), "016x")


class RequestIds:
    """Gives each HTTP request its id (see the module's docstring): in the
    context of everything that handles it, and as `X-Request-ID` on its answer.
    Run by `AnswerLayer` (`algomancy_api.middleware.answers`)."""

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self.trusted = parse_networks("trusted_proxies", trusted_proxies)

    def request_id(self, scope: Scope) -> str:
        if self.trusted:
            client = scope.get("client")
            if is_trusted(str(client[0]) if client else None, self.trusted):
                for key, value in scope.get("headers", ()):
                    if key.lower() == _HEADER and _ACCEPTED.match(value):
                        return value.decode("ascii")
        return new_request_id()

    def begin(self, scope: Scope) -> tuple[bytes, bytes]:
        """Give the request its id (in its scope's state and in the context of its
        log lines); the header its answer carries."""
        request_id = self.request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        # Not reset afterwards: each request is a task of its own (its context a
        # copy), and the server's line about an error that escaped the app is
        # written after the app returns, in the same task, and names the request too.
        request_id_var.set(request_id)
        return (_HEADER, request_id.encode("ascii"))

    @staticmethod
    def without_id(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """`headers` less any `X-Request-ID` (the answer carries the request's own)."""
        # A list comprehension, not a generator: one call per answer, not one per
        # header (a status poll's answer has six).
        return [h for h in headers if h[0].lower() != _HEADER]
