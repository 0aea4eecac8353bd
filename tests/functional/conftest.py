"""The ``client`` fixture of the functional tests: every test runs twice, against the
embedded client and against a real ``loxo serve`` process on loopback (a fresh server and
home per test), through the same ``loxo.Client`` API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.serverproc import running_server

import loxo


@pytest.fixture(params=["embedded", "remote"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[loxo.Client]:
    home = tmp_path / "home"
    if request.param == "embedded":
        with loxo.Client(home) as c:
            yield c
        return
    # user code for transform.python must be importable by the server's workers: tests put
    # their modules in tmp_path/mods
    mods = tmp_path / "mods"
    mods.mkdir()
    pythonpath = os.pathsep.join(p for p in (str(mods), os.environ.get("PYTHONPATH")) if p)
    with (
        running_server(home, "--grpc-port", "-1", env={"PYTHONPATH": pythonpath}) as server,
        loxo.Client(tmp_path / "client-home", address=server.http_url) as c,
    ):
        assert c.remote
        yield c
