"""The pinned baseline in every store, and the verdict rules of `decisions`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from algomancy_core import ConflictError, KpiDirection, NotFoundError
from algomancy_core.decisions import Rule, apply_rule, deltas, overall, verdict, verdicts
from algomancy_core.stores.base import Store
from algomancy_core.stores.sql import SQLStore
from tests.core.test_core_stores import (  # noqa: F401 (fixtures)
    new_scenario,
    new_session,
    store,
    store_url,
)
from tests.pg import postgres_server, postgres_url  # noqa: F401

H, L, AL, AM = (
    KpiDirection.HIGHER,
    KpiDirection.LOWER,
    KpiDirection.AT_LEAST,
    KpiDirection.AT_MOST,
)


def test_pin_refuses_delete(store: Store) -> None:  # noqa: F811
    session = new_session(store)
    base = new_scenario(store, session.id, "base")
    other = new_scenario(store, session.id, "other")
    assert store.get_baseline(session.id) is None
    store.set_baseline(session.id, base.id)
    assert store.get_baseline(session.id) == base.id
    with pytest.raises(ConflictError, match="'base'"):
        store.delete_scenario(session.id, base.id)
    store.delete_scenario(session.id, other.id)
    store.set_baseline(session.id, None)
    store.delete_scenario(session.id, base.id)
    with pytest.raises(NotFoundError):
        store.set_baseline(session.id, base.id)
    with pytest.raises(NotFoundError):
        store.set_baseline("nope", None)
    # Another session's scenario cannot be pinned here.
    elsewhere = new_session(store, "elsewhere")
    theirs = new_scenario(store, elsewhere.id, "theirs")
    with pytest.raises(NotFoundError):
        store.set_baseline(session.id, theirs.id)
    store.set_baseline(elsewhere.id, theirs.id)
    store.delete_session(elsewhere.id)
    assert store.get_baseline(elsewhere.id) is None


def test_pin_survives_reopen_and_old_databases_gain_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    opened = SQLStore(url)
    session = new_session(opened)
    base = new_scenario(opened, session.id, "base")
    opened.set_baseline(session.id, base.id)
    opened.close()
    reopened = SQLStore(url)
    assert reopened.get_baseline(session.id) == base.id
    reopened.close()
    # A database written before the table existed gets it on open.
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE baselines"))
    engine.dispose()
    again = SQLStore(url)
    assert again.get_baseline(session.id) is None
    again.set_baseline(session.id, base.id)
    assert again.get_baseline(session.id) == base.id
    again.close()


@pytest.mark.parametrize(
    ("direction", "value", "base", "expected"),
    [
        (H, 2.0, 1.0, "improved"),
        (H, 0.5, 1.0, "worse"),
        (L, 0.5, 1.0, "improved"),
        (L, 2.0, 1.0, "worse"),
        (H, 1.0 + 1e-12, 1.0, "equal"),
        (L, 0.0, 0.0, "equal"),
        (H, None, 1.0, "missing"),
        (L, 1.0, None, "missing"),
        # at_least / at_most without a threshold compare like higher / lower.
        (AL, 2.0, 1.0, "improved"),
        (AM, 2.0, 1.0, "worse"),
    ],
)
def test_direction_verdicts(
    direction: KpiDirection, value: float | None, base: float | None, expected: str
) -> None:
    assert verdict(direction, None, value, base) == expected


def test_threshold_verdicts() -> None:
    assert verdict(AL, 10.0, 10.0, 99.0) == "pass"
    assert verdict(AL, 10.0, 9.99, 1.0) == "fail"
    assert verdict(AM, 3.0, 3.0, 0.0) == "pass"
    assert verdict(AM, 3.0, 3.5, 9.0) == "fail"
    assert verdict(AM, 3.0, None, 9.0) == "missing"
    # A higher KPI's threshold does not change its verdict.
    assert verdict(H, 100.0, 2.0, 1.0) == "improved"
    values = np.array([1.0, np.nan, 12.0])
    assert verdicts(AL, 10.0, values, 5.0).tolist() == ["fail", "missing", "pass"]


def test_deltas() -> None:
    absolute, relative = deltas(np.array([3.0, np.nan]), -2.0)
    assert absolute[0] == 5.0 and relative[0] == 2.5 and np.isnan(absolute[1])
    absolute, relative = deltas(np.array([3.0]), 0.0)
    assert absolute[0] == 3.0 and np.isnan(relative[0])
    absolute, relative = deltas(np.array([3.0]), None)
    assert np.isnan(absolute[0]) and np.isnan(relative[0])


def test_rules() -> None:
    assert apply_rule(Rule("k", "improves"), H, 2.0, 1.0) == "pass"
    assert apply_rule(Rule("k", "improves"), H, 1.0, 1.0) == "fail"
    assert apply_rule(Rule("k", "improves"), L, 0.5, 1.0) == "pass"
    assert apply_rule(Rule("k", "not_worse"), L, 1.0, 1.0) == "pass"
    assert apply_rule(Rule("k", "not_worse", 0.1), L, 1.05, 1.0) == "pass"
    assert apply_rule(Rule("k", "not_worse", 0.01), L, 1.05, 1.0) == "fail"
    assert apply_rule(Rule("k", "within", 0.5, "absolute"), H, 1.4, 1.0) == "pass"
    assert apply_rule(Rule("k", "within", 0.1, "relative"), H, 0.85, 1.0) == "fail"
    assert apply_rule(Rule("k", "within", 0.1, "relative"), H, 0.0, 0.0) == "pass"
    assert apply_rule(Rule("k", "within", 0.1, "relative"), H, 0.1, 0.0) == "fail"
    assert apply_rule(Rule("k", "improves"), H, None, 1.0) == "missing"
    assert overall(["pass", "pass"]) == "pass"
    assert overall(["pass", "missing"]) == "missing"
    assert overall(["missing", "fail"]) == "fail"
