"""Cutting ref text (``repo@ref:/path``) where a command needs its parts apart.

Most commands hand the text to the client whole; the grammar itself lives in
:mod:`loxo.pfs.refs`. Names never contain ``:``, so the first ``:`` always starts the path
(or, for ``glob file``, the pattern, whose glob characters a ref's path would reject).
"""

from __future__ import annotations

import click

from loxo.errors import InvalidRef
from loxo.pfs.refs import CommitRef, is_commit_id, parse_commit_ref

__all__ = ["branch_ref", "is_commit_id", "require_path", "split_path"]


def split_path(text: str) -> tuple[str, str | None]:
    """``"images@master:/a"`` -> ``("images@master", "/a")``; no ``:`` gives ``None``."""
    ref, colon, path = text.partition(":")
    return ref, (path if colon else None)


def require_path(text: str, what: str) -> tuple[str, str]:
    """Like :func:`split_path`, but the path part must be there (a usage error otherwise)."""
    ref, path = split_path(text)
    if path is None:
        raise click.UsageError(f"{text!r} names no {what}: write REPO@BRANCH:{what.upper()}")
    return ref, path


def branch_ref(text: str, *, default: str | None = None) -> CommitRef:
    """Parse ``repo@branch`` (no ancestry, no path); ``default`` stands in for a missing
    ``@branch``, which is an error without it."""
    ref = parse_commit_ref(text)
    if ref.ancestors or ref.index is not None:
        raise InvalidRef(text, "name a branch here, without ancestry (^, .N)")
    if ref.ref is None:
        if default is None:
            raise InvalidRef(text, "name a branch: REPO@BRANCH")
        return CommitRef(ref.repo, ref.project, default)
    return ref
