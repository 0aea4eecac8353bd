"""Directory summaries: the size and hash of a directory from its files.

A directory's hash is :func:`~loxo.storage.hashing.hash_children` over its children's
``(name, hash)`` in name order, where a child directory's hash is computed the same way. It
depends on content and names only, never on history, so equal trees hash equally anywhere
(``inspect file`` and pipeline datum hashes use this one function).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from .fileset import FileEntry
from .hashing import hash_children


def dir_summary(prefix: str, entries: Iterable[FileEntry]) -> tuple[int, str]:
    """``(total size, hash)`` of the directory ``prefix`` (ending in '/') from the sorted
    entries under it."""
    last = (prefix, 0, hash_children([]))
    for last in walk_dirs(prefix, entries):  # noqa: B007 - the last one closed is ``prefix``
        pass
    return last[1], last[2]


def walk_dirs(
    prefix: str,
    entries: Iterable[FileEntry],
    on_file: Callable[[FileEntry], None] | None = None,
) -> Iterator[tuple[str, int, str]]:
    """``(directory path, size, hash)`` of every directory at or under ``prefix`` (ending in
    '/') as it closes (children before parents; ``prefix`` last), in one pass over the sorted
    entries under it; ``on_file`` sees each entry on the way."""
    # open directories: (path with trailing '/', children (name, hash), size)
    stack: list[tuple[str, list[tuple[str, str]], list[int]]] = [(prefix, [], [0])]

    def close() -> tuple[str, int, str]:
        d, children, size = stack.pop()
        children.sort()
        digest = hash_children(children)
        stack[-1][1].append((d[:-1].rsplit("/", 1)[1], digest))
        stack[-1][2][0] += size[0]
        return d[:-1] or "/", size[0], digest

    for e in entries:
        if on_file is not None:
            on_file(e)
        while not e.path.startswith(stack[-1][0]):
            yield close()
        parts = e.path[len(stack[-1][0]) :].split("/")
        for part in parts[:-1]:
            stack.append((stack[-1][0] + part + "/", [], [0]))
        stack[-1][1].append((parts[-1], e.hash))
        stack[-1][2][0] += e.size
    while len(stack) > 1:
        yield close()
    children = stack[0][1]
    children.sort()
    yield prefix[:-1] or "/", stack[0][2][0], hash_children(children)
