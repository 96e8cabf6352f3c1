"""One router module per resource, and what they share."""

from typing import Annotated, Any

import orjson
from fastapi import Query, Response
from fastapi.responses import JSONResponse

#: The type FastAPI's `responses=` takes.
Responses = dict[int | str, dict[str, Any]]

JSON = "application/json"

#: The largest offset accepted: the largest integer a JSON number carries exactly
#: (JavaScript's `Number.MAX_SAFE_INTEGER`); past it the answer is 422, not an
#: overflow in a store or a serialiser.
MAX_OFFSET = 2**53 - 1

#: Paging of table frames.
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="First row to return.")]
Limit = Annotated[int, Query(ge=1, le=100_000, description="How many rows at most.")]


class OrjsonResponse(JSONResponse):
    """JSON encoded by orjson, for an answer too large to go through its response
    model at the speed it is asked for (FastAPI's own `ORJSONResponse` is deprecated:
    a response model's answer is encoded by pydantic, and that is the fast path for
    small answers; for thousands of items the validation is the cost)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(payload: Any, status_code: int = 200) -> Response:
    """`payload` serialised once by orjson; the route's response model documents it."""
    return Response(orjson.dumps(payload), status_code=status_code, media_type=JSON)
