"""The soak and hostile-input commands (outside the default run) keep working: a short
soak of every kind of traffic answers no 5xx, and the hostile script reports 4xx."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import hostile, soak

#: Real server processes and the soak/hostile scripts.
pytestmark = pytest.mark.slow


#: Every worker runs its first round to the end whatever the duration (it checks for the
#: stop between rounds, and `Thread.start` returns once it runs), so every kind of
#: traffic is seen however short the soak: 4 s instead of 12 saves 8 s of both cores.
SOAK_SECONDS = 4.0


def test_a_short_soak_runs_every_kind_of_traffic_without_a_5xx() -> None:
    lines: list[str] = []
    result = soak.soak(SOAK_SECONDS, [], lines.append)
    assert result["server_errors"] == 0, result["failures"]
    assert result["still_serving"]
    kinds = result["by_kind"]
    for answer in ("etl 200", "run 202", "events 200", "status 200", "delete session 200"):
        assert kinds.get(answer, 0) > 0, (answer, kinds)
    assert result["rss_peak_mib"] > 0
    assert result["fds_end"] > 0


def test_the_hostile_script_reports_each_answer(tmp_path: Path) -> None:
    table = tmp_path / "hostile.md"
    # The tool, not the latency, is under test here (tests/api/test_api_json_limits.py
    # holds /health to 100 ms, stretched on a crowded machine): a generous bound.
    argv = ["--only", "session:", "--only", "name: ../", "--markdown", str(table)]
    code = hostile.main([*argv, "--health-bound-ms", "5000"])
    assert code == 0
    text = table.read_text()
    assert "display_name must not contain '/'" in text
    assert "points outside its folder" in text
    assert "422" in text or "413" in text  # the 90 MiB name is refused, not echoed
