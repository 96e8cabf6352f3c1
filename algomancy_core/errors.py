"""The exceptions of the scenario core; the API maps each family to one HTTP status."""

from __future__ import annotations


class AlgomancyError(Exception):
    """Base class of the core's errors."""


class NotFoundError(AlgomancyError, LookupError):
    """A session, scenario, dataset, algorithm or KPI that does not exist (HTTP 404)."""


class ConflictError(AlgomancyError):
    """The request clashes with the current state: a taken name, a running scenario (HTTP 409)."""


class InvalidTransitionError(ConflictError):
    """A scenario was asked to move to a state its current state does not lead to."""


class InvalidInputError(AlgomancyError, ValueError):
    """Input that is malformed whatever the state (HTTP 400)."""


class ConfigurationError(AlgomancyError, ValueError):
    """A configuration value is wrong; the message names the field."""
