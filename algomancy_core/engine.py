"""The old module of `Runtime` (then called `Engine`); see `algomancy_core.compat`."""

from algomancy_core.compat import Engine

__all__ = ["Engine"]
