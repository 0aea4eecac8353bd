"""A real local object store that counts the bytes read from it (``counting://DIR``), so
that a test can tell how much of a file a ranged read fetched; plugged in through loxo's
store registry like any backend."""

from __future__ import annotations

import threading

from loxo.storage.local import LocalStore


class CountingStore(LocalStore):
    read = 0
    _lock = threading.Lock()

    def __init__(self, url: str) -> None:
        super().__init__(url.removeprefix("counting://"))

    def get(self, key: str) -> bytes:
        return self._count(super().get(key))

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        return self._count(super().get_range(key, offset, length))

    def _count(self, data: bytes) -> bytes:
        with self._lock:
            CountingStore.read += len(data)
        return data
