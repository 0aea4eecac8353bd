"""fsspec's own conformance suite (``fsspec.tests.abstract``, shipped with fsspec) on
``loxo://``: copies inside loxo, ``get`` to and ``put`` from the local filesystem, ``open``
and ``pipe`` in exclusive modes — embedded and through ``loxo serve``. Directories are
implicit in loxo (no empty ones), which the suite supports through
``supports_empty_directories``."""

from __future__ import annotations

import itertools
import posixpath
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fsspec.tests.abstract import (
    AbstractCopyTests,
    AbstractFixtures,
    AbstractGetTests,
    AbstractOpenTests,
    AbstractPipeTests,
    AbstractPutTests,
)

import loxo
from loxo.access import LoxoFileSystem
from tests.serverproc import ServerProc, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    """One server for the module (a server per test makes the suite crawl): each test has
    its own repo on it."""
    with running_server(tmp_path_factory.mktemp("suite-server"), "--grpc-port", "-1") as proc:
        yield proc
        assert "Traceback" not in "".join(proc.output), "".join(proc.output)


_repos = itertools.count()


class LoxoFixtures(AbstractFixtures):
    @pytest.fixture(params=["embedded", "remote"])
    def fs(
        self, request: pytest.FixtureRequest, tmp_path: Path, server: ServerProc, repo: str
    ) -> Iterator[LoxoFileSystem]:
        remote = request.param == "remote"
        with loxo.Client(tmp_path / "home", address=server.http_url if remote else None) as c:
            c.create_repo(repo)
            yield LoxoFileSystem(client=c, skip_instance_cache=True)

    @pytest.fixture
    def repo(self) -> str:
        return f"suite{next(_repos)}"

    @pytest.fixture
    def fs_join(self) -> Callable[..., str]:
        return posixpath.join

    @pytest.fixture
    def fs_path(self, repo: str) -> str:
        return f"{repo}@master/base"

    @pytest.fixture
    def supports_empty_directories(self) -> bool:
        return False


class TestCopy(AbstractCopyTests, LoxoFixtures):
    pass


class TestGet(AbstractGetTests, LoxoFixtures):
    pass


class TestPut(AbstractPutTests, LoxoFixtures):
    pass


class TestOpen(AbstractOpenTests, LoxoFixtures):
    pass


class TestPipe(AbstractPipeTests, LoxoFixtures):
    pass
