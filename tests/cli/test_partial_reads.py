"""A read that fails part-way leaves no partial file: ``get file -r -o DIR``, ``-o FILE`` and
``--tar -o FILE`` against a home whose stored chunk is corrupt, embedded and through a real
``loxo serve`` (its own server: the corrupt read logs a traceback there)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.serverproc import running_server

from .conftest import Loxo

SMALL = os.urandom(100)  # sorts first: read whole before the big file's corrupt chunk
BIG = os.urandom(5_000_000)  # several chunks; the last one gets corrupted


def corrupt_last_chunk(home: Path) -> None:
    """Flip a byte near the end of the biggest pack: the big file's last chunk."""
    pack = max((home / "objects" / "packs").iterdir(), key=lambda p: p.stat().st_size)
    data = bytearray(pack.read_bytes())
    data[-100] ^= 0xFF
    pack.write_bytes(bytes(data))


@pytest.fixture(params=["embedded", "remote"])
def corrupt(request: pytest.FixtureRequest, loxo: Loxo, tmp_path: Path) -> Iterator[Loxo]:
    """``loxo`` on a repo ``r`` holding ``/a.small`` and ``/b.big`` whose last chunk is
    corrupt, in its own home or on its own server."""
    with ExitStack() as stack:
        home = loxo.home
        if request.param == "remote":
            home = tmp_path / "server-home"
            server = stack.enter_context(running_server(home, "--grpc-port", "-1"))
            loxo.env["LOXO_ADDRESS"] = server.http_url
        loxo("create", "repo", "r")
        loxo.gen({"tree/a.small": SMALL, "tree/b.big": BIG})
        loxo("put", "file", "r@master", "-r", "-f", "tree")
        corrupt_last_chunk(home)
        yield loxo


def leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


def test_a_tree_read_that_fails_leaves_only_whole_files(corrupt: Loxo) -> None:
    out = corrupt.cwd / "out"
    out.mkdir()
    (out / "b.big").write_bytes(b"the previous content")
    r = corrupt.run("get", "file", "r@master:/", "-r", "-o", "out")
    assert r.code != 0 and r.code not in (1, 2, 70), r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert "fsck" in r.stderr, r.stderr
    assert leftovers(out) == ["a.small", "b.big"], "no temporary file is left behind"
    assert (out / "a.small").read_bytes() == SMALL, "a file read whole before the failure stays"
    assert (out / "b.big").read_bytes() == b"the previous content", "never a truncated file"
    assert oct((out / "a.small").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def test_a_single_file_or_tar_read_that_fails_leaves_nothing(corrupt: Loxo) -> None:
    for args in (["r@master:/b.big", "-o", "big"], ["r@master:/", "--tar", "-o", "all.tar"]):
        r = corrupt.run("get", "file", *args)
        assert r.code != 0 and r.code not in (1, 2, 70), r.stderr
        assert "Traceback" not in r.stderr and "fsck" in r.stderr, r.stderr
        assert leftovers(corrupt.cwd) == ["tree"], f"get file {args}: a file was left"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
