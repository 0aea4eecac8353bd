"""The object-store interface: a flat namespace of immutable byte objects by key.

Keys are ``/``-separated strings of printable ASCII (``chunks/ab/abcd...``). Objects are
written whole and never modified in place; a put of an existing key replaces it atomically
(readers see the old or the new bytes, never a mix). Backends translate their own failures
(``OSError``, botocore errors) into :mod:`loxo.errors` at this boundary.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectInfo:
    """One listed object: its key, size in bytes and last-modified time (unix seconds)."""

    key: str
    size: int
    mtime: float


class ObjectStore(abc.ABC):
    """Bytes by key. Implementations: ``local`` (a directory), ``memory``; later ``s3``."""

    url: str

    @abc.abstractmethod
    def get(self, key: str) -> bytes:
        """The whole object; :class:`loxo.errors.ObjectNotFound` when absent."""

    @abc.abstractmethod
    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer only at the end of the object)."""

    @abc.abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key`` atomically, replacing any existing object."""

    @abc.abstractmethod
    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Write unless the key exists. True if written; False if it existed (its mtime is
        then refreshed, so garbage collection treats it as freshly needed)."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the key; deleting an absent key is not an error."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``, in key order."""

    def sync(self) -> None:  # noqa: B027 - optional hook
        """Durability barrier: once it returns, every object this store object wrote
        survives a crash or power loss. The default, for stores whose puts are durable
        already (or never durable, like ``memory``), does nothing."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; the default has none."""
