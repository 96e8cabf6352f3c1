"""Webhook deliveries to a receiver on 127.0.0.1: signed (checked by the Standard
Webhooks verifier), retried after a 500, dead-lettered after the last try, redirects
refused; the queue survives a restart and one delivery is sent once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from algomancy_api.webhooks import Webhooks, WebhookTarget, parse_webhooks, sign
from algomancy_core import ConfigurationError
from algomancy_core.deliveries import Delivery, DeliveryStatus
from algomancy_core.scenario import utcnow
from algomancy_core.stores.sql import SQLStore
from algomancy_data import Column, Schema
from tests.api.conftest import PREFIX, ClientFactory
from tests.polling import wait_for

KEYS = {"key-alice": "alice", "key-root": "root"}
ALICE = {"X-API-Key": "key-alice"}
ROOT = {"X-API-Key": "key-root"}
ITEMS = Schema(
    "items",
    extension="csv",
    columns=[Column("sku", "string", primary_key=True), Column("qty", "integer", nullable=False)],
)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Receiver:
    """An HTTP server on 127.0.0.1 that answers each POST with the next status of
    `script` (the last one repeats) and keeps what it received."""

    def __init__(self, script: list[int]) -> None:
        self.script = list(script)
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.path, dict(self.headers.items()), body))
                status = receiver.script.pop(0) if len(receiver.script) > 1 else receiver.script[0]
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "/followed")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(*script: int) -> Receiver:
        receiver = Receiver(list(script))
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


def hooked_client(make_client: ClientFactory, url: str, **overrides: Any) -> TestClient:
    values: dict[str, Any] = {
        "api_keys": KEYS,
        "admin_users": ["root"],
        "webhooks": [
            {"url": url, "events": ["scenario.finished", "scenario.failed"], "secret": SECRET}
        ],
        "webhook_retry_seconds": 0.01,
        "webhook_max_attempts": 3,
    }
    return make_client(**(values | overrides))


def run_scenario(client: TestClient, algorithm: str = "Instant") -> str:
    session = client.get(f"{PREFIX}/sessions", headers=ALICE).json()["default"]
    base = f"{PREFIX}/sessions/{session}/scenarios"
    body = {"tag": algorithm, "dataset_key": "Master data", "algo_name": algorithm}
    scenario_id: str = client.post(base, json=body, headers=ALICE).json()["id"]
    assert client.post(f"{base}/{scenario_id}/run", headers=ALICE).status_code == 202
    return scenario_id


def deliveries(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    r = client.get(f"{PREFIX}/webhooks/deliveries", params=params, headers=ROOT)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["deliveries"]
    return found


def settled(client: TestClient) -> list[dict[str, Any]]:
    return wait_for(
        lambda: deliveries(client),
        lambda found: bool(found) and all(d["status"] != "pending" for d in found),
    )


def test_a_finished_run_is_delivered_signed(
    make_client: ClientFactory, receiver_factory: Any
) -> None:
    receiver = receiver_factory(204)
    client = hooked_client(make_client, receiver.url)
    scenario_id = run_scenario(client)
    [delivery] = settled(client)
    assert (delivery["status"], delivery["attempts"], delivery["event"]) == (
        "delivered",
        1,
        "scenario.finished",
    )
    [(path, headers, body)] = receiver.received
    assert path == "/hook" and headers["webhook-id"] == delivery["id"]
    event = Webhook(SECRET).verify(body, headers)
    assert event["type"] == "scenario.finished"
    assert event["data"]["scenario_id"] == scenario_id and event["data"]["status"] == "complete"
    tampered = body.replace(b"complete", b"failed!!")
    with pytest.raises(Exception, match="signature"):
        Webhook(SECRET).verify(tampered, headers)


def test_a_failed_run_is_retried_after_a_500(
    make_client: ClientFactory, receiver_factory: Any
) -> None:
    receiver = receiver_factory(500, 200)
    client = hooked_client(make_client, receiver.url)
    run_scenario(client, "Broken")
    [delivery] = settled(client)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    assert delivery["last_error"] is None
    first, second = receiver.received
    assert first[1]["webhook-id"] == second[1]["webhook-id"] == delivery["id"]
    assert Webhook(SECRET).verify(second[2], second[1])["type"] == "scenario.failed"


def test_the_last_failed_try_dead_letters_the_delivery(
    make_client: ClientFactory, receiver_factory: Any
) -> None:
    receiver = receiver_factory(503)
    client = hooked_client(make_client, receiver.url)
    run_scenario(client)
    [delivery] = settled(client)
    assert (delivery["status"], delivery["attempts"]) == ("dead", 3)
    assert delivery["last_error"] == "HTTP 503"
    assert len(receiver.received) == 3
    assert deliveries(client, status="dead") == [delivery]
    assert deliveries(client, status="pending") == []


def test_a_redirect_is_a_failed_attempt_never_followed(
    make_client: ClientFactory, receiver_factory: Any
) -> None:
    receiver = receiver_factory(302)
    client = hooked_client(make_client, receiver.url, webhook_max_attempts=1)
    run_scenario(client)
    [delivery] = settled(client)
    assert delivery["status"] == "dead"
    assert delivery["last_error"] == "HTTP 302: redirects are not followed"
    assert [path for path, _, _ in receiver.received] == ["/hook"]


def test_a_failed_etl_is_an_event(make_client: ClientFactory, receiver_factory: Any) -> None:
    receiver = receiver_factory(200)
    hooks = [{"url": receiver.url, "events": ["etl.failed"], "secret": SECRET}]
    client = hooked_client(make_client, receiver.url, webhooks=hooks, schemas=[ITEMS])
    session = client.get(f"{PREFIX}/sessions", headers=ALICE).json()["default"]
    bad = [("files", ("items.csv", b"sku,qty\nA,x\n", "text/csv"))]
    r = client.post(
        f"{PREFIX}/sessions/{session}/etl", data={"dataset_name": "up"}, files=bad, headers=ALICE
    )
    assert r.status_code == 200 and r.json()["success"] is False
    [delivery] = settled(client)
    assert (delivery["event"], delivery["status"]) == ("etl.failed", "delivered")
    event = Webhook(SECRET).verify(receiver.received[0][2], receiver.received[0][1])
    assert event["data"] == {"session_id": session, "dataset_name": "up", "files": ["items.csv"]}


def test_unsubscribed_events_are_not_queued(
    make_client: ClientFactory, receiver_factory: Any
) -> None:
    receiver = receiver_factory(200)
    hooks = [{"url": receiver.url, "events": ["scenario.failed"], "secret": SECRET}]
    client = hooked_client(make_client, receiver.url, webhooks=hooks)
    scenario_id = run_scenario(client)
    session = client.get(f"{PREFIX}/sessions", headers=ALICE).json()["default"]
    wait_for(
        lambda: client.get(
            f"{PREFIX}/sessions/{session}/scenarios/{scenario_id}", headers=ALICE
        ).json()["status"],
        lambda status: status == "complete",
    )
    assert deliveries(client) == []


def test_deliveries_survive_a_restart_and_are_sent_once(
    tmp_path: Path, receiver_factory: Any
) -> None:
    receiver = receiver_factory(200)
    url = f"sqlite:///{tmp_path / 'algomancy.sqlite3'}"
    first = SQLStore(url)
    now = utcnow()
    first.deliveries.enqueue(
        [Delivery("scenario.finished", receiver.url, '{"type":"scenario.finished"}', now, now)]
    )
    first.close()  # the process that queued it is gone
    stores = [SQLStore(url), SQLStore(url)]
    target = WebhookTarget(receiver.url, ("scenario.finished",), SECRET)
    senders = [Webhooks([target], lambda s=s: s.deliveries) for s in stores]  # type: ignore[misc]
    try:
        with httpx.Client(follow_redirects=False, timeout=5) as http:
            sent = [sender.send_due(http) for sender in senders]
        assert sorted(sent) == [False, True]
        [delivery] = stores[0].deliveries.list()
        assert delivery.status is DeliveryStatus.DELIVERED
        assert len(receiver.received) == 1
    finally:
        for store in stores:
            store.close()


def test_retries_back_off_exponentially(receiver_factory: Any, tmp_path: Path) -> None:
    receiver = receiver_factory(500)
    store = SQLStore(f"sqlite:///{tmp_path / 'algomancy.sqlite3'}")
    try:
        target = WebhookTarget(receiver.url, ("etl.failed",), SECRET)
        sender = Webhooks([target], lambda: store.deliveries, retry_seconds=60, max_attempts=5)
        assert [sender.backoff(n) for n in (1, 2, 3)] == [
            timedelta(seconds=s) for s in (60, 120, 240)
        ]
        sender.notify("etl.failed", {"dataset_name": "x"})
        with httpx.Client() as http:
            assert sender.send_due(http)
            assert not sender.send_due(http)  # not due again for a minute
        [after] = store.deliveries.list()
        assert (after.status, after.attempts, after.last_error) == ("pending", 1, "HTTP 500")
        wait = after.next_attempt_at - utcnow()
        assert timedelta(seconds=50) < wait <= timedelta(seconds=60)
    finally:
        store.close()


def test_the_signature_is_the_standard_one() -> None:
    key = WebhookTarget("http://h", ("etl.failed",), SECRET).key
    ours = sign(key, "msg_1", 1_700_000_000, b'{"a":1}')
    theirs = Webhook(SECRET).sign("msg_1", datetime.fromtimestamp(1_700_000_000, UTC), b'{"a":1}')
    assert ours == theirs


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        ("http://x", "webhooks: must be a list"),
        ([{"url": "ftp://x", "events": ["etl.failed"], "secret": SECRET}], "webhooks[0].url"),
        ([{"url": "http://x", "events": [], "secret": SECRET}], "webhooks[0].events"),
        ([{"url": "http://x", "events": ["run.done"], "secret": SECRET}], "'run.done'"),
        ([{"url": "http://x", "events": ["etl.failed"], "secret": "short"}], "secret"),
        ([{"url": "http://x", "events": ["etl.failed"], "secret": "whsec_*not*base64*"}], "base64"),
        ([{"url": "http://x", "events": ["etl.failed"], "secret": SECRET, "x": 1}], "webhooks[0]"),
    ],
)  # fmt: skip
def test_bad_webhook_configuration_names_the_field(hooks: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_webhooks(hooks)
