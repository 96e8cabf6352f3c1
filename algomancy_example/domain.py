"""The warehouse example wired into a `CoreConfig`: `example_settings()`."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from algomancy_core import BaseParameterSet, FloatParameter
from algomancy_data import DataSource, file_from_bytes
from algomancy_example.algorithms import ALGORITHMS
from algomancy_example.etl import WarehouseETLFactory
from algomancy_example.kpis import KPIS
from algomancy_example.schemas import SCHEMAS

MASTER_DATA = "Master data"
TITLE = "Algomancy warehouse example"
SAMPLE_FILES = ("sku_data.csv", "inventory.xlsx")


def sample_file(name: str) -> Path:
    """The path of a shipped sample file, e.g. ``sample_file("sku_data.csv")``."""
    if name not in SAMPLE_FILES:
        raise FileNotFoundError(f"no sample file {name!r} (there are: {', '.join(SAMPLE_FILES)})")
    resource = files("algomancy_example") / "data" / name
    with as_file(resource) as path:
        # The package is installed as files (not zipped), so the path stays valid.
        return Path(path)


class DemandParameters(BaseParameterSet):
    """What-if knobs of a warehouse dataset, chosen per scenario (`data_params`)."""

    demand_growth = FloatParameter(
        default=1.0,
        min=0.1,
        max=10.0,
        description="Multiplies every SKU's picks per day (1.0: the demand as uploaded)",
    )


class WarehouseData(DataSource):
    """The example's datasets; each declares the data parameter `demand_growth`."""

    def data_parameter_set(self) -> DemandParameters:
        return DemandParameters()


def master_data() -> DataSource:
    """The shipped sample files, through the ETL, as the dataset ``Master data``."""
    uploads = [
        file_from_bytes(name, (files("algomancy_example") / "data" / name).read_bytes())
        for name in SAMPLE_FILES
    ]
    factory = WarehouseETLFactory()
    factory.data_source_class = WarehouseData
    result = factory.run(uploads, MASTER_DATA)
    if not result.is_success or result.data_source is None:
        problems = "; ".join(m.message for m in result.errors)
        raise RuntimeError(f"the example's sample files fail the ETL: {problems}")
    return result.data_source


def initial_datasets() -> dict[str, DataSource]:
    return {MASTER_DATA: master_data()}


def example_settings(**overrides: Any) -> dict[str, Any]:
    """The `CoreConfig` keyword arguments of the warehouse example, with `overrides`."""
    settings: dict[str, Any] = {
        "etl_factory": WarehouseETLFactory,
        "kpis": list(KPIS),
        "algorithms": list(ALGORITHMS),
        "schemas": list(SCHEMAS),
        "data_object_type": WarehouseData,
        "title": TITLE,
        "initial_datasets": initial_datasets,
    }
    settings.update(overrides)
    return settings
