"""Small outputs of many datums in one pack object: one object written per result group.

A local worker reports results in groups, once their outputs are durable (see
:mod:`~loxo.execution.worker`). Written alone, each small output would cost a pack object
of its own -- a file created, then fsynced -- which for a one-kilobyte datum costs more than
the datum. Instead the worker hands :func:`~loxo.execution.output.upload` a
:class:`PackGroup`: the output's chunks are encoded exactly as
:class:`~loxo.storage.blobs.BlobWriter` would (same chunking, hashes and codec, so file
hashes do not depend on the path taken) and appended in memory to the group's pack, whose
key is chosen up front, so the datum's refs are final at once. When the group is flushed
the worker writes the pack (:meth:`PackGroup.take`), syncs the store, and only then sends
the results that point into it: a result never refers to bytes that are not durable.

Only outputs of at most ``SMALL_BYTES`` go this way (memory stays bounded); larger ones are
written by a ``BlobWriter`` of their own. Thread-safe: the worker's main thread adds while
its outbox thread takes.
"""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterable

from loxo.storage import codec
from loxo.storage.blobs import PACK_PREFIX, DataRef
from loxo.storage.chunking import MIN_SIZE, chunk_stream
from loxo.storage.hashing import hash_bytes, hash_of_hashes

__all__ = ["SMALL_BYTES", "PackGroup"]

SMALL_BYTES = 1 << 20  # outputs up to this size share the group's pack


class PackGroup:
    """The pack being filled for the next result group of one store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._key = PACK_PREFIX + uuid.uuid4().hex
        self._parts: list[bytes] = []
        self._size = 0
        self._refs: dict[str, DataRef] = {}

    def add(self, data: bytes) -> tuple[list[DataRef], int, str]:
        """Chunk the content of a small file into the pack: its refs, size and hash."""
        if len(data) <= MIN_SIZE:  # one chunk (none if empty), as chunk_stream cuts it
            chunks: Iterable[bytes | memoryview] = (data,) if data else ()
        else:
            chunks = chunk_stream(io.BytesIO(data))
        hashes: list[str] = []
        refs: list[DataRef] = []
        for chunk in chunks:
            h = hash_bytes(chunk)
            hashes.append(h)
            with self._lock:
                ref = self._refs.get(h)
                if ref is None:
                    cdc, stored = codec.encode(bytes(chunk))
                    ref = DataRef(self._key, self._size, len(stored), len(chunk), h, cdc)
                    self._parts.append(stored)
                    self._size += len(stored)
                    self._refs[h] = ref
            refs.append(ref)
        return refs, len(data), hash_of_hashes(hashes)

    def take(self) -> tuple[str, bytes] | None:
        """The pack so far as ``(key, bytes)`` (None if empty); later adds start another."""
        with self._lock:
            if not self._parts:
                return None
            key, data = self._key, b"".join(self._parts)
            self._reset()
        return key, data
