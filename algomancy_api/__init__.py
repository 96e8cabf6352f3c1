"""HTTP API of Algomancy: configuration, launcher, routers, wire models and client."""

from algomancy_api.client import AlgomancyClient, AlgomancyError
from algomancy_api.config import ApiConfiguration
from algomancy_api.launcher import ApiLauncher

__all__ = ["AlgomancyClient", "AlgomancyError", "ApiConfiguration", "ApiLauncher"]
