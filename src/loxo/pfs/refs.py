"""Commit references as users type them: the CLI's ancestry syntax, parsed without a database.

Grammar::

    ref_text  = [project "/"] repo ["@" ref [ancestry]] [":" path]
    ref       = branch | commit-id               (commit id: 32 lowercase hex characters)
    ancestry  = ("^" [N])+                       N-th ancestor; "^^" = "^2"; "^^3" = "^4"
              | "." N                            N-th commit from the branch start, N >= 1
              | ".-" N                           N-th ancestor, same as "^N"

Examples: ``images@master``, ``images@master^2``, ``images@master.1``, ``images@master.-1``,
``images@0123456789abcdef0123456789abcdef``, ``proj/images@dev:/a/b.png``, ``images:/a.png``
(the default branch). Names follow :func:`~loxo.pfs.paths.validate_name`; a path is
normalized with :func:`~loxo.pfs.paths.normalize_path`. Resolving a :class:`CommitRef` to a
commit is the business of the commit store, not of this module; :func:`format_ref` is the
inverse of :func:`parse_commit_ref`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loxo.errors import InvalidName, InvalidPath, InvalidRef
from loxo.pfs.paths import normalize_path, validate_name

__all__ = ["DEFAULT_PROJECT", "CommitRef", "format_ref", "is_commit_id", "parse_commit_ref"]

DEFAULT_PROJECT = "default"
_COMMIT_ID_RE = re.compile(r"[0-9a-f]{32}")
_ANCESTRY_RE = re.compile(r"\^[0-9]*")


@dataclass(frozen=True)
class CommitRef:
    """A parsed reference. ``ref`` None means the repo's default branch."""

    repo: str
    project: str = DEFAULT_PROJECT
    ref: str | None = None
    ancestors: int = 0
    index: int | None = None
    path: str | None = None

    def __post_init__(self) -> None:
        if self.ancestors < 0 or (self.index is not None and self.index < 1):
            raise ValueError(f"ancestors must be >= 0 and index >= 1: {self!r}")
        if self.ancestors and self.index is not None:
            raise ValueError(f"ancestors and index cannot both be set: {self!r}")


def is_commit_id(text: str) -> bool:
    """True if ``text`` has the form of a commit id: 32 lowercase hex characters."""
    return _COMMIT_ID_RE.fullmatch(text) is not None


def parse_commit_ref(
    text: str, *, allow_path: bool = False, default_project: str = DEFAULT_PROJECT
) -> CommitRef:
    """Parse ``text`` (grammar in the module docstring); raise :class:`InvalidRef` if malformed."""
    head, colon, raw_path = text.partition(":")
    path = None
    if colon:
        if not allow_path:
            raise InvalidRef(text, "a path is not allowed here")
        try:
            path = normalize_path(raw_path)
        except InvalidPath as err:
            raise InvalidRef(text, str(err)) from err
    where, at, commit = head.partition("@")
    project, _, repo = where.partition("/") if "/" in where else (default_project, "", where)
    _check_name(text, "project", project)
    if any(c in repo for c in "^."):
        raise InvalidRef(text, "ancestry (^, .N) follows a branch or commit: write repo@branch^")
    _check_name(text, "repo", repo)
    if not at:
        return CommitRef(repo, project, path=path)
    ref, ancestors, index = _split_ancestry(text, commit)
    if not is_commit_id(ref):
        _check_name(text, "branch", ref)
    return CommitRef(repo, project, ref, ancestors, index, path)


def format_ref(ref: CommitRef) -> str:
    """The text that :func:`parse_commit_ref` turns back into ``ref``."""
    if ref.ref is None and (ref.ancestors or ref.index is not None):
        raise ValueError(f"ancestry needs a branch or commit to count from: {ref!r}")
    text = ref.repo if ref.project == DEFAULT_PROJECT else f"{ref.project}/{ref.repo}"
    if ref.ref is not None:
        text += "@" + ref.ref
    if ref.index is not None:
        text += f".{ref.index}"
    elif ref.ancestors:
        text += "^" if ref.ancestors == 1 else f"^{ref.ancestors}"
    if ref.path is not None:
        text += ":" + ref.path
    return text


def _split_ancestry(text: str, commit: str) -> tuple[str, int, int | None]:
    """Split ``branch^2`` / ``branch.3`` / ``branch.-2`` into (ref, ancestors, index)."""
    cut = min((i for i in (commit.find("^"), commit.find(".")) if i != -1), default=len(commit))
    ref, suffix = commit[:cut], commit[cut:]
    if not ref:
        raise InvalidRef(text, "name a branch or a commit id after '@'")
    if not suffix:
        return ref, 0, None
    if suffix.startswith("."):
        negative = suffix.startswith(".-")
        digits = suffix[2:] if negative else suffix[1:]
        if not (digits.isascii() and digits.isdigit()):
            raise InvalidRef(text, f"expected a number after {suffix[: 1 + negative]!r}")
        if negative:
            return ref, int(digits), None
        if int(digits) == 0:
            raise InvalidRef(text, "commit positions start at 1 (.1 is the first commit)")
        return ref, 0, int(digits)
    steps = _ANCESTRY_RE.findall(suffix)
    if sum(map(len, steps)) != len(suffix):
        raise InvalidRef(text, f"cannot read {suffix!r}: write '^', '^N', '.N' or '.-N'")
    return ref, sum(int(s[1:]) if len(s) > 1 else 1 for s in steps), None


def _check_name(text: str, kind: str, name: str) -> None:
    try:
        validate_name(kind, name)
    except InvalidName as err:
        raise InvalidRef(text, str(err)) from err
