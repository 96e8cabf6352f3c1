"""Webhooks: events sent to URLs the deployer configured, signed as Standard
Webhooks sign them, retried with exponential backoff, dead-lettered after the last try.

Each event becomes one delivery row per subscribed URL in the store's queue
(`algomancy_core.deliveries`); a sender thread in every server process claims due
rows, posts them with httpx (no redirects followed, a short timeout) and records the
attempt. The rows survive restarts; the claim keeps two processes from sending one.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from algomancy_core import ConfigurationError
from algomancy_core.deliveries import (
    EVENT_KINDS,
    SCENARIO_FAILED,
    SCENARIO_FINISHED,
    Delivery,
    DeliveryQueue,
    DeliveryStatus,
)
from algomancy_core.observe import RunObserver
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, utcnow

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("algomancy.webhooks")

#: The prefix of a Standard Webhooks secret whose rest is the base64 key.
SECRET_PREFIX = "whsec_"
#: Characters of a failed attempt's error kept in the delivery row.
MAX_ERROR_CHARS = 500


@dataclasses.dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A URL, the event kinds it receives, and the secret its deliveries are signed with."""

    url: str
    events: tuple[str, ...]
    secret: str

    @property
    def key(self) -> bytes:
        """The HMAC key: the base64 after `whsec_`, else the secret's UTF-8 bytes."""
        if self.secret.startswith(SECRET_PREFIX):
            return base64.b64decode(self.secret[len(SECRET_PREFIX) :], validate=True)
        return self.secret.encode()


def parse_webhooks(value: object) -> list[WebhookTarget]:
    """The `webhooks` configuration field: a list of `{url, events, secret}`;
    `ConfigurationError` naming what is wrong."""
    if not isinstance(value, list | tuple):
        raise ConfigurationError("webhooks: must be a list of {url, events, secret}")
    targets = []
    for i, item in enumerate(value):
        if isinstance(item, WebhookTarget):
            targets.append(item)
            continue
        where = f"webhooks[{i}]"
        if not isinstance(item, Mapping) or set(item) - {"url", "events", "secret"}:
            raise ConfigurationError(f"{where}: must be a mapping of url, events and secret")
        url, events, secret = item.get("url"), item.get("events"), item.get("secret")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"{where}.url: must be an http or https URL")
        if isinstance(events, str) or not isinstance(events, list | tuple) or not events:
            raise ConfigurationError(f"{where}.events: must be a non-empty list of event kinds")
        unknown = [e for e in events if e not in EVENT_KINDS]
        if unknown:
            raise ConfigurationError(
                f"{where}.events: unknown event kind {unknown[0]!r} "
                f"(known: {', '.join(EVENT_KINDS)})"
            )
        if not isinstance(secret, str) or len(secret) < 16:
            raise ConfigurationError(f"{where}.secret: must be a string of 16 characters or more")
        target = WebhookTarget(str(url), tuple(events), secret)
        try:
            target.key  # noqa: B018 - a whsec_ secret must decode
        except (binascii.Error, ValueError):
            raise ConfigurationError(
                f"{where}.secret: the part after whsec_ is not base64"
            ) from None
        targets.append(target)
    return targets


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: `v1,` and the base64 HMAC-SHA256 of
    `{id}.{timestamp}.{body}` (Standard Webhooks)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def scenario_event(record: ScenarioRecord) -> tuple[str, dict[str, Any]] | None:
    """The webhook event of a scenario's change, if it is one (a run ended)."""
    if record.status is ScenarioStatus.COMPLETE:
        kind = SCENARIO_FINISHED
    elif record.status is ScenarioStatus.FAILED:
        kind = SCENARIO_FAILED
    else:
        return None
    data = {
        "scenario_id": record.id,
        "session_id": record.session_id,
        "tag": record.tag,
        "status": record.status.value,
        "error": record.error,
    }
    return kind, data


class Webhooks(RunObserver):
    """Queues events for the configured targets and sends them (`start` runs the
    sender thread of this process). `queue` gives the store's delivery queue. A run
    observer: a settled run is an event (`run_settled`)."""

    def __init__(
        self,
        targets: list[WebhookTarget],
        queue: Callable[[], DeliveryQueue],
        *,
        max_attempts: int = 6,
        retry_seconds: float = 10.0,
        timeout_seconds: float = 5.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self.targets = targets
        # A function: the store (and its queue) opens when the server starts.
        self._queue = queue
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self.owner = f"webhooks-{uuid.uuid4().hex}"
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def queue(self) -> DeliveryQueue:
        return self._queue()

    def notify(self, event: str, data: dict[str, Any]) -> None:
        """Queue `event` for every target that subscribes to it."""
        targets = [t for t in self.targets if event in t.events]
        if not targets:
            return
        now = utcnow()
        payload = {"type": event, "timestamp": now.isoformat(), "data": data}
        body = orjson.dumps(payload).decode()
        self.queue.enqueue(
            [Delivery(event, t.url, body, created_at=now, next_attempt_at=now) for t in targets]
        )
        self._wake.set()

    def run_settled(self, record: ScenarioRecord) -> None:
        """A run that ended (complete or failed) is an event."""
        found = scenario_event(record)
        if found is not None:
            self.notify(*found)

    # -- sending -------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None or not self.targets:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="algomancy-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_seconds + 5)
            self._thread = None

    def _loop(self) -> None:
        # httpx (and the rich console its command line loads) only where a sender
        # runs: a server without webhooks starts without it (tests/meta/test_light_imports.py).
        import httpx

        with httpx.Client(follow_redirects=False, timeout=self.timeout_seconds) as client:
            while not self._stopping.is_set():
                try:
                    while not self._stopping.is_set() and self.send_due(client):
                        pass
                except Exception:
                    log.exception("webhook sender iteration failed; retrying")
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def send_due(self, client: httpx.Client) -> bool:
        """Claim and attempt one due delivery; False when none is due."""
        now = utcnow()
        lease = timedelta(seconds=self.timeout_seconds * 2 + 30)
        delivery = self.queue.claim(self.owner, now, now + lease)
        if delivery is None:
            return False
        error = self._attempt(client, delivery)
        attempts = delivery.attempts + 1
        status = DeliveryStatus.DELIVERED
        next_at = utcnow()
        if error is not None:
            dead = attempts >= self.max_attempts
            status = DeliveryStatus.DEAD if dead else DeliveryStatus.PENDING
            next_at = next_at + self.backoff(attempts)
            log.warning(
                "webhook delivery %s to %s failed (attempt %d of %d%s): %s",
                delivery.id,
                delivery.url,
                attempts,
                self.max_attempts,
                ", dead-lettered" if dead else "",
                error,
            )
        self.queue.finish(
            delivery.id,
            self.owner,
            status=status,
            attempts=attempts,
            last_error=error,
            next_attempt_at=next_at,
        )
        return True

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt: `retry_seconds`, doubled
        after each further failure."""
        return timedelta(seconds=self.retry_seconds * 2 ** (attempts - 1))

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> str | None:
        """Post `delivery`; None on a 2xx answer, else what went wrong."""
        target = next((t for t in self.targets if t.url == delivery.url), None)
        if target is None:
            return "the URL is no longer among the configured webhooks"
        body = delivery.payload.encode()
        timestamp = int(utcnow().timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(target.key, delivery.id, timestamp, body),
        }
        import httpx

        try:
            response = client.post(delivery.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        if response.is_success:
            return None
        if response.is_redirect:
            return f"HTTP {response.status_code}: redirects are not followed"
        return f"HTTP {response.status_code}"


def delivery_fields(delivery: Delivery) -> dict[str, Any]:
    """A delivery as `GET /webhooks/deliveries` answers it."""
    return {
        "id": delivery.id,
        "event": delivery.event,
        "url": delivery.url,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "created_at": _iso(delivery.created_at),
        "next_attempt_at": _iso(delivery.next_attempt_at),
    }


def _iso(value: datetime) -> str:
    return value.isoformat()
