"""Reading a server's tar stream: a stream cut short, inside a member or between two, is an
error, never a smaller tree (Python's ``tarfile`` takes a stream that stops between two
members for a complete archive)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from loxo.client.remote_files import copy_tar, extract_tar
from loxo.errors import TransientError

FILES = {"a.txt": b"alpha\n" * 100, "b.txt": b"bravo\n" * 300}


def tar_bytes() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w|") as tar:
        for name, data in FILES.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def after_first_member() -> int:
    """Where the second member's header starts."""
    size = len(FILES["a.txt"])
    return tarfile.BLOCKSIZE + -(-size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE


def chunks(data: bytes, size: int = 700) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_a_whole_stream_extracts_and_copies(tmp_path: Path) -> None:
    data = tar_bytes()
    assert extract_tar(chunks(data), tmp_path) == 2
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == FILES
    out = io.BytesIO()
    assert copy_tar(chunks(data), out) == 2 and out.getvalue() == data


@pytest.mark.parametrize("cut", ["between members", "inside a member", "inside a header"])
def test_a_stream_cut_short_is_an_error(tmp_path: Path, cut: str) -> None:
    end = {
        "between members": after_first_member(),
        "inside a member": after_first_member() + tarfile.BLOCKSIZE + 100,
        "inside a header": after_first_member() + 100,
    }[cut]
    data = tar_bytes()[:end]
    with pytest.raises(TransientError, match="cut short"):
        extract_tar(chunks(data), tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.txt"]
    with pytest.raises(TransientError, match="cut short"):
        copy_tar(chunks(data), io.BytesIO())
