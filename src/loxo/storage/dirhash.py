"""Directory summaries: the size and hash of a directory from its files.

A directory's hash is :func:`~loxo.storage.hashing.hash_children` over its children's
``(name, hash)`` in name order, where a child directory's hash is computed the same way. It
depends on content and names only, never on history, so equal trees hash equally anywhere
(``inspect file`` and pipeline datum hashes use this one function).
"""

from __future__ import annotations

from collections.abc import Iterable

from .fileset import FileEntry
from .hashing import hash_children


def dir_summary(prefix: str, entries: Iterable[FileEntry]) -> tuple[int, str]:
    """``(total size, hash)`` of the directory ``prefix`` (ending in '/') from the sorted
    entries under it."""
    stack: list[tuple[str, list[tuple[str, str]]]] = [(prefix, [])]
    total = 0

    def close() -> None:
        d, children = stack.pop()
        children.sort()
        stack[-1][1].append((d[:-1].rsplit("/", 1)[1], hash_children(children)))

    for e in entries:
        total += e.size
        while not e.path.startswith(stack[-1][0]):
            close()
        parts = e.path[len(stack[-1][0]) :].split("/")
        for part in parts[:-1]:
            stack.append((stack[-1][0] + part + "/", []))
        stack[-1][1].append((parts[-1], e.hash))
    while len(stack) > 1:
        close()
    children = stack[0][1]
    children.sort()
    return total, hash_children(children)
