"""No credential in a log line: keys in headers are never logged, keys in the
query string are redacted from uvicorn's access log."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from algomancy_api import ApiLauncher
from algomancy_api.logs import ACCESS_LOGGER, RedactQuery, logging_config, redact_query
from tests.polling import wait_for
from tests.server import ServerProcess

from .conftest import api_config

SECRETS = ("k-query-1f2e", "k-header-3d4c", "k-bearer-5b6a", "cookie-7980", "tok-a1b2")


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/x", "/x"),
        ("/x?offset=10&limit=5", "/x?offset=10&limit=5"),
        ("/x?api_key=s&limit=5", "/x?api_key=[redacted]&limit=5"),
        ("/x?limit=5&apiKey=s", "/x?limit=5&apiKey=[redacted]"),
        ("/x?X-API-Key=s", "/x?X-API-Key=[redacted]"),
        ("/x?access_token=s&token=t", "/x?access_token=[redacted]&token=[redacted]"),
        ("/x?password=s&client_secret=t", "/x?password=[redacted]&client_secret=[redacted]"),
        ("/x?Authorization=Bearer%20s", "/x?Authorization=[redacted]"),
        ("/x?api%5Fkey=s", "/x?api%5Fkey=[redacted]"),  # the name percent-encoded
        ("/x?code=s&state=t", "/x?code=[redacted]&state=t"),  # OAuth's redirect
        ("/x?format=csv&api_key=", "/x?format=csv&api_key=[redacted]"),
    ],
)
def test_redact_query(target: str, logged: str) -> None:
    assert redact_query(target) == logged


@pytest.mark.slow  # a fresh interpreter
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_serves_log_config_redacts_the_access_log(log_format: str) -> None:
    assert logging_config("info", log_format)["loggers"][ACCESS_LOGGER]["filters"] == [
        "redact_query"
    ]
    # In a process of its own: this one's logging stays as pytest set it.
    script = textwrap.dedent(
        f"""
        import logging, logging.config
        from algomancy_api.logs import logging_config
        logging.config.dictConfig(logging_config("info", {log_format!r}))
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/h?api_key=k-1", "1.1", 200
        )
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "api_key=[redacted]" in done.stderr and "k-1" not in done.stderr


def test_an_app_redacts_the_access_log_however_it_is_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Under `uvicorn app:app` or gunicorn, `serve`'s logging configuration is not
    there: building the app puts the filter on uvicorn's access logger (once)."""
    access = logging.getLogger(ACCESS_LOGGER)
    access.filters = [f for f in access.filters if not isinstance(f, RedactQuery)]
    ApiLauncher.build(api_config())
    ApiLauncher.build(api_config())
    assert sum(isinstance(f, RedactQuery) for f in access.filters) == 1
    with caplog.at_level(logging.INFO, ACCESS_LOGGER):
        access.info('%s - "%s %s HTTP/%s" %d', "c", "GET", "/h?token=k-2&limit=1", "1.1", 200)
    assert "token=[redacted]&limit=1" in caplog.text and "k-2" not in caplog.text


@pytest.mark.slow  # a real server process
def test_no_credential_reaches_a_real_servers_log(tmp_path: Path) -> None:
    with ServerProcess(["--example", "--in-memory"], tmp_path) as server:
        query = f"api_key={SECRETS[0]}&limit=3&access_token={SECRETS[4]}"
        r = httpx.get(
            f"{server.base}/api/v1/sessions?{query}",
            headers={
                "X-API-Key": SECRETS[1],
                "Authorization": f"Bearer {SECRETS[2]}",
                "Cookie": f"session={SECRETS[3]}",
            },
        )
        assert r.status_code == 200
        line = wait_for(
            lambda: [x for x in server.log().splitlines() if "GET /api/v1/sessions?" in x],
            what="the access log line",
        )[0]
        assert "api_key=[redacted]&limit=3&access_token=[redacted]" in line
        log = server.log()
    assert not [secret for secret in SECRETS if secret in log]
