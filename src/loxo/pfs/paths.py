"""File paths and object names in PFS.

A PFS **path** is absolute and ``/``-separated: ``/a/b/c.txt``. Its canonical form, the only one
stored or compared, has exactly one leading ``/``, no empty parts (``//``), no trailing ``/``,
and is ``/`` for the root directory. :func:`normalize_path` turns what users type
(``a//b/``) into that form and rejects what can never be a file name:

- ``.`` and ``..`` parts (paths are never relative);
- characters that are not printable (control characters such as newline and tab);
- glob metacharacters ``* ? [ ] { } ! ( ) @ + ^``, so that any path can be written as a glob
  pattern that matches exactly itself.

Directories are implicit: a directory exists while some file lies under it.
:func:`parent_dirs`, :func:`dirname`, :func:`basename`, :func:`join` and :func:`is_under` work
on canonical paths and never touch storage.

A **name** (project, repo, branch, pipeline) is 1 to 63 ASCII letters, digits, ``-`` or
``_``, not starting with ``-`` (a command line would take ``-x`` for an option); see
:func:`validate_name`.
"""

from __future__ import annotations

import re

from loxo.errors import InvalidName, InvalidPath

__all__ = [
    "GLOB_CHARS",
    "MAX_NAME_LENGTH",
    "ROOT",
    "basename",
    "dirname",
    "is_under",
    "join",
    "normalize_path",
    "parent_dirs",
    "validate_name",
]

ROOT = "/"
GLOB_CHARS = frozenset("*?[]{}!()@+^")
MAX_NAME_LENGTH = 63

_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
_BAD_NAME_CHAR_RE = re.compile(r"[^A-Za-z0-9_-]")


def normalize_path(path: str, allow_root: bool = True) -> str:
    """Return the canonical form of ``path``; raise :class:`InvalidPath` if it cannot be one.

    ``""``, ``"/"`` and ``"//"`` all name the root; with ``allow_root=False`` (a file is
    wanted) the root is an error.
    """
    if (  # already canonical, as most paths are (loxo made them): nothing to split
        path[:1] == "/"
        and path[-1] != "/"
        and "//" not in path
        and "/." not in path  # no "." or ".." part (a name starting with "." goes the long way)
        and path.isprintable()
        and GLOB_CHARS.isdisjoint(path)
    ):
        return path
    if not path.isprintable():
        bad = next(c for c in path if not c.isprintable())
        raise InvalidPath(path, f"character {bad!r} is not printable")
    if not GLOB_CHARS.isdisjoint(path):
        bad = next(c for c in path if c in GLOB_CHARS)
        raise InvalidPath(
            path,
            f"character {bad!r} is a glob character; glob characters "
            "(* ? [ ] { } ! ( ) @ + ^) are not allowed in file names",
        )
    parts = [p for p in path.split("/") if p]
    for part in parts:
        if part in (".", ".."):
            raise InvalidPath(path, f"{part!r} parts are not allowed; paths are absolute")
    if not parts:
        if not allow_root:
            raise InvalidPath(ROOT, "is the root directory, not a file")
        return ROOT
    return "/" + "/".join(parts)


def parent_dirs(path: str) -> list[str]:
    """The proper ancestor directories of a canonical path, outermost first, root excluded.

    ``parent_dirs("/a/b/c.txt") == ["/a", "/a/b"]``.
    """
    dirs = []
    i = path.find("/", 1)
    while i != -1:
        dirs.append(path[:i])
        i = path.find("/", i + 1)
    return dirs


def dirname(path: str) -> str:
    """The directory holding a canonical path: ``dirname("/a/b") == "/a"``, ``"/a"`` -> ``"/"``."""
    return path[: path.rfind("/")] or ROOT


def basename(path: str) -> str:
    """The last part of a canonical path: ``basename("/a/b.txt") == "b.txt"``; root gives ``""``."""
    return path[path.rfind("/") + 1 :]


def join(directory: str, name: str) -> str:
    """Join a directory and a relative name (which may hold ``/``) into a canonical path."""
    return normalize_path(directory + "/" + name)


def is_under(path: str, directory: str) -> bool:
    """True if canonical ``path`` is ``directory`` itself or lies anywhere beneath it."""
    if directory == ROOT:
        return True
    return path == directory or path.startswith(directory + "/")


def validate_name(kind: str, name: str) -> str:
    """Return ``name`` if it is a valid ``kind`` name (project, repo, branch), else raise.

    Valid: 1 to 63 characters, each an ASCII letter, digit, ``-`` or ``_``, the first not
    ``-``. A ref given where a name is expected (``images@master``) is told as such.
    """
    if not name:
        raise InvalidName(kind, name, "it is empty")
    if "@" in name:
        repo, _, ref = name.partition("@")
        raise InvalidName(
            kind,
            name,
            f"it is a ref (REPO@BRANCH), not a {kind} name; pass the repo ({repo!r}) and the "
            f"branch or commit ({ref!r}) separately",
        )
    if name.startswith("-"):
        raise InvalidName(
            kind,
            name,
            "it starts with '-', so a command line would take it for an option; "
            "start it with a letter, a digit or '_'",
        )
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(
            kind, name, f"it has {len(name)} characters; at most {MAX_NAME_LENGTH} are allowed"
        )
    if not _NAME_RE.fullmatch(name):
        bad = _BAD_NAME_CHAR_RE.search(name)
        assert bad is not None
        raise InvalidName(
            kind,
            name,
            f"character {bad.group()!r} is not allowed; use letters, digits, '-' and '_'",
        )
    return name
