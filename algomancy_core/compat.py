"""Old names, kept importable: each is the same object as its new name.

- `Engine` is `Runtime` (`algomancy_core.runtime`): renamed because the SQL stores
  hold SQLAlchemy's `Engine` too.
- `AlgomancyError` is `CoreError` (`algomancy_core.errors`): renamed because the HTTP
  client's error (`algomancy_api.AlgomancyError`) has that name, and one name should
  mean one thing.

`algomancy_core` re-exports them (`from algomancy_core import Engine` works), and
the modules they were in still hold them (`algomancy_core.engine.Engine`,
`algomancy_core.errors.AlgomancyError`). New code uses the new names.
"""

from __future__ import annotations

from algomancy_core.errors import CoreError

# Before the runtime is imported: it imports the stores, which import the errors,
# whose old name is this one.
AlgomancyError = CoreError

from algomancy_core.runtime import Runtime  # noqa: E402

Engine = Runtime

__all__ = ["AlgomancyError", "Engine"]
