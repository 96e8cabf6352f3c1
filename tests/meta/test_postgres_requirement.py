"""Without PostgreSQL binaries the PostgreSQL tests skip and say what to install, but
never under CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import pg


@pytest.fixture
def no_binaries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pg, "PG_BIN", tmp_path / "no-postgres-here")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(pg.REQUIRE_ENV, raising=False)


@pytest.mark.usefixtures("no_binaries")
def test_missing_binaries_skip_naming_what_to_install() -> None:
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql-15"):
        pg.require_binaries()


@pytest.mark.usefixtures("no_binaries")
@pytest.mark.parametrize("name, value", [("CI", "true"), ("CI", "1"), (pg.REQUIRE_ENV, "1")])
def test_under_ci_missing_binaries_fail(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(pytest.fail.Exception, match="must run"):
        pg.require_binaries()
