"""The bakery wired into a server: ``algomancy-api serve --config bakery.api:config``."""

from algomancy_api import ApiConfiguration
from bakery.algorithms import OvenPlan
from bakery.data import BakeryData
from bakery.etl import BakeryETL
from bakery.kpis import FillRate, Margin, OvenUse
from bakery.schemas import SCHEMAS

config = ApiConfiguration(
    title="Bakery",
    etl_factory=BakeryETL,
    schemas=SCHEMAS,
    data_object_type=BakeryData,
    algorithms=[OvenPlan],
    kpis=[FillRate, Margin, OvenUse],
)
