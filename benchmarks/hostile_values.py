"""Hostile names, values and error bounds, and a full disk (issue 21), merged into
`benchmarks.hostile.cases()`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from benchmarks.common import PREFIX, Server
from benchmarks.hostile_requests import Case, M, answer_of, dataset_document, from_json


def full_disk(_: httpx.Client, __: str) -> str:
    """A second server on a 32 MiB tmpfs (root only): fill it, then delete and add."""
    import os
    import subprocess
    import tempfile

    if os.geteuid() != 0:
        return "skipped: mounting a tmpfs needs root"
    disk = Path(tempfile.mkdtemp(prefix="algomancy-full-"))
    mount = ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(disk)]
    if subprocess.run(mount, capture_output=True, check=False).returncode != 0:
        return "skipped: cannot mount a tmpfs"
    try:
        with (
            Server(["--example", "--data-path", str(disk / "state")]) as server,
            httpx.Client(base_url=server.base, timeout=60) as client,
        ):
            added, answer = 0, ""
            while added < 2000:
                rows = [os.urandom(50).hex() for _ in range(1000)]
                document = dataset_document(
                    name=f"fill-{added}",
                    tables={"t": {"columns": ["a"], "dtypes": ["str"], "data": {"a": rows}}},
                )
                response = client.post(f"{M}/data/from-json", json=document)
                if response.status_code != 201:
                    answer = answer_of(response)
                    break
                added += 1
            deletes = [client.delete(f"{M}/data/fill-{i}").status_code for i in range(3)]
            after = client.post(f"{M}/data/from-json", json=dataset_document(name="after"))
            # Not "5…" first: a 507 here is the answer wanted, not a failure.
            return (
                f"full after {added} datasets: {answer}; deletes {deletes}; add {after.status_code}"
            )
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def cases_values() -> dict[str, Case]:
    """Names, values, error bounds and a full disk (issue 21)."""

    def session(name: str) -> Case:
        return lambda c, _: answer_of(c.post(f"{PREFIX}/sessions", json={"display_name": name}))

    def scenario(**body: object) -> Case:
        """The answer, and its size: an error must not echo a huge value back."""
        fields = {"tag": "hostile", "dataset_key": "Master data", "algo_name": "Slow"} | body

        def send(c: httpx.Client, _: str) -> str:
            response = c.post(f"{M}/scenarios", json=fields)
            return f"{len(response.content)} bytes: {answer_of(response)}"

        return send

    def document(**changes: object) -> Case:
        return lambda c, _: from_json(c, json.dumps(dataset_document(**changes)).encode())

    nested = '{"x": ' + "[" * 400 + "]" * 400 + "}"
    deep = json.dumps(dataset_document(name="deep"))[:-1] + f', "data_parameters": {nested}}}'
    table = {"columns": ["a"], "dtypes": ["int64"], "data": {"a": [1]}}
    return {
        "name: right-to-left override": session("week\u202e1"),
        "name: zero-width space": document(name="we\u200bek"),
        "name: trailing space": session("week1 "),
        "name: Week1 then full-width": lambda c, _: (
            session("Week1")(c, _) + " / " + session("\uff37\uff45\uff45\uff4b\uff11")(c, _)
        ),
        "name: NFC then NFD": lambda c, _: (
            session("Caf\u00e9")(c, _) + " / " + session("Cafe\u0301")(c, _)
        ),
        "json: index name is an object": document(
            name="indexed",
            tables={"t": table | {"index": {"name": {"x": 1}, "dtype": "int64", "data": [0]}}},
        ),
        "json: data_parameters nested 400 deep": lambda c, _: from_json(c, deep.encode()),
        "echo: 900 kB dataset key": scenario(dataset_key="k" * 900_000),
        "echo: 900 kB unknown field": scenario(**{"k" * 900_000: 1}),
        "echo: 109 kB list as a tag": scenario(tag=list(range(20_000))),
        "disk: full (32 MiB tmpfs)": full_disk,
    }
