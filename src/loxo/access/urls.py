"""``loxo://`` URLs: where a path of the fsspec filesystem points in loxo.

Grammar (after fsspec strips ``loxo://``)::

    path      = ""                                   the root: the repos of the default project
              | where ["/" file-path]
    where     = [project "/"] repo "@" ref           ref: branch, commit ID, with ancestry
              | repo                                 the repo's default branch

Examples: ``images@master/a/b.png``, ``images@master^1/a.csv``, ``images@master.2``,
``images@0123456789abcdef0123456789abcdef/x``, ``proj/images@dev/x``, ``images/a/b.png``
(the default branch). A project needs the ``@``: without it the first part is the repo.
The ``@`` is unambiguous because loxo file paths never contain one (:mod:`loxo.pfs.paths`).

A :class:`Location` keeps the ``where`` part exactly as the user wrote it, so that the names
the filesystem returns (``ls``, ``find``) start the way the user's path did and can be passed
back. Pure: no client, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from loxo.pfs.core import DEFAULT_BRANCH
from loxo.pfs.paths import normalize_path
from loxo.pfs.refs import CommitRef, is_commit_id, parse_commit_ref


@dataclass(frozen=True)
class Location:
    """A file or directory of one commit: ``where`` as written, its parsed ref, a PFS path."""

    where: str
    ref: CommitRef
    path: str

    @property
    def ref_text(self) -> str:
        """The loxo ref of the commit (``proj/repo@ref^1``), as the client takes it."""
        return self.where if "/" in self.where else f"{self.ref.project}/{self.where}"

    @property
    def file_ref(self) -> str:
        """The loxo ref of the file itself (``proj/repo@ref:/path``), for a copy's source."""
        return f"{self.ref_text}:{self.path}"

    def name(self, pfs_path: str) -> str:
        """The filesystem name of ``pfs_path`` in this commit, starting with ``where``."""
        return self.where if pfs_path == "/" else self.where + pfs_path

    def pinned(self, commit_id: str) -> Location:
        """The same path in commit ``commit_id`` (a branch moves; a read must not)."""
        ref = CommitRef(self.ref.repo, self.ref.project, commit_id)
        return Location(f"{ref.project}/{ref.repo}@{commit_id}", ref, self.path)

    @property
    def branch(self) -> str | None:
        """The branch this location writes to, or None when it names a commit (an ID, an
        ancestor or a numbered commit of a branch), which is read-only."""
        ref = self.ref
        if ref.ancestors or ref.index is not None or (ref.ref and is_commit_id(ref.ref)):
            return None
        return ref.ref or DEFAULT_BRANCH


def parse_location(path: str) -> Location | None:
    """The location of a stripped ``loxo://`` path; None for the root. Raises
    :class:`~loxo.errors.InvalidRef` (or ``InvalidPath``) for a malformed one."""
    path = path.strip("/")
    if not path:
        return None
    parts = path.split("/")
    n = 2 if len(parts) > 1 and "@" not in parts[0] and "@" in parts[1] else 1
    where, rest = "/".join(parts[:n]), parts[n:]
    return Location(where, parse_commit_ref(where), normalize_path("/" + "/".join(rest)))
