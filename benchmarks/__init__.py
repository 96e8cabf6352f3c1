"""Benchmarks: scripts that print figures next to a baseline measured in the same run.

    .venv/bin/python -m benchmarks            # everything, one table
    .venv/bin/python -m benchmarks.bench_status   # one benchmark alone

Durations scale with environment variables (see `benchmarks.common`).
"""
