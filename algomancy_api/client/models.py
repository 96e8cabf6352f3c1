"""Typed responses of the HTTP API, as the client reads them.

Unknown keys are kept (`extra="allow"`), so that a newer server does not break an
older client.

Where the client reads an answer exactly as the server declares it, the model is the
server's own wire model (`algomancy_api.models`, which imports nothing but pydantic)
with `extra="allow"`: the fields are declared once, with the server's descriptions.
The others are the client's on purpose: they accept what older servers and the
reference algomancy-api send (defaults where the server's fields are required),
keep parameter values as plain JSON, or add helpers (`Frame.to_pandas()`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from algomancy_api import models as wire

if TYPE_CHECKING:
    import pandas as pd

Status = wire.StatusValue
TERMINAL: frozenset[str] = frozenset({"complete", "failed"})


#: What every client model is configured with: unknown keys are kept.
KEEP_UNKNOWN_KEYS = ConfigDict(extra="allow")


class Model(BaseModel):
    model_config = KEEP_UNKNOWN_KEYS


class Health(Model):
    status: str
    version: str
    store: str
    executor: str


class Me(wire.Me):
    model_config = KEEP_UNKNOWN_KEYS


class Session(Model):
    # Not the server's `SessionItem`: its `owner` (in an administrator's listing only)
    # would be a None key in every other session's `model_dump()`.
    id: str
    display_name: str


class SessionList(Model):
    sessions: list[Session]
    default: str


class ParameterDescriptor(Model):
    """One parameter of an algorithm; `min`/`max`/`choices`/... when they apply."""

    name: str
    type: str
    required: bool = False
    value: Any = None
    default: Any = None
    min: Any = None
    max: Any = None
    min_length: int | None = None
    max_length: int | None = None
    choices: list[Any] | None = None
    kind: str | None = None
    description: str | None = None


class AlgorithmConfig(Model):
    name: str
    parameters: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def values(self) -> dict[str, Any]:
        """The scenario's parameter values by name."""
        return {p["name"]: p.get("value") for p in self.parameters}


class KpiDescriptor(Model):
    name: str
    unit: str
    better_when: str
    threshold: float | None = None
    description: str = ""


class KpiValue(Model):
    name: str
    value: float | None
    unit: str
    better_when: str
    threshold: float | None = None


class Scenario(Model):
    id: str
    tag: str
    input_data_id: str
    algorithm: AlgorithmConfig
    kpis: dict[str, KpiValue] = Field(default_factory=dict)
    stale: bool = False
    stale_reason: str | None = None
    status: Status
    result: dict[str, Any] | None = None
    progress: float = 0.0
    error: str | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    #: The reference algomancy-api's summary fields.
    input_data_key: str | None = None
    data_parameters: dict[str, Any] = Field(default_factory=dict)
    run_started_at: str | None = None
    run_finished_at: str | None = None
    result_available: bool = False
    dataset_version: int | None = None
    dataset_digest: str | None = None
    seed: int | None = None
    lineage: dict[str, Any] | None = None
    fingerprint: str | None = None
    #: True for the session's pinned baseline.
    baseline: bool = False
    #: True when its latest run was pruned (stopped as not promising).
    pruned: bool = False

    @property
    def done(self) -> bool:
        """Complete or failed."""
        return self.status in TERMINAL


class ScenarioStatus(wire.ScenarioStatusOut):
    model_config = KEEP_UNKNOWN_KEYS


class ScenarioEvent(Model):
    """One Server-Sent Event of a scenario: its status, progress and the algorithm's
    latest message. `event_id` resumes a stream (`Last-Event-ID`)."""

    id: str
    tag: str
    status: Status
    progress: float
    message: str | None = None
    error: str | None = None
    event_id: str | None = None


class ValidationMessage(wire.ValidationMessageOut):
    model_config = KEEP_UNKNOWN_KEYS

    def __str__(self) -> str:
        where = ".".join(p for p in (self.table, self.column) if p)
        row = f" row {self.row}" if self.row is not None else ""
        place = f" [{where}{row}]" if where or row else ""
        return f"{self.severity}{place}: {self.message}"


class EtlResult(wire.EtlOut):
    model_config = KEEP_UNKNOWN_KEYS
    # The same field, holding the client's `ValidationMessage`s.
    messages: list[ValidationMessage]  # type: ignore[assignment]


class DatasetVersion(Model):
    """One immutable version of a dataset (`GET …/data/{key}/versions`)."""

    version: int
    digest: str
    created_at: str
    creator: str | None = None
    classification: str = ""
    tables: dict[str, int] = Field(default_factory=dict)
    messages: int = 0
    scenario_ids: list[str] = Field(default_factory=list)
    latest: bool = False


class TableInfo(wire.TableInfo):
    model_config = KEEP_UNKNOWN_KEYS


class FrameField(Model):
    key: str
    type: str
    label: str | None = None


#: The statuses in which an experiment starts no more points.
EXPERIMENT_ENDED = ("complete", "cancelled")


class Experiment(Model):
    """A parameter sweep over scenarios (docs/experiments.md): `status` is
    `running`, `complete` or `cancelled`; `counts` has `planned`, `created`,
    `reused`, `queued`, `processing`, `complete`, `failed` and `missing`."""

    id: str
    name: str
    status: str
    counts: dict[str, int]
    axes: list[str]
    scenario_ids: list[str]
    base: dict[str, Any]
    design: dict[str, Any]
    created_at: str


class Frame(Model):
    """A `core.tabular_frame@v1`: ordered columns and rows keyed by column name."""

    status: str
    columns: list[str]
    rows: list[dict[str, Any]]
    fields: list[FrameField] | None = None
    meta: dict[str, Any] | None = None
    source: dict[str, Any] | None = None
    error: str | None = None

    def to_pandas(self) -> pd.DataFrame:
        """The rows as a DataFrame, columns in order; `datetime` fields (epoch
        milliseconds on the wire) as UTC timestamps."""
        import pandas as pd

        frame = pd.DataFrame(self.rows, columns=self.columns)
        for field in self.fields or []:
            if field.type == "datetime" and field.key in frame.columns:
                frame[field.key] = pd.to_datetime(frame[field.key], unit="ms", utc=True)
        return frame


class EventScenario(Model):
    """The scenario a session event is about, as it was after the change."""

    id: str
    tag: str
    status: Status | None = None
    progress: float | None = None
    message: str | None = None
    error: str | None = None
    version: int | None = None


class EventDataset(Model):
    key: str


class EventSession(Model):
    display_name: str


class SessionEvent(Model):
    """One event of a session's stream (`watch_session`). `kind` is `open` (the
    stream starts), `reset` (reload: the changes since `last_event_id` are not kept,
    or the stream fell behind), or a change: `scenario.created`, `scenario.queued`,
    `scenario.started`, `scenario.progress`, `scenario.complete`, `scenario.failed`,
    `scenario.reset`, `scenario.deleted`, `dataset.added`, `dataset.replaced`,
    `dataset.deleted`, `session.renamed`, `session.deleted`. `event_id` resumes a
    stream (`last_event_id`)."""

    kind: str
    seq: int
    session_id: str
    event_id: str | None = None
    subject: str | None = None
    at: str | None = None
    scenario: EventScenario | None = None
    dataset: EventDataset | None = None
    session: EventSession | None = None
    reason: str | None = None
