"""`algomancy_data.lazy`: a module imported when one of its attributes is first read."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from algomancy_data.lazy import lazy_module

NAME = "algomancy_lazy_probe"


def test_the_module_is_imported_on_first_attribute_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / f"{NAME}.py").write_text("VALUE = 42\ndef double(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        probe = lazy_module(NAME)
        assert NAME not in sys.modules  # nothing imported yet
        assert NAME in repr(probe)
        assert probe.VALUE == 42
        assert NAME in sys.modules
        assert probe.double(4) == 8
        assert probe.double is sys.modules[NAME].double
        with pytest.raises(AttributeError):
            _ = probe.missing
    finally:
        sys.modules.pop(NAME, None)


def test_a_missing_module_fails_when_used_not_when_named() -> None:
    probe = lazy_module("algomancy_no_such_module")
    with pytest.raises(ModuleNotFoundError):
        _ = probe.anything
