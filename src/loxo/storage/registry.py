"""Open an object store by URL: ``/data/loxo``, ``file:///data/loxo``, ``memory://name``,
``s3://bucket/prefix``.

Bare paths and ``file://`` URLs are :class:`~loxo.storage.local.LocalStore` directories;
``memory://<name>`` is one :class:`~loxo.storage.memory.MemoryStore` per name per process, so
two parts of a program (or a test) opening the same URL share objects. Every other scheme maps
to a ``"module:Class"`` path imported only when first used (as fsspec's registry does), so an
optional backend's dependencies (``boto3`` for ``s3``) are needed only by those who use it.
Such a class is called with the whole URL. :func:`register_store` adds schemes.
"""

from __future__ import annotations

import importlib
import threading

from loxo.errors import InvalidArgumentError

from .local import LocalStore
from .memory import MemoryStore
from .objectstore import ObjectStore

_SCHEMES: dict[str, str] = {"s3": "loxo.storage.s3:S3Store"}
_EXTRAS: dict[str, str] = {"s3": "s3"}  # scheme -> the pip extra providing its dependencies
_BUILTIN = ("file", "memory")
_memory_stores: dict[str, MemoryStore] = {}
_memory_lock = threading.Lock()


def register_store(scheme: str, dotted: str) -> None:
    """Make ``<scheme>://...`` URLs open with the class at ``dotted`` (``"pkg.mod:Class"``)."""
    if scheme in _BUILTIN or not scheme.isidentifier():
        raise InvalidArgumentError(f"cannot register object store scheme {scheme!r}")
    if dotted.count(":") != 1:
        raise InvalidArgumentError(f"store class {dotted!r} must look like 'package.module:Class'")
    _SCHEMES[scheme] = dotted


def known_schemes() -> list[str]:
    return [*_BUILTIN, *sorted(_SCHEMES)]


def open_store(url: str) -> ObjectStore:
    """The object store ``url`` names; :class:`InvalidArgumentError` when it names none."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return LocalStore(url)
    scheme = scheme.lower()
    if scheme == "file":
        return LocalStore(rest)
    if scheme == "memory":
        with _memory_lock:
            return _memory_stores.setdefault(rest, MemoryStore(rest))
    dotted = _SCHEMES.get(scheme)
    if dotted is None:
        raise InvalidArgumentError(
            f"unknown object store URL {url!r}: the scheme must be one of "
            + ", ".join(f"{s}://" for s in known_schemes())
            + " (or a bare directory path)"
        )
    module, _, name = dotted.partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        if scheme in _EXTRAS:
            raise InvalidArgumentError(
                f"the {scheme!r} object store ({url}) needs extra dependencies: "
                f"pip install 'loxo[{_EXTRAS[scheme]}]' ({e})"
            ) from e
        raise InvalidArgumentError(f"cannot load the {scheme!r} store {dotted!r}: {e}") from e
    store: ObjectStore = cls(url)
    return store
