"""What the distribution installs: only our own top-level packages."""

from __future__ import annotations

import fnmatch
import tomllib

from tests.fixtures import TESTS

ROOT = TESTS.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def installed_top_level_packages() -> list[str]:
    """The top-level packages setuptools' `packages.find` include patterns select."""
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted(
        path.name
        for path in ROOT.iterdir()
        if (path / "__init__.py").is_file()
        and any(fnmatch.fnmatchcase(path.name, pattern) for pattern in include)
    )


def test_every_installed_package_is_named_algomancy() -> None:
    """No `example` (or any other generic name) lands in site-packages, where it would
    collide with a user's own module."""
    assert installed_top_level_packages() == [
        "algomancy_api",
        "algomancy_core",
        "algomancy_data",
        "algomancy_example",
    ]


def test_package_data_names_installed_packages() -> None:
    package_data = PYPROJECT["tool"]["setuptools"]["package-data"]
    assert set(package_data) <= set(installed_top_level_packages())
    assert package_data["algomancy_example"] == ["data/*"]


def test_the_example_configuration_loads_from_the_renamed_package() -> None:
    from algomancy_api.example import build_example_config

    algorithms = build_example_config().algorithms
    assert sorted(algorithms) == [
        "ABC slotting",
        "Batch picking",
        "Iterative descent",
        "Random slotting",
        "Slow",
    ]
    assert all(a.__module__.startswith("algomancy_example.") for a in algorithms.values())
