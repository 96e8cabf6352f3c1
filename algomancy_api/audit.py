"""Auditing the API's writes: one record per write request, in the store's
transaction where the write changed something (`algomancy_core.audit`).

`AuditWrites` (a middleware, `algomancy_api.middleware.audit`) opens an audit scope
around every POST, PUT, PATCH and DELETE under the API prefix, with the caller and
the client address; a write route names what it does with one dependency,
`audited("session.create")`, which also takes the ids from the path. When the
response is sent, a write that no transaction recorded (refused with a 4xx, or kept
in memory) is appended with its outcome, and every record is logged as one JSON line
on the `algomancy.audit` logger.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam

from algomancy_core.audit import current_audit


def audited(kind: str) -> DependsParam:
    """The dependency that makes a write route audited as `kind` (`<subject>.<verb>`,
    e.g. `experiment.create`): the one line a new write route adds."""

    async def name_the_write(request: Request) -> None:
        pending = current_audit()
        if pending is not None:
            pending.kind = kind
            pending.subject = {k: str(v) for k, v in request.path_params.items()}

    return Depends(name_the_write)
