"""Blob writing: big packs are stored in the background, and flush() is the barrier."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from loxo.errors import StorageError
from loxo.storage.blobs import BACKGROUND_BYTES, BlobReader, BlobWriter, MemoryChunkIndex
from loxo.storage.local import LocalStore
from loxo.storage.memory import MemoryStore


def _random(n: int, seed: int) -> bytes:
    import random

    return random.Random(seed).randbytes(n)


def test_big_packs_go_up_in_the_background_and_read_back(tmp_path: Path) -> None:
    store, index = LocalStore(tmp_path / "objects"), MemoryChunkIndex()
    writer = BlobWriter(store, index, batch_bytes=BACKGROUND_BYTES)
    files = [_random(3 * BACKGROUND_BYTES + 12345, seed) for seed in range(3)]
    pending = [writer.add(io.BytesIO(data)) for data in files]
    assert writer._pool is not None  # packs went to the background thread
    writer.flush()
    reader = BlobReader(store)
    for data, pf in zip(files, pending, strict=True):
        assert pf.content is not None
        assert b"".join(reader.read_chunk(r) for r in pf.content.refs) == data
        assert index.lookup([r.hash for r in pf.content.refs]).keys() == {
            r.hash for r in pf.content.refs
        }
    assert writer.bytes_stored >= sum(len(d) for d in files) * 0.99  # random: no dedup
    assert not [t for t in threading.enumerate() if t.name.startswith("loxo-pack")]


class _FailingPuts(MemoryStore):
    """A store whose big puts fail (a full disk, a bucket gone), from any thread."""

    def put(self, key: str, data: bytes) -> None:
        if len(data) >= BACKGROUND_BYTES:
            raise StorageError(f"cannot store {key}: no space left")
        super().put(key, data)


def test_a_failed_background_pack_fails_flush_and_is_never_indexed() -> None:
    store, index = _FailingPuts("blobs-failing"), MemoryChunkIndex()
    writer = BlobWriter(store, index, batch_bytes=BACKGROUND_BYTES)
    data = _random(2 * BACKGROUND_BYTES, 7)
    pf = writer.add(io.BytesIO(data))
    with pytest.raises(StorageError, match="no space left"):
        writer.flush()
    assert pf.content is None
    # the failed pack's chunks are not in the index; what is there points at stored bytes
    indexed = index.lookup(pf.chunk_hashes)
    assert len(indexed) < len(set(pf.chunk_hashes))
    stored = {info.key for info in store.list()}
    assert {ref.key for ref in indexed.values()} <= stored
