"""Optional compression of stored chunks: zstd when it pays, raw bytes when it does not.

A codec is a small integer recorded in every data reference, so readers never guess:
``RAW`` (0) or ``ZSTD`` (1). Compression is tried on a sample first; incompressible data
(media, already-compressed archives, random bytes) is stored raw at no CPU cost.
"""

from __future__ import annotations

import threading

import zstandard

RAW = 0
ZSTD = 1

_MIN_SIZE = 4096  # smaller chunks gain little and cost a compression attempt each
_SAMPLE = 64 * 1024
_PAYS = 0.9  # keep compressed bytes only if they are at most 90% of the input
_local = threading.local()


def compressor() -> zstandard.ZstdCompressor:
    """This thread's compressor (zstd contexts must not be shared between threads)."""
    c = getattr(_local, "c", None)
    if c is None:
        c = _local.c = zstandard.ZstdCompressor(level=3)
    return c


def decompressor() -> zstandard.ZstdDecompressor:
    """This thread's decompressor."""
    d = getattr(_local, "d", None)
    if d is None:
        d = _local.d = zstandard.ZstdDecompressor()
    return d


def encode(data: bytes) -> tuple[int, bytes]:
    """``(codec, stored_bytes)`` for ``data``."""
    if len(data) < _MIN_SIZE:
        return RAW, data
    c = compressor()
    if len(data) > 2 * _SAMPLE and len(c.compress(data[:_SAMPLE])) > _PAYS * _SAMPLE:
        return RAW, data
    packed = c.compress(data)
    if len(packed) <= _PAYS * len(data):
        return ZSTD, packed
    return RAW, data


def decode(codec: int, stored: bytes, length: int) -> bytes:
    """The original bytes; ``length`` is the decoded size recorded in the reference."""
    if codec == RAW:
        return stored
    if codec == ZSTD:
        return decompressor().decompress(stored, max_output_size=length)
    raise ValueError(f"unknown codec {codec}")
