"""`DeploymentSettings`: the deployment knobs read from, and written to, the environment."""

from __future__ import annotations

import json
import os

import pytest

from algomancy_api.deployment import DeploymentSettings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "ALGOMANCY_CONFIG",
        "ALGOMANCY_OVERRIDES",
        "ALGOMANCY_APP_DIR",
        "PROMETHEUS_MULTIPROC_DIR",
    ):
        # Set first, so that teardown removes what `export` writes too.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return monkeypatch


def test_the_settings_are_read_from_the_documented_variables(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("ALGOMANCY_CONFIG", "myapp.api:production")
    clean_env.setenv("ALGOMANCY_OVERRIDES", '{"max_workers": 2}')
    clean_env.setenv("ALGOMANCY_APP_DIR", "/srv/app")
    clean_env.setenv("PROMETHEUS_MULTIPROC_DIR", "/run/metrics")
    settings = DeploymentSettings()
    assert settings.config == "myapp.api:production"
    assert settings.overrides == {"max_workers": 2}
    assert settings.app_dir == "/srv/app"
    assert settings.multiproc_dir == "/run/metrics"


def test_unset_variables_are_the_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = DeploymentSettings()
    assert (settings.config, settings.overrides, settings.app_dir) == (None, {}, None)
    assert settings.multiproc_dir is None


def test_export_writes_what_was_given_and_a_worker_reads_it_back(
    clean_env: pytest.MonkeyPatch,
) -> None:
    # Overrides already in the environment are replaced, not merged with the given ones.
    clean_env.setenv("ALGOMANCY_OVERRIDES", '{"port": 1}')
    DeploymentSettings.given(config="m:c", overrides={"max_workers": 3}, app_dir="/a").export()
    assert json.loads(os.environ["ALGOMANCY_OVERRIDES"]) == {"max_workers": 3}
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    read = DeploymentSettings()
    assert (read.config, read.overrides, read.app_dir) == ("m:c", {"max_workers": 3}, "/a")
