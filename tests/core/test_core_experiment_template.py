"""An experiment's points made from one template (`experiments/template.py`): each
point's fields are what `create_scenario` makes for the same run (so reuse by
fingerprint finds it), its values are checked as a whole parameter set checks them,
and the rest of the creation path (ids, the change feed) is what one scenario at a
time gave."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest

from algomancy_core import SessionManager
from algomancy_core.algorithm import BaseAlgorithm
from algomancy_core.experiments.queueing import new_ids
from algomancy_core.experiments.service import create_experiment
from algomancy_core.experiments.template import CheckedValues, PointTemplate
from algomancy_core.lineage import fingerprint, run_lineage
from algomancy_core.parameters import (
    BaseParameterSet,
    DateParameter,
    EnumParameter,
    FloatParameter,
    IntegerParameter,
    ParameterError,
)
from algomancy_core.scenario import ScenarioRecord, utcnow
from algomancy_core.stores import Store
from algomancy_core.stores.base import DatasetVersion
from algomancy_data import DataSource
from tests.core.conftest import make_config
from tests.core.test_core_stores import (  # noqa: F401
    new_session,
    open_store,
    sql_url,
    store,
    store_url,
)
from tests.pg import postgres_server, postgres_url  # noqa: F401


class KnobParameters(BaseParameterSet):
    units = IntegerParameter(default=3, min=0, max=100)
    rate = FloatParameter(default=0.5, min=0.0, max=1.0)
    mode = EnumParameter(choices=["fast", "slow"], default="fast")
    start = DateParameter(default=dt.date(2026, 1, 1))
    needed = IntegerParameter(min=1, max=9)  # required, no default


class Knobs(BaseAlgorithm):
    parameters = KnobParameters
    version = "2"

    def run(self, data: DataSource, ctx: Any = None) -> dict[str, Any]:
        return {}


class CrossedParameters(KnobParameters):
    """Checks two values together: a base checked alone does not stay checked."""

    def set_values(self, values: Mapping[str, Any] | None) -> None:
        super().set_values(values)
        if self._values["units"] > 50 and self._values["mode"] == "fast":
            raise ParameterError("units", "above 50 runs only in slow mode")


class Crossed(Knobs):
    parameters = CrossedParameters


@pytest.fixture
def knobs() -> Iterator[SessionManager]:
    with SessionManager(make_config(algorithms=[Knobs, Crossed], autocreate=False)) as manager:
        yield manager


def test_a_points_fields_are_what_create_scenario_makes(knobs: SessionManager) -> None:
    manager = knobs.get_session("main")
    template = PointTemplate(manager, "Knobs")
    pinned = manager.dataset_version("Master data")
    cases: list[tuple[dict[str, Any], int | None]] = [
        ({"needed": 1}, None),
        ({"needed": 2, "units": 7, "rate": 0.25}, None),
        ({"needed": 2, "units": 7, "rate": 0.25}, 12345),
        ({"needed": 9, "mode": "slow", "start": "2026-03-04"}, 0),
    ]
    prints = set()
    for n, (values, seed) in enumerate(cases):
        record = manager.create_scenario(f"s{n}", "Master data", "Knobs", values, seed=seed)
        fields = template.fields(pinned, record.parameters, record.data_parameters, seed)
        assert fields == {name: getattr(record, name) for name in fields}
        assert list(fields["lineage"]) == list(record.lineage or {})  # same key order
        prints.add(fields["fingerprint"])
    assert len(prints) == len(cases) and None not in prints


@pytest.mark.parametrize("digest", ["abc", ""])
def test_a_points_lineage_and_fingerprint_are_run_lineages(
    knobs: SessionManager, digest: str
) -> None:
    """With data parameter values, other digests and any JSON value: what
    `run_lineage` and `fingerprint` make."""
    manager = knobs.get_session("main")
    template = PointTemplate(manager, "Knobs")
    pinned = DatasetVersion("d", 4, digest, utcnow(), None, "internal", {})
    points = [
        ({"units": 1}, {}, 5),
        ({"units": 1}, {"region": "north", "cap": 2.5}, 5),
        ({"units": 2, "rate": np.float64(0.1)}, {"region": "north", "cap": 2.5}, None),
        ({"units": 2, "nested": {"b": [1, None], "a": "é"}}, {"cap": np.int64(3)}, 2**31 - 1),
    ]
    for values, data_values, seed in points:
        fields = template.fields(pinned, values, data_values, seed)
        draft = ScenarioRecord(
            id="", tag="", **{k: fields[k] for k in fields if k not in ("lineage", "fingerprint")}
        )
        assert fields["lineage"] == run_lineage(draft, Knobs, executor=None)["lineage"]
        assert fields["fingerprint"] == fingerprint(
            digest, "Knobs", "2", values, data_values, fields["seed"]
        )


def test_values_are_checked_as_a_whole_set_checks_them() -> None:
    base = {"needed": 4, "rate": 0.75}
    checked = CheckedValues(KnobParameters, base)

    def whole(values: dict[str, Any]) -> dict[str, Any]:
        made = KnobParameters()
        made.set_values(base | values)
        return made.to_json()

    for values in [{}, {"units": 9}, {"rate": 0.0, "mode": "slow"}, {"start": "2027-02-03"}]:
        assert checked.of(values) == whole(values)
        assert list(checked.of(values)) == list(whole(values))
    for bad, said in [
        ({"units": 101}, "units"),
        ({"units": 101, "rate": 2.0}, "units"),  # the first declared, as a whole check
        ({"needed": None}, "needed"),
        ({"unknown": 1}, "unknown"),
    ]:
        with pytest.raises(ParameterError) as expected:
            whole(bad)
        with pytest.raises(ParameterError) as got:
            checked.of(bad)
        assert str(got.value) == str(expected.value) and said in str(got.value)


def test_a_base_that_fails_alone_is_checked_with_each_point() -> None:
    checked = CheckedValues(KnobParameters, {"units": 5})  # `needed` comes with each point
    assert checked.of({"needed": 3})["needed"] == 3
    with pytest.raises(ParameterError, match="needed"):
        checked.of({})


def test_a_set_that_checks_values_together_is_checked_whole_each_time() -> None:
    checked = CheckedValues(CrossedParameters, {"needed": 1, "units": 60, "mode": "slow"})
    assert checked.of({"rate": 0.1})["units"] == 60
    with pytest.raises(ParameterError, match="only in slow mode"):
        checked.of({"mode": "fast"})


def test_an_experiment_checks_crossed_values_per_point(knobs: SessionManager) -> None:
    manager = knobs.get_session("main")
    base = {"algo_name": "Crossed", "dataset_key": "Master data", "algo_params": {"needed": 1}}
    design = {"kind": "grid", "axes": [{"name": "units", "values": [10, 60]}]}
    with pytest.raises(Exception, match=r"point 2 .*only in slow mode"):
        create_experiment(manager, "sweep", base, design, 100)
    assert manager.list_scenarios() == []


def test_new_ids_are_distinct_version_4_uuids() -> None:
    ids = new_ids(3000)
    assert len(set(ids)) == 3000
    for made in ids:
        parsed = uuid.UUID(made)
        assert (str(parsed), parsed.version, parsed.variant) == (made, 4, uuid.RFC_4122)
    assert new_ids(0) == []


def test_changes_appended_together_follow_each_other(store: Store) -> None:  # noqa: F811
    one, two = new_session(store, "one").id, new_session(store, "two").id
    store.append_change(one, "session.renamed", one, {"n": 0})
    _, before = store.change_bounds()
    store.append_changes(
        [(one, "scenario.created", "a", {"n": 1}), (two, "scenario.created", "b", {"n": 2})]
        + [(one, "scenario.created", f"c{n}", {"n": 3 + n}) for n in range(3)]
    )
    store.append_changes([])
    after = store.read_changes(before, 100)
    assert [c.seq for c in after] == list(range(before + 1, before + 6))
    assert [(c.session_id, c.subject, c.payload["n"]) for c in after] == [
        (one, "a", 1),
        (two, "b", 2),
        (one, "c0", 3),
        (one, "c1", 4),
        (one, "c2", 5),
    ]
    assert [c.subject for c in store.read_changes(before, 100, two)] == ["b"]
