"""The wire's status values are the core's (the models spell them, so that the
client, which shares the models, imports no server code)."""

from typing import get_args

from algomancy_api.models import StatusValue
from algomancy_core.scenario import STATUS_VALUES


def test_the_wire_status_values_are_the_cores_in_order() -> None:
    assert get_args(StatusValue) == STATUS_VALUES
