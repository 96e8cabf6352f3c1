"""The bakery's datasets, and the what-if knob each one offers: busier days."""

from algomancy_core import BaseParameterSet, FloatParameter
from algomancy_data import DataSource


class DemandParameters(BaseParameterSet):
    demand_factor = FloatParameter(
        default=1.0,
        min=0.5,
        max=3.0,
        description="Multiplies every order (1.0: the orders as uploaded; 1.5: a busy Saturday)",
    )


class BakeryData(DataSource):
    """A bakery dataset; scenarios choose its `demand_factor` (data parameters)."""

    def data_parameter_set(self) -> DemandParameters:
        return DemandParameters()
