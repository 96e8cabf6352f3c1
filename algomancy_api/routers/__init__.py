"""One router module per resource."""

from typing import Any

#: The type FastAPI's `responses=` takes.
Responses = dict[int | str, dict[str, Any]]
