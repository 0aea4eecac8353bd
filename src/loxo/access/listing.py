"""``find`` from one walk: the files and implicit directories under a root, to a depth.

loxo lists every file under a path in one call (``walk_files``); fsspec's ``find`` wants the
files at most ``maxdepth`` levels down and, with ``withdirs``, the directories too — which
in loxo exist only as the parents of files. :func:`find_tree` derives both from the walk
instead of listing directory by directory. Pure: paths in, entries out.
"""

from __future__ import annotations

from collections.abc import Iterable

FILE, DIR = "file", "directory"


def find_tree(
    files: Iterable[tuple[str, int]], root: str, maxdepth: int | None, withdirs: bool
) -> dict[str, tuple[str, int]]:
    """``{path: (type, size)}`` of the files (``(path, size)``, every file at or under
    ``root``) at most ``maxdepth`` levels below ``root``, and with ``withdirs`` of the
    directories among them and ``root`` itself; a directory's size is that of every file
    under it, however deep. A file that is ``root`` itself is the one entry."""
    out: dict[str, tuple[str, int]] = {}
    base = "" if root == "/" else root
    total = 0
    for path, size in files:
        if path == root:
            return {path: (FILE, size)}
        total += size
        parts = path[len(base) + 1 :].split("/")
        if withdirs:
            for depth in range(1, min(len(parts), (maxdepth or len(parts)) + 1)):
                d = base + "/" + "/".join(parts[:depth])
                out[d] = (DIR, out.get(d, (DIR, 0))[1] + size)
        if maxdepth is None or len(parts) <= maxdepth:
            out[path] = (FILE, size)
    if withdirs and out:
        out[root] = (DIR, total)
    return out


def outermost(paths: Iterable[str]) -> list[str]:
    """``paths`` without those under another of them (deleting a directory deletes what
    lies under it), sorted."""
    kept: set[str] = set()
    for p in sorted(set(paths), key=lambda p: p.count("/")):
        parts = p.split("/")
        if not any("/".join(parts[:i]) in kept for i in range(1, len(parts))):
            kept.add(p)
    return sorted(kept)
