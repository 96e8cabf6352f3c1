"""`AuditWrites`: the audit scope around every write (see `algomancy_api.audit`)."""

from __future__ import annotations

import logging

import anyio.to_thread
import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from algomancy_api.middleware.status import StatusSeen
from algomancy_core import SessionManager
from algomancy_core.audit import OK, PendingAudit, auditing, record_fields

log = logging.getLogger("algomancy.audit")

#: The answer to a write refused for a full disk (`errors.storage_full`).
STORAGE_FULL = 507
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuditWrites:
    """Opens the audit scope of each write request and closes it with its outcome."""

    def __init__(self, app: ASGIApp, sessions: SessionManager, prefix: str) -> None:
        self.app = app
        self.sessions = sessions
        self.prefix = prefix + "/"

    def passes(self, scope: Scope) -> bool:
        """Whether the request is no write under the API: nothing to audit
        (`algomancy_api.middleware.chain`)."""
        return (
            scope["type"] != "http"
            or scope["method"] not in WRITE_METHODS
            or not scope["path"].startswith(self.prefix)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITE_METHODS
            or not scope["path"].startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        pending = PendingAudit(
            user=scope.get("state", {}).get("user"),
            client=str(client[0]) if client else None,
            summary=f"{scope['method']} {scope['path']}",
        )
        seen = StatusSeen(send)
        try:
            with auditing(pending):
                await self.app(scope, receive, seen)
        finally:
            # Outside the scope: the append below is not itself the audited change.
            if pending.kind is not None:
                await self._close(pending, seen.status)

    async def _close(self, pending: PendingAudit, status: int) -> None:
        if pending.written:
            record = pending.record(OK)
        else:
            record = pending.record(OK if status < 400 else str(status))
            # A refusal for a full disk is only logged: writing it would take the
            # space the refusal is about.
            if status != STORAGE_FULL:
                try:
                    await anyio.to_thread.run_sync(self.sessions.runtime.store.audit.append, record)
                except Exception:  # the answer is sent: a lost record is logged, not raised
                    log.exception("could not record the audit of %s", pending.summary)
        fields = record_fields(record) | {"status": status}
        del fields["id"]  # given by the database as the record is written
        # The record as JSON in the message (text logs) and as the line's own
        # fields, with `"event": "audit"` (JSON logs).
        log.info("%s", orjson.dumps(fields).decode(), extra={"event": "audit", **fields})
