"""Blobs: file content as content-defined chunks packed into shared objects.

Writing: a :class:`BlobWriter` chunks each file (``chunking``), hashes each chunk, and looks
the hashes up in a :class:`ChunkIndex`; chunks already stored anywhere (any file, commit or
repo) are referenced, not written again. New chunks are optionally compressed (``codec``) and
appended to a *pack*: one object ``packs/<uuid>`` holding up to ``pack_bytes`` of chunks, so
100,000 tiny files become a handful of objects. A file's content is a list of
:class:`DataRef` (pack key, offset, stored length, length, chunk hash, codec).

Invariants that make garbage collection safe (see ``loxo.pfs.gc``):

- a pack object is written *before* its chunks are recorded in the index, so the index never
  points at bytes that do not exist;
- every index lookup refreshes the entry's ``last_used`` time, and a new pack's mtime is its
  write time, so a collector that spares everything touched since the oldest active writer
  began never deletes a chunk that a writer is about to reference.

Packs of at least :data:`BACKGROUND_BYTES` are stored by a background thread while the
writer goes on chunking (at most :data:`IN_FLIGHT` at a time): storing a 16 MiB pack on S3
takes as long as chunking, hashing and compressing it, so a large ingest overlaps the two.
:meth:`BlobWriter.flush` waits for them (and raises a failed store's error); their chunks
are recorded in the index only once stored, as above.

Reading: :class:`BlobReader` fetches each referenced range, decompresses it and checks its
BLAKE3 hash; a mismatch raises :class:`~loxo.errors.CorruptObject` naming the object. Wrong
bytes are never returned.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO, NamedTuple, Protocol

from loxo.errors import CorruptObject, LoxoError

from . import codec
from .chunking import chunk_bytes, chunk_stream
from .hashing import hash_bytes, hash_of_hashes
from .objectstore import ObjectStore

PACK_PREFIX = "packs/"
BACKGROUND_BYTES = 4 * 1024 * 1024  # packs at least this big are stored in the background
IN_FLIGHT = 2  # background packs being stored at once, at most (memory: 2 x batch_bytes)


class DataRef(NamedTuple):
    """Where one chunk lives: ``stored_len`` bytes at ``offset`` of object ``key``."""

    key: str
    offset: int
    stored_len: int
    length: int
    hash: str
    codec: int


class ChunkIndex(Protocol):
    """Chunk hash -> where it is stored. Implemented over the metadata DB by ``pfs``."""

    def lookup(self, hashes: Sequence[str]) -> dict[str, DataRef]:
        """Known refs for these hashes, refreshing their last-used time."""

    def record(self, refs: Sequence[DataRef]) -> None:
        """Remember newly stored chunks (after their pack object exists)."""


class MemoryChunkIndex:
    """A dict-backed :class:`ChunkIndex` for tests and throwaway stores."""

    def __init__(self) -> None:
        self._refs: dict[str, DataRef] = {}
        self._lock = threading.Lock()

    def lookup(self, hashes: Sequence[str]) -> dict[str, DataRef]:
        with self._lock:
            return {h: self._refs[h] for h in hashes if h in self._refs}

    def record(self, refs: Sequence[DataRef]) -> None:
        with self._lock:
            for r in refs:
                self._refs.setdefault(r.hash, r)


@dataclass
class FileContent:
    """A written file: its chunk refs, size and content hash."""

    refs: list[DataRef]
    size: int
    hash: str


@dataclass
class PendingFile:
    """A file whose chunks may still sit in the writer's buffer; complete after ``flush``."""

    chunk_hashes: list[str] = field(default_factory=list)
    size: int = 0
    content: FileContent | None = None


class BlobWriter:
    """Chunks, deduplicates, compresses and packs file content.

    ``add(stream)`` returns a :class:`PendingFile`; its ``content`` is set once the writer
    has flushed (automatically when the buffer reaches ``batch_bytes``, and at ``flush()``).
    ``write(stream)`` is the one-call form for a single file.
    """

    def __init__(
        self,
        store: ObjectStore,
        index: ChunkIndex,
        *,
        batch_bytes: int = 16 * 1024 * 1024,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        self._store, self._index = store, index
        self._batch_bytes = batch_bytes
        self._on_bytes = on_bytes
        self._chunks: dict[str, bytes] = {}  # hash -> bytes, not yet resolved
        self._buffered = 0
        self._pending: list[PendingFile] = []
        self._resolved: dict[str, DataRef] = {}  # refs of this writer's batches
        self._storing: deque[tuple[Future[None], list[DataRef], int]] = deque()
        self._pool: ThreadPoolExecutor | None = None
        self.bytes_in = 0
        self.bytes_stored = 0

    def add(self, stream: BinaryIO) -> PendingFile:
        pf = PendingFile()
        self._pending.append(pf)
        for chunk in chunk_stream(stream):
            self._add_chunk(pf, chunk)
        return pf

    def add_bytes(self, data: bytes) -> PendingFile:
        """Like :meth:`add` for content already in memory (no stream, no extra copy)."""
        pf = PendingFile()
        self._pending.append(pf)
        for chunk in chunk_bytes(data):
            self._add_chunk(pf, chunk)
        return pf

    def _add_chunk(self, pf: PendingFile, chunk: bytes | memoryview) -> None:
        h = hash_bytes(chunk)
        pf.chunk_hashes.append(h)
        pf.size += len(chunk)
        self.bytes_in += len(chunk)
        if h not in self._resolved and h not in self._chunks:
            self._chunks[h] = chunk if isinstance(chunk, bytes) else bytes(chunk)
            self._buffered += len(chunk)
        if self._on_bytes is not None:
            self._on_bytes(len(chunk))
        if self._buffered >= self._batch_bytes:
            self._write_batch()

    def write(self, stream: BinaryIO) -> FileContent:
        pf = self.add(stream)
        self.flush()
        assert pf.content is not None
        return pf.content

    def flush(self) -> None:
        """Store every buffered chunk and complete every pending file."""
        if self._chunks:
            self._write_batch()
        try:
            while self._storing:
                self._finish_one()
        except BaseException:
            for future, _, _ in self._storing:
                future.cancel()
            self._storing.clear()
            raise
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=False)
                self._pool = None
        for pf in self._pending:
            refs = [self._resolved[h] for h in pf.chunk_hashes]
            pf.content = FileContent(refs, pf.size, hash_of_hashes(pf.chunk_hashes))
        self._pending.clear()
        # keep only what pending files could still need: nothing
        self._resolved.clear()

    def _write_batch(self) -> None:
        known = self._index.lookup(list(self._chunks))
        self._resolved.update(known)
        new = [(h, c) for h, c in self._chunks.items() if h not in known]
        if new:
            key = PACK_PREFIX + uuid.uuid4().hex
            parts: list[bytes] = []
            refs: list[DataRef] = []
            offset = 0
            for h, c in new:
                cdc, stored = codec.encode(c)
                refs.append(DataRef(key, offset, len(stored), len(c), h, cdc))
                parts.append(stored)
                offset += len(stored)
            data = b"".join(parts)
            if len(data) >= BACKGROUND_BYTES:
                self._store_later(key, data, refs)
            else:
                self._store.put(key, data)
                self._stored(refs, offset)
            self._resolved.update((r.hash, r) for r in refs)  # for this writer's files
        self._chunks.clear()
        self._buffered = 0

    def _stored(self, refs: list[DataRef], size: int) -> None:
        self.bytes_stored += size
        self._index.record(refs)  # only now: the index never points at missing bytes

    def _store_later(self, key: str, data: bytes, refs: list[DataRef]) -> None:
        while len(self._storing) >= IN_FLIGHT:
            self._finish_one()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="loxo-pack")
        self._storing.append((self._pool.submit(self._store.put, key, data), refs, len(data)))

    def _finish_one(self) -> None:
        """Wait for the oldest background pack; raises its store's error."""
        future, refs, size = self._storing.popleft()
        future.result()
        self._stored(refs, size)


class BlobReader:
    """Reads and verifies chunks; a small cache serves repeated reads of the same chunk."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def read_chunk(self, ref: DataRef) -> bytes:
        try:
            stored = self._store.get_range(ref.key, ref.offset, ref.stored_len)
        except LoxoError:
            raise
        if len(stored) != ref.stored_len:
            raise CorruptObject(ref.key, f"truncated at offset {ref.offset}")
        try:
            data = codec.decode(ref.codec, stored, ref.length)
        except Exception as err:  # zstd raises its own error type on garbage
            raise CorruptObject(ref.key, f"undecodable chunk at offset {ref.offset}") from err
        if len(data) != ref.length or hash_bytes(data) != ref.hash:
            raise CorruptObject(ref.key, f"chunk at offset {ref.offset} fails its hash check")
        return data

    def iter_chunks(self, refs: Iterable[DataRef]) -> Iterator[bytes]:
        for ref in refs:
            yield self.read_chunk(ref)

    def iter_range(
        self, refs: Iterable[DataRef], offset: int, length: int | None = None
    ) -> Iterator[bytes]:
        """Bytes ``offset`` to ``offset + length`` (the end when None) of the content
        ``refs`` make up, chunk by chunk; chunks wholly outside the range are not read."""
        end = None if length is None else offset + length
        pos = 0
        for ref in refs:
            start, pos = pos, pos + ref.length
            if end is not None and start >= end:
                break
            if pos <= offset:
                continue
            data = self.read_chunk(ref)
            lo = max(offset - start, 0)
            hi = ref.length if end is None else min(end - start, ref.length)
            yield data if (lo, hi) == (0, ref.length) else data[lo:hi]

    def read_all(self, refs: Iterable[DataRef]) -> bytes:
        return b"".join(self.iter_chunks(refs))
