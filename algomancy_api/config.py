"""`ApiConfiguration`: `CoreConfig` plus what the HTTP server needs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from algomancy_api.appsettings import FEATURES, check_accent, check_features, check_logo
from algomancy_api.middleware.auth import parse_networks
from algomancy_api.middleware.headers import DEFAULT_FRAME_ANCESTORS, check_frame_ancestors
from algomancy_api.middleware.jsonbody import (
    DEFAULT_MAX_JSON_BYTES,
    DEFAULT_MAX_JSON_DEPTH,
    DEFAULT_MAX_JSON_NODES,
)
from algomancy_api.middleware.sitecheck import default_allowed_hosts
from algomancy_api.slowclients import (
    DEFAULT_HEADER_TIMEOUT_SECONDS,
    DEFAULT_MAX_CONNECTIONS_AWAITING_HEADERS,
)
from algomancy_api.webhooks import WebhookTarget, parse_webhooks
from algomancy_core import ConfigurationError, CoreConfig
from algomancy_data import ReadLimits
from algomancy_data.limits import (
    DEFAULT_MAX_CELL_CHARS,
    DEFAULT_MAX_COMPRESSION_RATIO,
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    DEFAULT_MAX_TABLE_CELLS,
    DEFAULT_PARSE_MEMORY_BYTES,
    DEFAULT_PARSE_SECONDS,
)
from algomancy_data.parsepool import DEFAULT_WORKERS

DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MiB = 1024 * 1024

#: The positive-integer limits, checked alike.
LIMIT_FIELDS = (
    "max_upload_bytes",
    "max_json_bytes",
    "max_json_depth",
    "max_json_nodes",
    "max_upload_files",
    "max_file_bytes",
    "max_uploads_in_flight_bytes",
    "max_table_cells",
    "max_cell_chars",
    "max_xlsx_decompressed_bytes",
    "max_xlsx_compression_ratio",
    "xlsx_parse_workers",
    "xlsx_parse_memory_bytes",
    "xlsx_parse_seconds",
    "max_xlsx_export_cells",
    "admin_log_lines",
    "max_connections_awaiting_headers",
    "min_body_bytes_per_second",
)
#: Cells of a table downloaded as XLSX (rows, header included, x columns).
DEFAULT_MAX_XLSX_EXPORT_CELLS = 2_000_000
#: The positive durations, in seconds.
SECONDS_FIELDS = ("header_timeout_seconds", "body_grace_seconds", "etl_timeout_seconds")


@dataclasses.dataclass
class ApiConfiguration(CoreConfig):
    """The domain wiring of `CoreConfig` and the HTTP settings.

    Authentication is off unless `api_keys` or `identity_header` is set.
    """

    host: str = "127.0.0.1"
    port: int = 8051
    prefix: str = "/api/v1"
    cors_origins: list[str] = dataclasses.field(default_factory=list)
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    """Largest request body accepted (HTTP 413 beyond it)."""
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES
    """Largest body of the other routes: JSON of sessions, scenarios and the like
    (HTTP 413 beyond it). The dataset routes (`…/data/from-json`, `…/etl`) take up to
    `max_upload_bytes`."""
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    """Arrays and objects nested in a JSON body (HTTP 400 beyond it), checked on the
    raw bytes before the body is parsed."""
    max_json_nodes: int = DEFAULT_MAX_JSON_NODES
    """Arrays, objects and object keys in one JSON body (HTTP 400 beyond it), counted
    on the raw bytes before the body is parsed: each costs the route's parse and
    validation, on the event loop, a Python object or an error."""
    max_upload_files: int = 20
    """Files in one ETL upload (HTTP 400 beyond it)."""
    max_file_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    """Largest single uploaded file (HTTP 413 beyond it)."""
    max_uploads_in_flight_bytes: int = 256 * MiB
    """Request bytes of all uploads being received or processed at once, across
    requests; a request that would pass it is answered 503 with `Retry-After`.
    Bodies of the JSON routes (up to `max_json_bytes`) are not counted."""
    max_uploads_per_client_bytes: int | None = None
    """The share of `max_uploads_in_flight_bytes` one client address may hold at once
    (503 beyond it). None: half of it, or `max_upload_bytes` if that is more."""
    header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    """A connection that has not sent a request's complete headers this long after it
    opened (or after the first byte of a next request) is answered 408 and closed
    (`serve` and its gunicorn worker)."""
    max_connections_awaiting_headers: int = DEFAULT_MAX_CONNECTIONS_AWAITING_HEADERS
    """Connections of one server process waiting for their headers at once; one more
    closes the one that waited longest (`serve` and its gunicorn worker)."""
    min_body_bytes_per_second: int = 1024
    """The slowest a request body may arrive, averaged from its start once
    `body_grace_seconds` have passed; slower is answered 408 and the connection
    closed."""
    body_grace_seconds: float = 10.0
    """How long a request body may take before `min_body_bytes_per_second` applies."""
    etl_timeout_seconds: float = 300.0
    """The longest an ETL request's work may take (reading the uploaded files and the
    ETL); past it the request is answered 503 and nothing is stored."""
    etl_in_child: bool = True
    """Run uploads' ETL (reading the files, the checks, building the dataset) in one
    reused child process, so that the server process never imports pandas for an
    upload. Applies when the configuration has a `config_import_path` (`serve` sets
    it) and a persistent store; otherwise, and when false, the ETL runs in the server
    process (the in-memory store keeps the frames there anyway)."""
    config_import_path: str | None = None
    """The `module:attribute` this configuration is loaded from, which the ETL child
    process (`etl_in_child`) loads again; `serve` sets it to its `--config`. None
    (a configuration built as an object): uploads' ETL runs in the server process."""
    max_table_cells: int = DEFAULT_MAX_TABLE_CELLS
    """Rows x columns of one uploaded table (a failed ETL naming the limit beyond it)."""
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS
    """Characters of one uploaded cell."""
    max_xlsx_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    """Inflated size of an uploaded workbook, read from its zip directory."""
    max_xlsx_compression_ratio: int = DEFAULT_MAX_COMPRESSION_RATIO
    """Inflated / compressed size of one workbook part over 1 MiB."""
    xlsx_parse_workers: int = DEFAULT_WORKERS
    """Child processes that parse uploaded workbooks (the server never parses one
    itself): at most this many are parsed at once, others wait."""
    xlsx_parse_memory_bytes: int = DEFAULT_PARSE_MEMORY_BYTES
    """Address space (`RLIMIT_AS`) of a parser process while it parses one workbook;
    past it the parse fails (a failed ETL naming this field) and the process is
    replaced."""
    xlsx_parse_seconds: int = DEFAULT_PARSE_SECONDS
    """CPU time (`RLIMIT_CPU`) and wall time (waiting for a free parser included)
    of one workbook's parse; past it the parser process is killed and replaced."""
    max_xlsx_export_cells: int = DEFAULT_MAX_XLSX_EXPORT_CELLS
    """Cells (rows with the header row, x columns) of a table downloaded as XLSX;
    larger tables answer 400 (download them as CSV)."""
    api_keys: dict[str, str] = dataclasses.field(default_factory=dict)
    """API key → user name. Clients send `Authorization: Bearer <key>` or `X-API-Key`."""
    identity_header: str | None = None
    """A header set by a trusted reverse proxy that names the user (e.g. `X-Forwarded-User`)."""
    public_docs: bool = True
    """Serve `/docs` and `/openapi.json` without credentials when authentication is on."""
    ui: bool = True
    """Serve the web app at `/` (`serve --no-ui` turns it off)."""
    allow_session_create: bool = True
    """False: creating and copying sessions answer 403 (sessions are provisioned)."""
    forwarded_allow_ips: str | list[str] | None = None
    """Addresses whose `X-Forwarded-For`/`-Proto` are trusted (as uvicorn's option:
    a comma-separated string or a list of IPs or networks, `*` for any); None trusts
    none."""
    trusted_proxies: str | list[str] = dataclasses.field(default_factory=list)
    """Addresses or CIDR ranges of the reverse proxies whose `identity_header` is
    believed (a list, or a comma-separated string). None by default: the header
    from any other peer is refused with 401. Judged on the TCP peer, never on
    `X-Forwarded-For`."""
    admin_users: str | list[str] = dataclasses.field(default_factory=list)
    """User names that see and manage every user's sessions."""
    allowed_hosts: str | list[str] | None = None
    """`Host` header values served (`name`, `name:port`, `*.domain`, `*`; a list or
    a comma-separated string); others get 400. None: the loopback names, any port,
    while `host` is a loopback address, else any host."""
    webhooks: list[WebhookTarget] | list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """Where events are sent: a list of `{url, events, secret}` (`events` from
    `scenario.finished`, `scenario.failed`, `experiment.finished`, `study.finished`,
    `etl.failed`; `secret` of 16 characters or more, or `whsec_` and base64)."""
    webhook_max_attempts: int = 6
    """Attempts of one delivery before it is dead-lettered."""
    webhook_retry_seconds: float = 10.0
    """Wait before the second attempt; doubled after each further failure."""
    webhook_timeout_seconds: float = 5.0
    """Time limit of one delivery attempt (connect, send and answer)."""
    frame_ancestors: str = DEFAULT_FRAME_ANCESTORS
    """The pages that may show this server's answers in a frame, as the
    Content-Security-Policy's `frame-ancestors` sources: `'none'` (no page),
    `'self'`, or origins separated by spaces (`https://portal.example`)."""

    metrics: bool = True
    """Serve Prometheus metrics at `/metrics` (behind the API's credentials when
    authentication is on) and count requests, runs and uploads."""
    tracing: bool = False
    """Record OpenTelemetry traces of requests and runs (needs the `otel` extra);
    exported over OTLP as the `OTEL_EXPORTER_OTLP_*` variables say, unless the
    host set up a tracer provider of its own."""
    app_title: str | None = None
    """The web app's title (header and browser tab); None: `title`."""
    app_logo: str | None = None
    """Path of an image file (SVG, PNG, JPEG, GIF or WebP, at most 512 KiB) shown in
    the web app's header, served at `/app/logo`; None: no logo."""
    app_accent: str | None = None
    """The web app's accent colour (`#rgb` or `#rrggbb`); None: its own blue."""
    app_features: dict[str, bool] = dataclasses.field(default_factory=lambda: dict(FEATURES))
    """Web app switches: `session_picker` (the header's session picker) and
    `parameter_upload` (load parameter values from a JSON file in the create form),
    both on by default; a dict with some of them changes only those."""
    admin_log_lines: int = 1000
    """Recent log lines kept in memory for the admin log page
    (`GET {prefix}/admin/logs`, `admin_users` only)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.app_title is not None and (
            not isinstance(self.app_title, str) or not self.app_title.strip()
        ):
            raise ConfigurationError("app_title: must be a non-empty string or None")
        self.app_logo = check_logo(self.app_logo)
        self.app_accent = check_accent(self.app_accent)
        self.app_features = check_features(self.app_features)
        if not isinstance(self.host, str) or not self.host.strip():
            raise ConfigurationError("host: must be a non-empty string")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ConfigurationError("port: must be an integer")
        if not 0 <= self.port <= 65535:
            raise ConfigurationError("port: must be between 0 and 65535")
        if not isinstance(self.prefix, str) or not self.prefix.startswith("/"):
            raise ConfigurationError("prefix: must start with '/'")
        self.prefix = self.prefix.rstrip("/")
        if isinstance(self.cors_origins, str) or not all(
            isinstance(o, str) for o in self.cors_origins
        ):
            raise ConfigurationError("cors_origins: must be a list of origin strings")
        self.cors_origins = list(self.cors_origins)
        for field in LIMIT_FIELDS:
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{field}: must be a positive integer")
        if self.max_uploads_in_flight_bytes < self.max_upload_bytes:
            raise ConfigurationError(
                "max_uploads_in_flight_bytes: must be at least max_upload_bytes"
            )
        share = self.max_uploads_per_client_bytes
        if share is not None and (
            isinstance(share, bool)
            or not isinstance(share, int)
            or not self.max_upload_bytes <= share <= self.max_uploads_in_flight_bytes
        ):
            raise ConfigurationError(
                "max_uploads_per_client_bytes: must be None or an integer from "
                "max_upload_bytes to max_uploads_in_flight_bytes"
            )
        for field in SECONDS_FIELDS:
            value = getattr(self, field)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 < value < float("inf")
            ):
                raise ConfigurationError(f"{field}: must be a positive number of seconds")
        if not isinstance(self.api_keys, Mapping) or not all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in self.api_keys.items()
        ):
            raise ConfigurationError("api_keys: must map non-empty keys to non-empty user names")
        if self.config_import_path is not None and ":" not in str(self.config_import_path):
            raise ConfigurationError("config_import_path: expected 'module:attribute'")
        for flag in ("ui", "metrics", "tracing", "etl_in_child"):
            if not isinstance(getattr(self, flag), bool):
                raise ConfigurationError(f"{flag}: must be true or false")
        if self.identity_header is not None and not str(self.identity_header).strip():
            raise ConfigurationError("identity_header: must not be blank")
        if not isinstance(self.allow_session_create, bool):
            raise ConfigurationError("allow_session_create: must be true or false")
        self.forwarded_allow_ips = _forwarded_allow_ips(self.forwarded_allow_ips)
        self.trusted_proxies = _names("trusted_proxies", self.trusted_proxies)
        try:
            parse_networks("trusted_proxies", self.trusted_proxies)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        if self.identity_header is not None and not self.trusted_proxies:
            raise ConfigurationError(
                "identity_header: needs trusted_proxies, the addresses of the reverse "
                "proxy that sets it (no proxy is trusted by default)"
            )
        self.admin_users = _names("admin_users", self.admin_users)
        if self.admin_users and not self.auth_enabled:
            raise ConfigurationError(
                "admin_users: needs authentication (api_keys or identity_header); "
                "without it every caller is the same anonymous user"
            )
        if self.allowed_hosts is not None:
            self.allowed_hosts = _names("allowed_hosts", self.allowed_hosts)
            if not self.allowed_hosts:
                raise ConfigurationError("allowed_hosts: must name at least one host (or '*')")
        self.webhooks = parse_webhooks(self.webhooks)
        if (
            isinstance(self.webhook_max_attempts, bool)
            or not isinstance(self.webhook_max_attempts, int)
            or self.webhook_max_attempts < 1
        ):
            raise ConfigurationError("webhook_max_attempts: must be an integer >= 1")
        for field in ("webhook_retry_seconds", "webhook_timeout_seconds"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigurationError(f"{field}: must be a positive number of seconds")
        try:
            self.frame_ancestors = check_frame_ancestors(self.frame_ancestors)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None

    @property
    def served_hosts(self) -> list[str]:
        """`allowed_hosts`, or its default for `host`."""
        if self.allowed_hosts is not None:
            return list(self.allowed_hosts)
        return default_allowed_hosts(self.host)

    @property
    def read_limits(self) -> ReadLimits:
        """The limits on reading one uploaded file."""
        return ReadLimits(
            max_table_cells=self.max_table_cells,
            max_cell_chars=self.max_cell_chars,
            max_decompressed_bytes=self.max_xlsx_decompressed_bytes,
            max_compression_ratio=self.max_xlsx_compression_ratio,
            xlsx_parse_memory_bytes=self.xlsx_parse_memory_bytes,
            xlsx_parse_seconds=self.xlsx_parse_seconds,
        )

    @property
    def upload_share_per_client(self) -> int:
        """`max_uploads_per_client_bytes`, or its default."""
        if self.max_uploads_per_client_bytes is not None:
            return self.max_uploads_per_client_bytes
        return max(self.max_upload_bytes, self.max_uploads_in_flight_bytes // 2)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys) or self.identity_header is not None

    @classmethod
    def coerce(cls, config: ApiConfiguration | CoreConfig | Mapping[str, Any]) -> ApiConfiguration:
        """An `ApiConfiguration` from itself, a `CoreConfig` or a dict of fields."""
        if isinstance(config, ApiConfiguration):
            return config
        if isinstance(config, CoreConfig):
            values = {f.name: getattr(config, f.name) for f in dataclasses.fields(CoreConfig)}
            return cls(**values)
        if isinstance(config, Mapping):
            return cls.from_dict_api(config)
        raise ConfigurationError(
            f"config: expected ApiConfiguration, CoreConfig or dict, got {type(config).__name__}"
        )

    @classmethod
    def from_dict_api(cls, values: Mapping[str, Any]) -> ApiConfiguration:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigurationError(f"{unknown[0]}: unknown configuration field")
        return cls(**values)

    def replace(self, **changes: Any) -> ApiConfiguration:
        """A copy with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)


def _names(field: str, value: object) -> list[str]:
    """A list of non-blank strings from a list or a comma-separated string."""
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple) and all(isinstance(v, str) and v.strip() for v in value):
        return [v.strip() for v in value]
    raise ConfigurationError(f"{field}: must be a list of non-blank strings")


def _forwarded_allow_ips(value: object) -> str | list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            raise ConfigurationError("forwarded_allow_ips: must not be blank")
        return value
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, str) and v.strip() for v in value)
    ):
        return list(value)
    raise ConfigurationError(
        "forwarded_allow_ips: must be None, a string or a non-empty list of addresses"
    )
