"""Diff of two path-sorted entry streams: added, deleted and changed files.

Pure: takes two iterators sorted by path (as filesets yield them) and merges them in one
pass; a path present in both with the same content hash is unchanged and not reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from loxo.storage.fileset import FileEntry

Pair = tuple[FileEntry | None, FileEntry | None]


def diff_entries(old: Iterable[FileEntry], new: Iterable[FileEntry]) -> Iterator[Pair]:
    """``(old, new)`` for every path that differs; ``None`` on the side that lacks it."""
    a, b = iter(old), iter(new)
    x, y = next(a, None), next(b, None)
    while x is not None or y is not None:
        if y is None or (x is not None and x.path < y.path):
            yield x, None
            x = next(a, None)
        elif x is None or y.path < x.path:
            yield None, y
            y = next(b, None)
        else:
            if x.hash != y.hash or x.size != y.size:
                yield x, y
            x, y = next(a, None), next(b, None)
