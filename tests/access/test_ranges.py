"""Ranged reads: ``iter_file(ref, path, offset=, length=)`` on the client, embedded and over
HTTP, returns exactly those bytes of a file of many chunks and reads only the chunks that
overlap the range — counted at the object store (embedded) and on the wire (the server's
own sent-bytes metric)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import httpx
import pytest

import loxo
from loxo.access import LoxoFileSystem
from loxo.errors import InvalidArgumentError
from loxo.storage.chunking import AVG_SIZE, MAX_SIZE
from loxo.storage.registry import register_store

from .conftest import LoxoHome
from .counting_store import CountingStore

SIZE = 24 * AVG_SIZE  # about two dozen content-defined chunks


@pytest.fixture(scope="module")
def data() -> bytes:
    return random.Random(7).randbytes(SIZE)


def ranges(size: int) -> list[tuple[int, int | None]]:
    rng = random.Random(11)
    spans = [(rng.randrange(size), rng.randrange(3 * AVG_SIZE)) for _ in range(8)]
    return [(0, None), (0, 0), (0, 1), (1, 10), (5_000_000, 3_000_000), (size - 5, None),
            (size - 5, 100), (size, None), (size + 10, 5), (7, size), *spans]  # fmt: skip


def want(data: bytes, offset: int, length: int | None) -> bytes:
    return data[offset:] if length is None else data[offset : offset + length]


def test_iter_file_returns_the_range(loxo_home: LoxoHome, data: bytes) -> None:
    loxo_home.tree("big", {"/f.bin": data})
    for offset, length in ranges(len(data)):
        got = b"".join(
            loxo_home.client.iter_file("big@master", "/f.bin", offset=offset, length=length)
        )
        want = data[offset:] if length is None else data[offset : offset + length]
        assert got == want, (offset, length)
    with pytest.raises(InvalidArgumentError, match="invalid byte range"):
        loxo_home.client.iter_file("big@master", "/f.bin", offset=-1)
    with pytest.raises(InvalidArgumentError, match="invalid byte range"):
        loxo_home.client.iter_file("big@master", "/f.bin", length=-1)


def test_reading_through_fsspec_matches_the_file(loxo_home: LoxoHome, data: bytes) -> None:
    loxo_home.tree("big", {"/f.bin": data})
    fs = loxo_home.fs
    with fs.open("big@master/f.bin", block_size=AVG_SIZE // 3) as f:
        for offset, length in ranges(len(data)):
            f.seek(offset)
            n = -1 if length is None else length
            assert f.read(n) == (
                data[offset:] if length is None else data[offset : offset + length]
            )
    with fs.open("big@master/f.bin") as f:  # sequential, fsspec's default blocks
        assert b"".join(iter(lambda: f.read(777_777), b"")) == data


def test_a_range_reads_only_its_chunks_from_the_store(tmp_path: Path, data: bytes) -> None:
    register_store("counting", "tests.access.counting_store:CountingStore")
    with loxo.Client(tmp_path / "home", store_url=f"counting://{tmp_path / 'objects'}") as c:
        c.create_repo("big")
        c.put_file("big@master", "/f.bin", data)
        fs = LoxoFileSystem(client=c, skip_instance_cache=True)
        before = CountingStore.read
        assert (
            fs.cat_file("big@master/f.bin", start=SIZE // 2, end=SIZE // 2 + 100)
            == (data[SIZE // 2 : SIZE // 2 + 100])
        )
        one_range = CountingStore.read - before
        assert 0 < one_range <= 2 * MAX_SIZE < SIZE // 2  # a chunk or two, not the file
        before = CountingStore.read
        with fs.open("big@master/f.bin", block_size=AVG_SIZE) as f:
            f.seek(SIZE - 10)
            assert f.read() == data[-10:]
        assert CountingStore.read - before <= 2 * MAX_SIZE
        before = CountingStore.read
        assert fs.cat("big@master/f.bin") == data
        assert CountingStore.read - before == SIZE  # random bytes: stored as they are


def sent_bytes(address: str) -> float:
    text = httpx.get(f"{address}/metrics").text
    m = re.search(r"^loxo_http_sent_bytes_total (\S+)$", text, re.M)
    assert m is not None, text
    return float(m[1])


@pytest.mark.parametrize("loxo_home", ["remote"], indirect=True)
def test_a_range_sends_only_its_bytes_over_http(loxo_home: LoxoHome, data: bytes) -> None:
    loxo_home.tree("big", {"/f.bin": data})
    address = loxo_home.options["address"]
    fs = loxo_home.fs
    before = sent_bytes(address)
    with fs.open("big@master/f.bin", block_size=64 * 1024) as f:
        f.seek(SIZE // 3)
        assert f.read(1000) == data[SIZE // 3 : SIZE // 3 + 1000]
    sent = sent_bytes(address) - before
    assert 64 * 1024 <= sent < 80 * 1024  # one block and two small JSON answers
