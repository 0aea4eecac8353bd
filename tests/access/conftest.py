"""Fixtures of the ``loxo://`` tests: ``loxo_home``, a real store reached the way a user
reaches it — embedded (a home) or through a real ``loxo serve`` on loopback — with its
client, a fresh :class:`LoxoFileSystem` on it, and the ``storage_options`` that pandas,
polars and ``fsspec.open`` take to reach the same store by URL.

The ``loxo`` protocol comes from loxo's ``fsspec.specs`` entry point once loxo is
installed; a checkout whose installed metadata predates the entry point registers the
same class here (``test_entry_point.py`` checks the declaration itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fsspec.registry import known_implementations, register_implementation

import loxo
from loxo.access import LoxoFileSystem
from tests.serverproc import running_server

if "loxo" not in known_implementations:
    register_implementation("loxo", LoxoFileSystem)


@dataclass
class LoxoHome:
    client: loxo.Client
    fs: LoxoFileSystem
    options: dict[str, Any]
    """``storage_options`` naming this store (a new filesystem, its own client)."""
    mode: str

    def tree(self, repo: str, files: dict[str, bytes | str], branch: str = "master") -> None:
        """Create ``repo`` (if missing) with ``files`` in one commit on ``branch``."""
        if repo not in [r.name for r in self.client.list_repo()]:
            self.client.create_repo(repo)
        with self.client.modify_file(f"{repo}@{branch}") as mf:
            for path, data in files.items():
                mf.put_file(path, data.encode() if isinstance(data, str) else data)


@pytest.fixture(params=["embedded", "remote"])
def loxo_home(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LoxoHome]:
    for name in ("LOXO_ADDRESS", "LOXO_TOKEN", "LOXO_HOME", "LOXO_STORE"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    if request.param == "embedded":
        with loxo.Client(home) as client:
            yield _home(client, {"home": str(home)}, "embedded")
        return
    with (
        running_server(home, "--grpc-port", "-1") as server,
        loxo.Client(tmp_path / "client-home", address=server.http_url) as client,
    ):
        yield _home(client, {"address": server.http_url}, "remote")
        assert "Traceback" not in "".join(server.output), "".join(server.output)


def _home(client: loxo.Client, options: dict[str, Any], mode: str) -> LoxoHome:
    fs = LoxoFileSystem(client=client, skip_instance_cache=True)
    return LoxoHome(client, fs, {**options, "skip_instance_cache": True}, mode)
