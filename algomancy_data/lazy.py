"""Modules imported on first use: `lazy_module("pandas")` stands for pandas and
imports it when one of its attributes is first read.

The server imports pandas, pyarrow, numpy and the spreadsheet readers only when a
request needs them (pandas with pyarrow alone is ~90 MiB of RSS), so that a server
at rest stays small. Use it as::

    if TYPE_CHECKING:
        import pandas as pd
    else:
        pd = lazy_module("pandas")

so that type checkers see the real module. Unlike `importlib.util.LazyLoader`, the
stand-in is not put in `sys.modules`: ``"pandas" in sys.modules`` stays a true
answer to "has pandas been imported", and other importers get the real module.
"""

from __future__ import annotations

import importlib
import types
from typing import Any


class LazyModule(types.ModuleType):
    """A stand-in for the module `name`, imported when an attribute is first read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_target"] = name

    def __getattr__(self, attribute: str) -> Any:
        # Reached only for names not yet copied here: import (once; the import
        # system's own lock makes concurrent first uses safe) and keep the value.
        module = importlib.import_module(self.__dict__["_lazy_target"])
        value = getattr(module, attribute)
        self.__dict__[attribute] = value
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_lazy_target']!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for the module `name` (see the module's docstring)."""
    return LazyModule(name)
