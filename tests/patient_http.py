"""httpx's request functions with the suite's timeout, for tests that talk to a real
server: on a loaded machine an answer comes late, and httpx's default (5 s) would fail
the test although nothing is wrong. The timeout only stops a hang."""

from __future__ import annotations

from typing import Any

import httpx

from tests.polling import DEFAULT_TIMEOUT


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, **{"timeout": DEFAULT_TIMEOUT, **kwargs})


def post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, **{"timeout": DEFAULT_TIMEOUT, **kwargs})


def put(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.put(url, **{"timeout": DEFAULT_TIMEOUT, **kwargs})


def patch(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.patch(url, **{"timeout": DEFAULT_TIMEOUT, **kwargs})


def delete(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.delete(url, **{"timeout": DEFAULT_TIMEOUT, **kwargs})
