"""`DeploymentSettings`: what a server process needs from its environment.

`serve` (and a gunicorn deployment, by the variables you export) hands each server
process what to build: the configuration (`ALGOMANCY_CONFIG`, what `--config`
takes), the fields that override it (`ALGOMANCY_OVERRIDES`, JSON), where its module
is looked for first (`ALGOMANCY_APP_DIR`), and Prometheus' multiprocess folder
(`PROMETHEUS_MULTIPROC_DIR`). Worker processes inherit only the environment, so
that is where these travel; this class is the one place that names and reads
them (pydantic-settings), and `export` the one place that writes them.

Imported only when a server starts (`serve`, the app factory, gunicorn's
configuration, the metrics): the CLI's other commands do not pay for
pydantic-settings.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from algomancy_api.envnames import ENV_APP_DIR, ENV_OVERRIDES, ENV_SPEC, MULTIPROC_ENV


class DeploymentSettings(BaseSettings):
    """The deployment knobs of the module's docstring, read from the environment
    (`DeploymentSettings()`), or given to `export` (`DeploymentSettings.given(...)`)."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    #: `module:attribute` (or a file) of the configuration, as `--config` takes it.
    config: str | None = Field(default=None, validation_alias=AliasChoices(ENV_SPEC))
    #: Configuration fields to override, by name.
    overrides: dict[str, Any] = Field(
        default_factory=dict, validation_alias=AliasChoices(ENV_OVERRIDES)
    )
    #: Where the configuration's module is looked for first (default: the current folder).
    app_dir: str | None = Field(default=None, validation_alias=AliasChoices(ENV_APP_DIR))
    #: Prometheus' multiprocess folder, for servers of several processes.
    multiproc_dir: str | None = Field(default=None, validation_alias=AliasChoices(MULTIPROC_ENV))

    @classmethod
    def given(cls, **values: Any) -> DeploymentSettings:
        """Settings as given (by field name), the environment not read: the ones
        `export` is to write. (Read with the environment, a given dict would be
        merged with the one already there.)"""
        return cls.model_construct(**values)

    def export(self) -> None:
        """Put the settings given into this process's environment, for the server
        processes it starts (and prometheus-client) to read."""
        names = {"config": ENV_SPEC, "app_dir": ENV_APP_DIR, "multiproc_dir": MULTIPROC_ENV}
        for field in self.model_fields_set:
            value = getattr(self, field)
            if field == "overrides":
                os.environ[ENV_OVERRIDES] = json.dumps(value)
            elif value is not None:
                os.environ[names[field]] = value
