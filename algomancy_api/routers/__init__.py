"""One router module per resource, and what they share."""

from typing import Annotated, Any

import orjson
from fastapi import Query, Response

#: The type FastAPI's `responses=` takes.
Responses = dict[int | str, dict[str, Any]]

JSON = "application/json"

#: Paging of table frames.
Offset = Annotated[int, Query(ge=0, description="First row to return.")]
Limit = Annotated[int, Query(ge=1, le=100_000, description="How many rows at most.")]


def json_response(payload: Any, status_code: int = 200) -> Response:
    """`payload` serialised once by orjson; the route's response model documents it."""
    return Response(orjson.dumps(payload), status_code=status_code, media_type=JSON)
