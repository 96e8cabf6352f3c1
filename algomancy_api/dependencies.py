"""The dependencies the reference's "Extending the API" page tells you to reuse.

`get_session_manager` gives the app's `SessionManager`; `get_scenario_manager`
resolves the `{session_id}` path parameter (UUID or current display name) to that
session's `ScenarioManager`, 404 when there is none (or it belongs to another user
when authentication is on). Use them with `Depends(...)` in your own routers.

They live in `algomancy_api.deps` with the API's other dependencies; this module is
the public name for them.
"""

from __future__ import annotations

from algomancy_api.deps import get_scenario_manager, get_session_manager

__all__ = ["get_scenario_manager", "get_session_manager"]
