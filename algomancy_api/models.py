"""Wire models: request bodies and responses, kept apart from domain objects."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

NonBlank = Field(min_length=1, max_length=200, pattern=r"\S")

StatusValue = Literal["created", "queued", "processing", "complete", "failed"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- sessions -----------------------------------------------------------------
class SessionItem(BaseModel):
    id: str = Field(description="Stable UUID of the session.")
    display_name: str


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
class NameList(BaseModel):
    names: list[str]


class ParameterDescriptor(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    type: str
    required: bool
    value: Any = None
    default: Any = None
    min: Any = None
    max: Any = None
    choices: list[Any] | None = None
    description: str | None = None


class AlgorithmParameters(BaseModel):
    name: str
    parameters: list[dict[str, Any]] = Field(
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


class KpiList(BaseModel):
    names: list[str]
    kpis: list[KpiDescriptor]


# -- scenarios ----------------------------------------------------------------
class CreateScenario(Body):
    tag: str = Field(min_length=1, max_length=200, pattern=r"\S")
    dataset_key: str = Field(min_length=1)
    algo_name: str = Field(min_length=1)
    algo_params: dict[str, Any] | None = None

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


class KpiValue(BaseModel):
    name: str
    value: float | None
    unit: str
    better_when: str
    threshold: float | None


class AlgorithmConfig(BaseModel):
    name: str
    parameters: list[dict[str, Any]]


class ScenarioOut(BaseModel):
    id: str
    tag: str
    input_data_id: str = Field(description="The dataset key.")
    algorithm: AlgorithmConfig
    kpis: dict[str, KpiValue]
    status: StatusValue
    result: dict[str, Any] | None = Field(description="Null until complete.")
    progress: float
    error: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None


class ScenarioList(BaseModel):
    scenarios: list[ScenarioOut]


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


class TableInfo(BaseModel):
    name: str
    rows: int
    columns: list[str]


class TableList(BaseModel):
    tables: list[TableInfo]


# -- platform -----------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok"]
    version: str
    store: str
    executor: str


class Me(BaseModel):
    id: str
    username: str
    authenticated: bool
