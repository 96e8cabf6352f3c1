"""App settings (title, logo, accent, features), the admin log, and saving a
dataset as master data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from algomancy_api import ApiConfiguration
from algomancy_api.logbuffer import RingBuffer
from algomancy_core import ConfigurationError

from .conftest import PREFIX, ClientFactory, api_config

M = f"{PREFIX}/sessions/main"
KEYS = {"k-root": "root", "k-bob": "bob"}
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


def test_settings_default_to_the_title_and_every_feature(make_client: ClientFactory) -> None:
    client = make_client(title="Depot planning")
    assert client.get("/app/settings").json() == {
        "title": "Depot planning",
        "logo": False,
        "accent": None,
        "features": {"session_picker": True, "parameter_upload": True},
    }
    r = client.get("/app/logo")
    assert r.status_code == 404 and "app_logo" in r.json()["detail"]


def test_settings_from_the_configuration_need_no_credentials(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_bytes(SVG)
    client = make_client(
        api_keys=KEYS,
        app_title="Slotting",
        app_logo=str(logo),
        app_accent="#0F766E",
        app_features={"session_picker": False},
    )
    assert client.get("/app/settings").json() == {
        "title": "Slotting",
        "logo": True,
        "accent": "#0f766e",
        "features": {"session_picker": False, "parameter_upload": True},
    }
    r = client.get("/app/logo")
    assert r.status_code == 200 and r.content == SVG
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert client.get(f"{M}/data").status_code == 401


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("app_title", "  ", "app_title"),
        ("app_accent", "blue", "app_accent: must be a colour"),
        ("app_accent", "#12345", "app_accent"),
        ("app_features", {"dark_mode": True}, "unknown feature 'dark_mode'"),
        ("app_features", {"session_picker": "no"}, "session_picker must be true or false"),
        ("app_features", ["session_picker"], "app_features"),
        ("app_logo", "missing.png", "is not a file"),
        ("app_logo", "logo.bmp", "must be one of .svg"),
        ("admin_log_lines", 0, "admin_log_lines: must be a positive integer"),
    ],
)
def test_wrong_app_settings_are_refused_naming_the_field(
    field: str, value: Any, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ApiConfiguration(**{field: value})


def test_a_logo_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (512 * 1024 + 1))
    with pytest.raises(ConfigurationError, match="over 524288 bytes"):
        ApiConfiguration(app_logo=str(big))


def test_the_log_is_for_admins_only(make_client: ClientFactory) -> None:
    client = make_client(api_keys=KEYS, admin_users=["root"])
    logging.getLogger("algomancy.test").warning("disk almost full on /srv")
    logging.getLogger("algomancy.test").error("scenario xyz failed")
    refused = client.get(f"{PREFIX}/admin/logs", headers={"X-API-Key": "k-bob"})
    assert refused.status_code == 403 and "admin_users" in refused.json()["detail"]
    assert client.get(f"{PREFIX}/admin/logs").status_code == 401
    root = {"X-API-Key": "k-root"}
    body = client.get(f"{PREFIX}/admin/logs", headers=root).json()
    assert body["capacity"] == 1000
    messages = [line["message"] for line in body["lines"]]
    assert "disk almost full on /srv" in messages and "scenario xyz failed" in messages
    errors = client.get(f"{PREFIX}/admin/logs?level=error", headers=root).json()["lines"]
    assert errors and all(line["level"] in ("ERROR", "CRITICAL") for line in errors)
    found = client.get(
        f"{PREFIX}/admin/logs", params={"contains": "DISK ALMOST", "logger": "algomancy.test"},
        headers=root,
    ).json()["lines"]  # fmt: skip
    assert [line["message"] for line in found][-1] == "disk almost full on /srv"
    last = body["lines"][-1]["seq"]
    newer = client.get(f"{PREFIX}/admin/logs?after={last}", headers=root).json()["lines"]
    assert all(line["seq"] > last for line in newer)
    assert client.get(f"{PREFIX}/admin/logs?level=loud", headers=root).status_code == 422
    assert client.get(f"{PREFIX}/admin/logs?limit=0", headers=root).status_code == 422


def test_without_authentication_nobody_is_an_admin(make_client: ClientFactory) -> None:
    client = make_client()
    assert client.get(f"{PREFIX}/admin/logs").status_code == 403


def test_the_ring_buffer_keeps_the_newest_lines() -> None:
    buffer = RingBuffer(3)
    log = logging.getLogger("algomancy.ring-test")
    log.addHandler(buffer)
    try:
        for i in range(5):
            log.warning("line %d", i)
    finally:
        log.removeHandler(buffer)
    # A bad format string is kept as written, not raised.
    buffer.emit(logging.LogRecord("x", logging.ERROR, "f", 1, "broken %s %s", ("one",), None))
    body = buffer.lines()
    assert [line["message"] for line in body["lines"]] == ["line 3", "line 4", "broken %s %s"]
    assert body["total"] == 6 and body["capacity"] == 3
    assert [line["message"] for line in buffer.lines(limit=1)["lines"]] == ["broken %s %s"]
    buffer.resize(5)
    assert buffer.capacity == 5 and len(buffer.lines()["lines"]) == 3


def test_a_derived_dataset_is_saved_as_master(make_client: ClientFactory) -> None:
    client = make_client()
    assert client.post(f"{M}/data/Master data/derive", json={"new_key": "draft"}).status_code == 201
    assert client.get(f"{M}/data/draft").json()["classification"] == "derived_data"
    r = client.post(f"{M}/data/draft/save-as-master", json={"new_key": "Plan B"})
    assert r.status_code == 201 and "Plan B" in r.json()["keys"]
    assert client.get(f"{M}/data/Plan B").json()["classification"] == "master_data"
    again = client.post(f"{M}/data/draft/save-as-master", json={"new_key": "Plan B"})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    missing = client.post(f"{M}/data/nope/save-as-master", json={"new_key": "x"})
    assert missing.status_code == 404
    assert client.post(f"{M}/data/draft/save-as-master", json={}).status_code == 422


def test_api_config_helper_still_builds() -> None:
    assert api_config(app_title="x").app_title == "x"
