"""`CoreConfig` validation names the field at fault."""

from __future__ import annotations

import pytest

from algomancy_core import ConfigurationError, CoreConfig

from .conftest import Instant, Total


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"algorithms": [int]}, "algorithms"),
        ({"algorithms": "Instant"}, "algorithms"),
        ({"kpis": [Instant]}, "kpis"),
        ({"executor": "gpu"}, "executor"),
        ({"executor": "dask"}, "dask_address"),
        ({"max_workers": 0}, "max_workers"),
        ({"max_workers": True}, "max_workers"),
        ({"autorun": "yes"}, "autorun"),
        ({"data_path": ""}, "data_path"),
        ({"run_timeout": 0}, "run_timeout"),
        ({"lease_seconds": -1}, "lease_seconds"),
        ({"workers": 2}, "workers"),
        ({"data_object_type": dict}, "data_object_type"),
    ],
)
def test_bad_values_name_the_field(values: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^{field}:"):
        CoreConfig(**values)  # type: ignore[arg-type]


def test_registries_accept_lists_and_dicts() -> None:
    by_list = CoreConfig(algorithms=[Instant], kpis=[Total])
    by_dict = CoreConfig(algorithms={"Instant": Instant}, kpis={"total": Total})
    assert by_list.algorithms == by_dict.algorithms == {"Instant": Instant}
    assert by_list.kpis == by_dict.kpis == {"total": Total}


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"^algorithms: the name 'Instant' is used twice"):
        CoreConfig(algorithms=[Instant, Instant])


def test_from_dict_refuses_unknown_fields() -> None:
    with pytest.raises(ConfigurationError, match=r"^colour: unknown"):
        CoreConfig.from_dict({"colour": "blue"})


def test_several_workers_need_a_shared_store() -> None:
    assert CoreConfig(workers=2, has_persistent_state=True).workers == 2
    assert CoreConfig(workers=3, database_url="postgresql://x/y").workers == 3
