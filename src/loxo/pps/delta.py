"""Datum deltas: the datums of a pfs input that can differ between two commits (pure).

A datum of a pfs input is one glob match: a file, or a directory with every file under it
(``/``: the whole commit). Its ID depends on its path only; its hash on the content of the
files it holds. So if two commits differ only at some file paths, the only datums that can
appear, disappear or change hash are the matches **at a changed path or at one of its
ancestor directories**: every other match holds exactly the same files in both commits, so
it exists in both with the same ID and hash. Which paths match is a property of the path
alone (the glob is matched against whole paths), so those candidates are found without
listing either commit.

:func:`changed_datums` rebuilds the datums at those candidates from the new commit (a point
lookup for a file, a prefix scan for a directory) and names the ones that no longer exist.
Together with the base job's datums this gives the same job plan as re-globbing the whole
new commit (property-tested against :func:`~loxo.pps.datums.iter_datums`), at a cost of
about (changed paths) x (depth), not (files in the commit).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from loxo.pfs.glob import Glob, GlobMatch, compile_glob
from loxo.pfs.paths import ROOT
from loxo.pps.spec import PfsInput
from loxo.storage.fileset import FileEntry

from .datums import Datum, DatumID, match_datum_maker, pfs_datum_id

__all__ = ["Tree", "affected_matches", "changed_datums"]


class Tree(Protocol):
    """Point and prefix reads of one commit (a :class:`~loxo.storage.fileset.FilesetReader`)."""

    def get(self, path: str) -> FileEntry | None: ...

    def iter_prefix(self, prefix: str) -> Iterator[FileEntry]: ...


def affected_matches(glob: Glob, paths: Iterable[str]) -> set[str]:
    """The paths matching ``glob`` among ``paths`` and their ancestor directories (``/`` for
    the pattern ``/``, if any path is given): the only datums a change at ``paths`` can touch."""
    if glob.pattern == ROOT:
        return {ROOT} if any(True for _ in paths) else set()
    found: set[str] = set()
    seen: set[str] = set()
    match = glob.match
    for path in paths:
        i = path.find("/", 1)
        while i != -1:
            d = path[:i]
            if d not in seen:
                seen.add(d)
                if match(d) is not None:
                    found.add(d)
            i = path.find("/", i + 1)
        if path not in seen:
            seen.add(path)
            if match(path) is not None:
                found.add(path)
    return found


def changed_datums(
    spec: PfsInput, commit: str, tree: Tree, paths: Iterable[str]
) -> tuple[list[Datum], list[DatumID]]:
    """The datums of ``spec`` over ``tree`` (commit ``commit``) at the matches touched by
    ``paths``, in tree order, and the IDs of the touched matches that hold nothing now."""
    glob = compile_glob(spec.glob)
    make = match_datum_maker(spec, commit)
    found: list[tuple[str, Datum]] = []  # (tree-order key, datum)
    gone: list[DatumID] = []
    for path in sorted(affected_matches(glob, paths)):
        groups = glob.match(path)
        assert groups is not None
        entry = tree.get(path) if path != ROOT else None
        if entry is not None:
            found.append((path, make(GlobMatch(path, False, groups), [entry])))
            continue
        prefix = path if path == ROOT else path + "/"
        under = list(tree.iter_prefix(prefix))
        if under:
            found.append((prefix, make(GlobMatch(path, True, groups), under)))
        else:
            gone.append(pfs_datum_id(spec, path))
    found.sort(key=lambda kd: kd[0])  # a directory sorts as its path + '/' (tree order)
    return [d for _, d in found], gone
