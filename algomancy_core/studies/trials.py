"""A trial's scenario: `_create_trial_scenario` is the one place that makes one, through
the experiments' create and fingerprint path; and the values a finished run tells."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import InvalidInputError
from algomancy_core.experiments.queueing import point_fields
from algomancy_core.experiments.service import _split, create_point
from algomancy_core.parameters import ParameterError
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus
from algomancy_core.scenario_manager import _data_parameter_values
from algomancy_core.studies.book import StudyRecord

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager

S = ScenarioStatus


def run_values(
    manager: ScenarioManager, base: Mapping[str, Any], params: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The algorithm and data parameter values a point runs with (the base's, the
    point's over them), checked: `InvalidInputError` names a bad one."""
    algo, data = _split(params)
    algorithm = manager.algorithm(base["algo_name"])
    dataset_key = base["dataset_key"]
    try:
        parameters = algorithm.parameters()
        parameters.set_values(dict(base.get("algo_params") or {}) | algo)
        data_set = manager.data_parameter_set(dataset_key)
        data_values = _data_parameter_values(
            dataset_key, data_set, dict(base.get("data_params") or {}) | data
        )
    except ParameterError as exc:
        raise InvalidInputError(f"point {dict(params)}: {exc}") from None
    return parameters.to_json(), data_values


def _create_trial_scenario(
    manager: ScenarioManager, study: StudyRecord, number: int, params: Mapping[str, Any]
) -> tuple[str, bool]:
    """The scenario of trial `number` and whether it was reused: a complete scenario
    of the session with the point's run fingerprint is told from as it is; otherwise
    one is created and queued, tagged `{study name}-{number}`. The only place that
    creates trial scenarios."""
    base = study.spec["base"]
    values, data_values = run_values(manager, base, params)
    pinned = manager.dataset_version(base["dataset_key"])
    fields = point_fields(manager, base["algo_name"], pinned, values, data_values, None)
    fingerprint = fields["fingerprint"]
    if fingerprint is not None:
        for scenario in manager.list_scenario_summaries():
            if scenario.status is S.COMPLETE and scenario.fingerprint == fingerprint:
                return scenario.id, True
    batch = batch_of(study.id)
    return create_point(manager, batch, study.name, base, number, dict(params)), False


#: The start of every study trial's `batch` (`batch_of`).
TRIAL_BATCH_PREFIX = "study:"


def batch_of(study_id: str) -> str:
    """The `batch` of a study's trial scenarios: up to `parallel` of them run at once
    (the driver keeps that many in flight), sharing the workers fairly with other
    batches (`Store.claim_next`)."""
    return f"{TRIAL_BATCH_PREFIX}{study_id}"


def is_trial(record: ScenarioRecord) -> bool:
    """Whether `record` is a study's trial (its batch is a study's, `batch_of`)."""
    return record.batch is not None and record.batch.startswith(TRIAL_BATCH_PREFIX)


def by_tag(manager: ScenarioManager, tag: str) -> ScenarioRecord | None:
    """The session's scenario tagged `tag` (a driver that died after creating a trial's
    scenario and before recording it)."""
    return next((s for s in manager.list_scenario_summaries() if s.tag == tag), None)
