"""Webhook deliveries: the queue of notifications to send, kept by the store.

A delivery is claimed (like a run) before it is sent, so that several processes
sharing a SQL store never send it twice; a claim that is not finished in time
(its process died) lapses and the delivery is tried again.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Protocol

#: The event kinds a webhook subscribes to.
SCENARIO_FINISHED = "scenario.finished"
SCENARIO_FAILED = "scenario.failed"
EXPERIMENT_FINISHED = "experiment.finished"
STUDY_FINISHED = "study.finished"
ETL_FAILED = "etl.failed"
EVENT_KINDS = (SCENARIO_FINISHED, SCENARIO_FAILED, EXPERIMENT_FINISHED, STUDY_FINISHED, ETL_FAILED)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    #: Every attempt failed: given up (the dead letter).
    DEAD = "dead"


@dataclasses.dataclass(frozen=True, slots=True)
class Delivery:
    """One event to send to one webhook URL."""

    event: str
    url: str
    payload: str
    """The JSON body, exactly as signed and sent."""
    created_at: datetime
    next_attempt_at: datetime
    id: str = dataclasses.field(default_factory=lambda: f"msg_{uuid.uuid4().hex}")
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    claimed_by: str | None = None
    claim_until: datetime | None = None


class DeliveryQueue(Protocol):
    """Where deliveries are kept."""

    def enqueue(self, deliveries: list[Delivery]) -> None: ...

    def claim(self, owner: str, now: datetime, until: datetime) -> Delivery | None:
        """The oldest pending delivery due at `now` that nobody holds, now held by
        `owner` until `until`; None when there is none. Atomic across processes."""

    def finish(
        self,
        delivery_id: str,
        owner: str,
        *,
        status: DeliveryStatus,
        attempts: int,
        last_error: str | None,
        next_attempt_at: datetime,
    ) -> bool:
        """Record an attempt of a delivery `owner` holds and release it; False when
        the claim was lost (nothing written)."""

    def list(
        self, status: DeliveryStatus | None = None, limit: int = 100, offset: int = 0
    ) -> list[Delivery]:
        """Newest first."""


class MemoryDeliveryQueue:
    """Deliveries in this process's memory (lost on restart, as the memory store's
    state is)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Delivery] = {}

    def enqueue(self, deliveries: list[Delivery]) -> None:
        with self._lock:
            for delivery in deliveries:
                self._items[delivery.id] = delivery

    def claim(self, owner: str, now: datetime, until: datetime) -> Delivery | None:
        with self._lock:
            for item in sorted(self._items.values(), key=lambda d: d.next_attempt_at):
                free = item.claim_until is None or item.claim_until < now
                if item.status == DeliveryStatus.PENDING and item.next_attempt_at <= now and free:
                    held = dataclasses.replace(item, claimed_by=owner, claim_until=until)
                    self._items[item.id] = held
                    return held
        return None

    def finish(
        self,
        delivery_id: str,
        owner: str,
        *,
        status: DeliveryStatus,
        attempts: int,
        last_error: str | None,
        next_attempt_at: datetime,
    ) -> bool:
        with self._lock:
            item = self._items.get(delivery_id)
            if item is None or item.claimed_by != owner:
                return False
            self._items[delivery_id] = dataclasses.replace(
                item,
                status=status,
                attempts=attempts,
                last_error=last_error,
                next_attempt_at=next_attempt_at,
                claimed_by=None,
                claim_until=None,
            )
            return True

    def list(
        self, status: DeliveryStatus | None = None, limit: int = 100, offset: int = 0
    ) -> list[Delivery]:
        with self._lock:
            items = [d for d in self._items.values() if status is None or d.status == status]
        items.sort(key=lambda d: d.created_at, reverse=True)
        return items[offset : offset + limit]
