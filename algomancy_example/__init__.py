"""A small warehouse: slot SKUs into pick locations and measure pick travel.

`example_settings()` gives the `CoreConfig` keyword arguments (``algomancy-api serve
--example`` uses them); `sample_file()` locates the shipped ``sku_data.csv`` and
``inventory.xlsx``.
"""

from algomancy_example.domain import example_settings, sample_file

__all__ = ["example_settings", "sample_file"]
