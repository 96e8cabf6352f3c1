"""`benchmarks.hostile.cases()` builds no big body up front: `--only` runs a few
cases (tests/meta/test_soak_tools.py runs five), and building the zip bombs and the
10M-cell workbook for all of them took ~18 s of CPU."""

from __future__ import annotations

import pytest

from benchmarks import hostile, hostile_xlsx
from tests import hostile as bodies


def test_listing_the_cases_builds_no_big_workbook(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []

    def refuse(name: str) -> object:
        def build(*args: object, **kwargs: object) -> bytes:
            built.append(name)
            return b""

        return build

    for name in ("bomb_workbook", "lying_directory"):
        monkeypatch.setattr(bodies, name, refuse(name))
    for name in ("many_cells_workbook", "formula_sheet_workbook"):
        monkeypatch.setattr(hostile_xlsx, name, refuse(name))
    cases = hostile.cases()
    assert len(cases) > 50
    assert "xlsx: sheet inflating to 1 GiB" in cases
    assert built == []


def test_a_lazy_body_is_built_once_on_first_use() -> None:
    calls: list[int] = []

    def build(size: int) -> bytes:
        calls.append(size)
        return b"x" * size

    content = hostile.lazily(build, 3)
    assert calls == []
    assert hostile.body(content) == b"xxx"
    assert hostile.body(content) == b"xxx"
    assert calls == [3]
    assert hostile.body(b"as is") == b"as is"
