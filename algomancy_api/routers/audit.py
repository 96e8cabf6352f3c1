"""For administrators: the audit trail and the webhook deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

from algomancy_api.deps import CallerDep, SessionsDep
from algomancy_api.routers import MAX_OFFSET, Responses
from algomancy_api.webhooks import delivery_fields
from algomancy_core.audit import AuditQuery, record_fields
from algomancy_core.deliveries import DeliveryStatus

router = APIRouter(tags=["admin"])

ADMIN_ONLY: Responses = {403: {"description": "The caller is not one of `admin_users`."}}


async def require_admin(caller: CallerDep) -> None:
    """403 unless the caller is one of `admin_users`."""
    if not caller.admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only admin_users may read this")


AdminOnly = [Depends(require_admin)]
PageLimit = Annotated[int, Query(ge=1, le=1000, description="How many items at most.")]
PageOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip (newest first).")]


class AuditItem(BaseModel):
    """One audited write."""

    id: int
    at: datetime
    user: str | None = Field(description="The caller; null when authentication is off.")
    kind: str = Field(description="What was done: `session.create`, `scenario.run`, ...")
    session_id: str | None = Field(description="The session named in the path, if any.")
    subject: dict[str, str] = Field(description="The ids the write's path names.")
    summary: str
    client: str | None = Field(description="The client address.")
    outcome: str = Field(description="`ok`, or the status code of a refused write.")


class AuditPage(BaseModel):
    """A page of the audit trail, newest first."""

    records: list[AuditItem]
    limit: int
    offset: int


class DeliveryItem(BaseModel):
    """One webhook delivery."""

    id: str = Field(description="Also its `webhook-id` header.")
    event: str
    url: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime


class DeliveryPage(BaseModel):
    """A page of webhook deliveries, newest first."""

    deliveries: list[DeliveryItem]
    limit: int
    offset: int


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="Read the audit trail",
    responses=ADMIN_ONLY,
    dependencies=AdminOnly,
)
def read_audit(
    sessions: SessionsDep,
    user: Annotated[str | None, Query(max_length=200, description="Only this user's.")] = None,
    session_id: Annotated[
        str | None, Query(max_length=200, description="Only writes naming this session.")
    ] = None,
    kind: Annotated[str | None, Query(max_length=64, description="Only this kind.")] = None,
    since: Annotated[datetime | None, Query(description="From this time on.")] = None,
    until: Annotated[datetime | None, Query(description="Before this time.")] = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> dict[str, Any]:
    """Every audited write (who, when, what, from where, outcome), newest first,
    filtered and paged. For `admin_users` only."""
    query = AuditQuery(user, session_id, kind, _utc(since), _utc(until), limit, offset)
    records = sessions.runtime.store.audit.query(query)
    return {"records": [record_fields(r) for r in records], "limit": limit, "offset": offset}


@router.get(
    "/webhooks/deliveries",
    response_model=DeliveryPage,
    summary="List webhook deliveries",
    responses=ADMIN_ONLY,
    dependencies=AdminOnly,
)
def list_deliveries(
    sessions: SessionsDep,
    status: Annotated[DeliveryStatus | None, Query(description="Only this status.")] = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> dict[str, Any]:
    """Webhook deliveries, newest first: `pending` (with the next attempt's time),
    `delivered`, or `dead` (every attempt failed; `last_error` says why). For
    `admin_users` only."""
    found = sessions.runtime.store.deliveries.list(status, limit, offset)
    return {"deliveries": [delivery_fields(d) for d in found], "limit": limit, "offset": offset}


def _utc(value: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
