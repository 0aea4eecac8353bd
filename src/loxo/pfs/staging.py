"""Staged writes: the file operations of one commit, folded into per-path changes.

A commit's writes are a sequence of :class:`Op` (put, append, delete) applied in order on top
of the parent commit. :func:`fold` turns them into one change per path (new entry or
``None`` for deleted), checking the rule that a path is never both a file and a directory.
Pure apart from reads of the immutable base fileset.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import msgpack

from loxo.errors import PathConflict
from loxo.storage.blobs import DataRef
from loxo.storage.fileset import FileEntry, FilesetReader
from loxo.storage.hashing import hash_of_hashes

from .paths import parent_dirs

PUT, APPEND, DELETE = "put", "append", "delete"


class Op(NamedTuple):
    kind: str
    path: str
    refs: tuple[DataRef, ...] = ()
    size: int = 0
    hash: str = ""  # content hash of ``refs`` when known (saves recomputing it)

    def encode(self) -> bytes:
        refs = [list(r) for r in self.refs]
        return msgpack.packb([self.kind, self.path, refs, self.size, self.hash])

    @classmethod
    def decode(cls, blob: bytes) -> Op:
        kind, path, refs, size, content_hash = msgpack.unpackb(blob)
        return cls(kind, path, tuple(DataRef(*r) for r in refs), size, content_hash)


def entry_of(path: str, refs: tuple[DataRef, ...], size: int, content_hash: str = "") -> FileEntry:
    return FileEntry(path, size, content_hash or hash_of_hashes(r.hash for r in refs), refs)


def fold(base: FilesetReader, ops: Iterable[Op]) -> dict[str, FileEntry | None]:
    """One change per path: the final entry, or ``None`` where the path was deleted."""
    changes: dict[str, FileEntry | None] = {}
    dirs: dict[str, int] = {}  # directories implied by files added in ``changes`` -> count
    added: set[str] = set()  # files counted in ``dirs``

    def current(path: str) -> FileEntry | None:
        if path in changes:
            return changes[path]
        return base.get(path)

    def is_dir(path: str) -> bool:
        if dirs.get(path):
            return True
        for e in base.iter_prefix(path + "/"):
            if e.path not in changes:
                return True
            if changes[e.path] is not None:
                return True
        return False

    def set_file(path: str, entry: FileEntry) -> None:
        if is_dir(path):
            raise PathConflict(path, "is a directory; a path cannot be both a file and a directory")
        for d in parent_dirs(path):
            if dirs.get(d):  # a directory of a file added here: not a file
                continue
            if current(d) is not None:
                raise PathConflict(
                    path, f"cannot be created: its parent {d!r} is a file, not a directory"
                )
        if path not in added:
            added.add(path)
            for d in parent_dirs(path):
                dirs[d] = dirs.get(d, 0) + 1
        changes[path] = entry

    def remove(path: str) -> None:
        if current(path) is not None:
            changes[path] = None
            if path in added:
                added.discard(path)
                for d in parent_dirs(path):
                    dirs[d] -= 1
            return
        # a directory: every file under it
        prefix = "/" if path == "/" else path + "/"
        doomed = [p for p, e in changes.items() if e is not None and p.startswith(prefix)]
        doomed += [e.path for e in base.iter_prefix(prefix) if e.path not in changes]
        for p in doomed:
            remove(p)

    for op in ops:
        if op.kind == PUT:
            set_file(op.path, entry_of(op.path, op.refs, op.size, op.hash))
        elif op.kind == APPEND:
            old = current(op.path)
            if old is None:
                set_file(op.path, entry_of(op.path, op.refs, op.size, op.hash))
            else:
                refs = old.refs + op.refs
                changes[op.path] = entry_of(op.path, refs, old.size + op.size)
        elif op.kind == DELETE:
            remove(op.path)
        else:  # pragma: no cover - ops are made by this package only
            raise ValueError(f"unknown op {op.kind!r}")
    return changes
