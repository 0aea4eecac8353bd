"""Content-defined chunking (FastCDC, via pyfastcdc).

Chunk boundaries depend on content, not offsets, so an insertion in the middle of a big file
changes only the chunks around it and every other chunk deduplicates. Sizes: 256 KiB min,
1 MiB average, 4 MiB max. A file smaller than the minimum is one chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import pyfastcdc

MIN_SIZE = 256 * 1024
AVG_SIZE = 1024 * 1024
MAX_SIZE = 4 * 1024 * 1024

_cdc = pyfastcdc.FastCDC(avg_size=AVG_SIZE, min_size=MIN_SIZE, max_size=MAX_SIZE)


def chunk_bytes(data: bytes) -> Iterator[bytes]:
    """Split an in-memory buffer into content-defined chunks."""
    if len(data) <= MIN_SIZE:
        if data:
            yield data
        return
    for c in _cdc.cut_buf(data):
        yield bytes(c.data)


def chunk_stream(stream: BinaryIO) -> Iterator[bytes | memoryview]:
    """Split a stream into content-defined chunks, holding at most a few MiB in memory.

    A yielded memoryview is only valid until the next chunk is asked for: copy what you keep.
    """
    head = stream.read(MIN_SIZE + 1)
    if len(head) <= MIN_SIZE:
        if head:
            yield bytes(head)
        return
    for c in _cdc.cut_stream(_Prefixed(head, stream)):
        yield c.data


class _Prefixed:
    """A read-only stream of ``head`` followed by the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = memoryview(head)
        self._stream = stream

    def readinto(self, buf: bytearray | memoryview) -> int:
        if self._head:
            n = min(len(buf), len(self._head))
            buf[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._stream.readinto(buf)  # type: ignore[attr-defined]

    def read(self, n: int = -1) -> bytes:
        if self._head:
            out = bytes(self._head[:n] if n >= 0 else self._head)
            self._head = self._head[len(out) :]
            return out
        return self._stream.read(n)
