"""A real ``loxo serve`` per test module, and pachyderm_sdk clients on its gRPC port.

Tests in one module share the server, so each names its repos after itself (``names``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pachyderm_sdk import Client

from tests.serverproc import ServerProc, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    with running_server(tmp_path_factory.mktemp("home")) as proc:
        assert proc.grpc_port, "loxo serve started without its gRPC door:\n" + "".join(proc.output)
        yield proc
        output = "".join(proc.output)
        assert "Traceback" not in output, "the server logged an unexpected error:\n" + output


@pytest.fixture
def client(server: ServerProc, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.delenv("PACH_PYTHON_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("PACH_PYTHON_OIDC_TOKEN", raising=False)
    c = Client(host="127.0.0.1", port=server.grpc_port)
    yield c
    c._channel.close()


@pytest.fixture
def names(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """``names("in")`` -> a repo/pipeline name unique to this test."""
    test = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_"))[:40]
    return lambda base: f"{test}-{base}".strip("-")


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root
