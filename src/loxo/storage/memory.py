"""The in-memory object store: a dict guarded by a lock, for tests and throwaway pipelines.

It follows the same contract as the other stores (key rules, ``put_if_absent`` refreshing the
mtime, listing in key order) so code tested against it behaves the same on disk or S3. Nothing
survives the process; :meth:`sync` has nothing to do. ``open_store("memory://<name>")`` hands
out one shared instance per name (see :mod:`loxo.storage.registry`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from loxo.errors import InvalidArgumentError, ObjectNotFound

from .local import check_key
from .objectstore import ObjectInfo, ObjectStore


class MemoryStore(ObjectStore):
    """Objects as ``key -> (bytes, mtime)`` in a dict."""

    def __init__(self, name: str = "default") -> None:
        self.name = name
        self.url = f"memory://{name}"
        self._lock = threading.Lock()
        self._objects: dict[str, tuple[bytes, float]] = {}

    def get(self, key: str) -> bytes:
        check_key(key)
        with self._lock:
            found = self._objects.get(key)
        if found is None:
            raise ObjectNotFound(key, self.url)
        return found[0]

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise InvalidArgumentError(f"invalid range {offset}+{length} of object {key!r}")
        return self.get(key)[offset : offset + length]

    def put(self, key: str, data: bytes) -> None:
        check_key(key)
        data = bytes(data)  # a private copy: the caller may reuse a bytearray
        with self._lock:
            self._objects[key] = (data, time.time())

    def put_if_absent(self, key: str, data: bytes) -> bool:
        check_key(key)
        with self._lock:
            old = self._objects.get(key)
            self._objects[key] = (old[0] if old else bytes(data), time.time())
        return old is None

    def exists(self, key: str) -> bool:
        check_key(key)
        with self._lock:
            return key in self._objects

    def delete(self, key: str) -> None:
        check_key(key)
        with self._lock:
            self._objects.pop(key, None)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        head, sep, _ = prefix.rpartition("/")
        if sep:
            check_key(head)
        with self._lock:
            found = [(k, v) for k, v in self._objects.items() if k.startswith(prefix)]
        for key, (data, mtime) in sorted(found):
            yield ObjectInfo(key, len(data), mtime)
