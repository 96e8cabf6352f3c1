"""Wire models: request bodies and responses, kept apart from domain objects."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from pydantic.json_schema import JsonDict

#: The characters no name may hold (the core's `names.REFUSED_CATEGORIES`, in the
#: Basic Multilingual Plane): control, format (U+202E, U+200B...), line and
#: paragraph separator characters. Not the surrogates, which JSON text cannot hold
#: alone, and whose range ECMA-262 engines without the `u` flag and Rust's regex
#: (schemathesis's validator) refuse in a pattern, which they then ignore.
_REFUSED = (
    r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    r"\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
_ANY = rf"[^/{_REFUSED}]"
_EDGE = rf"[^/\s{_REFUSED}]"
_SOLID = rf"[^/.\s{_REFUSED}]"
#: A name that can be one URL path segment (the core's `check_name` rule, stated in
#: the schema): no `/`, none of the characters above, no whitespace at either end,
#: and at least one character that is neither whitespace nor `.` (so not `.` or
#: `..`). The schema states it; the core checks it, with a 400 that says which rule
#: a name breaks and where (a blank one is 422 here already). Names are stored in
#: NFC and are unique by their case- and width-folded form (see docs/concepts.md).
#: Their length limit is the configured `max_name_chars`, checked by the core only
#: (a schema's maxLength could not follow the configuration).
NAME_PATTERN = rf"^(?:{_SOLID}(?:{_ANY}*{_EDGE})?|{_EDGE}{_ANY}*{_SOLID}(?:{_ANY}*{_EDGE})?)$"
NAME_SCHEMA: JsonDict = {"pattern": NAME_PATTERN}
NonBlank = Field(min_length=1, pattern=r"\S", json_schema_extra=NAME_SCHEMA)

#: A scenario's status on the wire: the core's `ScenarioStatus` values, spelled here
#: because the client shares these models and imports no server code
#: (`tests/api/test_api_wire_status.py` holds the two equal).
StatusValue = Literal["created", "queued", "processing", "complete", "failed"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- sessions -----------------------------------------------------------------
class SessionItem(BaseModel):
    id: str = Field(description="Stable UUID of the session.")
    display_name: str
    owner: str | None = Field(
        None, description="The user the session belongs to; only in an administrator's listing."
    )


class SessionList(BaseModel):
    sessions: list[SessionItem]
    default: str = Field(description="Id of the default session: `main` if any, else the oldest.")


class SessionCreated(SessionList):
    session: SessionItem = Field(description="The session just created.")


class CreateSession(Body):
    display_name: str = NonBlank

    model_config = ConfigDict(json_schema_extra={"examples": [{"display_name": "what-if"}]})


class CopySession(Body):
    new_display_name: str = NonBlank

    model_config = ConfigDict(json_schema_extra={"examples": [{"new_display_name": "copy"}]})


class RenameSession(Body):
    display_name: str = NonBlank


# -- discovery ----------------------------------------------------------------
class AlgorithmNames(BaseModel):
    """`GET …/algorithms`: the algorithm template names (the reference's shape)."""

    algorithms: list[str]


class KpiNames(BaseModel):
    """`GET …/kpis`: the KPI template names (the reference's shape)."""

    kpis: list[str]


JsonScalar = str | int | float | bool | None


class IntervalValue(BaseModel):
    """An `interval` parameter's value: ISO dates or datetimes, `end >= start`."""

    start: str
    end: str


#: A parameter's value or default as JSON: a number, a string (also ISO dates and
#: datetimes), a boolean, a list of choices (`multi_enum`), an interval, or whatever a
#: parameter type of your own stores.
ParameterValue = (
    int | float | bool | str | list[JsonScalar] | IntervalValue | list[Any] | dict[str, Any] | None
)

ParameterType = Literal[
    "integer", "float", "string", "boolean", "enum", "multi_enum", "date", "datetime", "interval"
]


class ParameterDescriptor(BaseModel):
    """One parameter of an algorithm, for building a form. Keys that do not apply to the
    parameter's `type` are left out:

    - `integer`, `float`: `min`, `max` (numbers)
    - `string`: `min_length`, `max_length`
    - `enum`, `multi_enum`: `choices`
    - `date`, `datetime`: `min`, `max` (ISO strings)
    - `interval`: `kind` (`date` or `datetime`), `min`, `max` (ISO strings); the value is
      `{"start", "end"}`
    - `boolean`: nothing more

    A parameter type of your own may add keys of its own.
    """

    model_config = ConfigDict(extra="allow")

    name: str
    type: ParameterType | str = Field(
        description="One of the built-in types listed, or the name of a type of your own."
    )
    required: bool
    value: ParameterValue = Field(
        default=None, description="The current value (the default until one is chosen)."
    )
    default: ParameterValue = None
    min: int | float | str | None = Field(default=None, description="Lower bound.")
    max: int | float | str | None = Field(default=None, description="Upper bound.")
    min_length: int | None = Field(default=None, description="`string`: shortest length.")
    max_length: int | None = Field(default=None, description="`string`: longest length.")
    choices: list[JsonScalar] | None = Field(
        default=None, description="`enum`, `multi_enum`: the allowed values."
    )
    kind: Literal["date", "datetime"] | None = Field(
        default=None, description="`interval`: whether the ends are dates or datetimes."
    )
    description: str | None = None

    # No return annotation on purpose: pydantic would document the annotation instead
    # of the fields above in the response schema.
    @model_serializer(mode="wrap")
    def _leave_out_what_does_not_apply(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        """Serialise the keys the descriptor has, not every optional field as null."""
        data: dict[str, Any] = handler(self)
        given = self.model_fields_set | set(self.__pydantic_extra__ or ())
        return {key: value for key, value in data.items() if key in given}


class AlgorithmParameters(BaseModel):
    name: str
    parameters: list[ParameterDescriptor] = Field(
        description="One descriptor per parameter; keys that do not apply are left out.",
        examples=[
            [
                {
                    "name": "duration",
                    "type": "integer",
                    "required": True,
                    "value": 1,
                    "default": 1,
                    "min": 1,
                    "max": 60,
                }
            ]
        ],
    )


class KpiDescriptor(BaseModel):
    name: str
    unit: str
    better_when: str
    threshold: float | None
    description: str
    quantity: Literal["length", "time", "mass"] | None = Field(
        default=None, description="Only for a KPI whose value scales for display."
    )
    kind: Literal["binary"] | None = Field(default=None, description="Only for a pass/fail KPI.")

    # No return annotation on purpose (see `ParameterDescriptor`).
    @model_serializer(mode="wrap")
    def _leave_out_what_does_not_apply(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        """Plain KPIs keep the reference's keys: the optional ones only when given."""
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if key in self.model_fields_set}


# -- scenarios ----------------------------------------------------------------
class LineageAlgorithm(BaseModel):
    name: str
    version: str | None = Field(
        default=None,
        description="The algorithm class's `version`, or `src-` and a digest of its source.",
    )


class Lineage(BaseModel):
    """What a run was made of (see docs/concepts.md, Reproducible runs)."""

    model_config = ConfigDict(extra="allow")

    known: bool = Field(
        description="False when the dataset version cannot be proven (a scenario from "
        "before dataset versions whose dataset was replaced since)."
    )
    dataset_key: str
    dataset_version: int | None
    dataset_digest: str | None = None
    algorithm: LineageAlgorithm | None = None
    parameters: dict[str, Any] | None = None
    data_parameters: dict[str, Any] | None = None
    seed: int | None = None
    algomancy_version: str | None = None
    domain_version: str | None = Field(
        default=None, description="Installed version of the algorithm's top-level package."
    )
    executor: str | None = Field(
        default=None, description="The executor that ran it; null before the first run."
    )


class CreateScenario(Body):
    tag: str = NonBlank
    dataset_key: str = Field(min_length=1)
    algo_name: str = Field(min_length=1)
    algo_params: dict[str, Any] | None = None
    data_params: dict[str, Any] | None = Field(
        default=None,
        description="Values of the dataset's declared data parameters "
        "(`GET …/data/{data_key}/parameters`); omit when it declares none.",
    )
    dataset_version: int | None = Field(
        default=None,
        ge=1,
        le=2**53 - 1,
        description="The dataset version to pin the scenario to (`GET …/data/{data_key}/"
        "versions`); default: the latest.",
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**31 - 1,
        description="The run's random seed (`ctx.seed`); default: derived from the "
        "dataset digest, algorithm and parameter values.",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "tag": "slow-5s",
                    "dataset_key": "Master data",
                    "algo_name": "Slow",
                    "algo_params": {"duration": 5},
                }
            ]
        },
    )


class KpiDisplay(BaseModel):
    """A quantity's value in the unit that reads best (the value stays in `unit`)."""

    value: float
    unit: str
    text: str


class KpiValue(BaseModel):
    name: str
    value: float | None
    unit: str
    better_when: str
    threshold: float | None
    display: KpiDisplay | None = Field(
        default=None,
        description="Only for a KPI with a `quantity`: the value scaled for reading "
        "(null until there is a value).",
    )
    kind: Literal["binary"] | None = Field(
        default=None, description="`binary` for a pass/fail KPI (value 1 pass, 0 fail)."
    )
    passed: bool | None = Field(default=None, description="Only for a binary KPI.")
    details: str | None = Field(
        default=None, description="Only for a binary KPI: why it passed or failed."
    )

    # No return annotation on purpose (see `ParameterDescriptor`).
    @model_serializer(mode="wrap")
    def _leave_out_what_does_not_apply(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        """Plain KPIs keep the reference's keys: the optional ones only when given."""
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if key in self.model_fields_set}


class StoredParameter(BaseModel):
    """A stored value that the algorithm no longer declares (the parameter was removed,
    or the whole algorithm is gone), shown as stored."""

    name: str
    value: ParameterValue


class AlgorithmConfig(BaseModel):
    name: str
    parameters: list[
        Annotated[ParameterDescriptor | StoredParameter, Field(union_mode="left_to_right")]
    ] = Field(
        description="The algorithm's descriptors with this scenario's values as stored, "
        "then any stored value the algorithm no longer declares."
    )


class ScenarioOut(BaseModel):
    id: str
    tag: str
    input_data_id: str = Field(description="The dataset key.")
    algorithm: AlgorithmConfig
    kpis: dict[str, KpiValue]
    stale: bool = Field(
        description="True when the scenario can no longer run as stored: its algorithm is "
        "gone or its parameters no longer fit (the configuration changed since)."
    )
    stale_reason: str | None = Field(description="Why it is stale, naming the parameter.")
    status: StatusValue
    result: dict[str, Any] | None = Field(description="Null until complete.")
    progress: float
    error: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    input_data_key: str = Field(description="The dataset key (the reference's name).")
    run_started_at: str | None = Field(description="= `started_at` (the reference's name).")
    run_finished_at: str | None = Field(description="= `finished_at` (the reference's name).")
    result_available: bool = Field(description="True when the scenario is complete.")
    data_parameters: dict[str, Any] = Field(
        description="Values of the dataset's declared data parameters."
    )
    dataset_version: int | None = Field(
        description="The dataset version the scenario is pinned to; null when it is of "
        "unknown lineage (from before dataset versions, not provably the kept data)."
    )
    dataset_digest: str | None = Field(description="That version's content digest (sha256).")
    seed: int | None = Field(description="The run's random seed (`ctx.seed`).")
    lineage: Lineage | None = Field(description="What the latest run was made of.")
    fingerprint: str | None = Field(
        description="sha256 of (dataset digest, algorithm name and version, parameters, "
        "data parameters, seed): equal for runs of the same thing."
    )
    pruned: bool = Field(
        description="True when its latest run was pruned: stopped by an optimisation "
        "study as not promising (status `failed`, `error` `pruned at step k`)."
    )
    #: Last: a kept listing view ends just before it (`algomancy_api.listing`).
    baseline: bool = Field(description="True for the session's pinned baseline.")


class AlgorithmValues(BaseModel):
    name: str
    parameters: dict[str, Any] = Field(description="Parameter name → stored value.")


class ScenarioSummary(BaseModel):
    """`GET …/scenarios?view=summary`: the reference's light summary, read without
    touching results or datasets."""

    id: str
    tag: str
    input_data_key: str
    algorithm: AlgorithmValues
    data_parameters: dict[str, Any]
    status: StatusValue
    progress: float
    created_at: str
    run_started_at: str | None
    run_finished_at: str | None
    result_available: bool
    kpis: dict[str, KpiValue]
    baseline: bool = Field(description="True for the session's pinned baseline.")


class ScenarioStatusOut(BaseModel):
    id: str
    tag: str
    status: StatusValue
    progress: float


# -- data ---------------------------------------------------------------------
class KeyList(BaseModel):
    keys: list[str]


class DeriveDataset(Body):
    new_key: str = NonBlank

    model_config = ConfigDict(json_schema_extra={"examples": [{"new_key": "what-if data"}]})


class ValidationMessageOut(BaseModel):
    severity: str
    message: str
    table: str | None = None
    column: str | None = None
    row: int | None = None
    code: str | None = None


class EtlOut(BaseModel):
    dataset_name: str
    success: bool
    keys: list[str]
    messages: list[ValidationMessageOut]
    dataset_version: int | None = Field(
        default=None,
        description="The version stored (the latest, unchanged, when the content was "
        "identical to it); null when the ETL failed.",
    )
    dataset_digest: str | None = Field(default=None, description="Its content digest.")


class DatasetVersionOut(BaseModel):
    version: int = Field(description="The version's id: 1, 2, … per dataset key.")
    digest: str = Field(description="sha256 over the tables' canonical form.")
    created_at: str
    creator: str | None = Field(description="Who stored it; null without authentication.")
    classification: str
    tables: dict[str, int] = Field(description="Table name → row count.")
    messages: int = Field(description="How many ETL messages produced it.")
    scenario_ids: list[str] = Field(description="The scenarios pinned to this version.")
    latest: bool


class DatasetVersionList(BaseModel):
    key: str
    versions: list[DatasetVersionOut] = Field(description="Newest first.")


class DatasetDeletionOut(BaseModel):
    key: str
    deleted: list[int] = Field(description="The versions deleted.")
    remaining: list[int] = Field(description="The versions kept: scenarios use them.")


class TableInfo(BaseModel):
    name: str
    rows: int
    columns: list[str]


class TableList(BaseModel):
    tables: list[TableInfo]


# -- platform -----------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok"]
    title: str = Field(description="The configured title.")
    version: str
    store: str
    executor: str


class Me(BaseModel):
    id: str
    username: str
    authenticated: bool
