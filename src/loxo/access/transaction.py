"""``with fs.transaction:`` as loxo commits: one write session per branch written.

fsspec's :class:`~fsspec.transaction.Transaction` defers the files written inside it and,
at the end, commits them all (or discards them all on an exception). Here every write of
the filesystem (files closed, ``pipe``, ``rm``, copies) goes into a loxo write session
(``client.modify_file``) opened on first use for its branch; when the transaction ends the
sessions close, each one commit, or are aborted and leave their branches as they were.
Nothing written inside is visible, even to reads inside it, before the end.

A write outside any transaction runs in a transaction of its own: one closed file, one
``pipe``, one ``rm`` or one ``put``/``copy``/``mv`` call is one commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fsspec.transaction import Transaction

from loxo.pfs.model import CommitInfo

from .errors import builtin_errors
from .urls import Location

if TYPE_CHECKING:
    from .fsspec import LoxoFileSystem


class LoxoTransaction(Transaction):
    """Write sessions by branch, closed together when the transaction completes."""

    fs: LoxoFileSystem

    def __init__(self, fs: LoxoFileSystem, **kwargs: Any) -> None:
        super().__init__(fs, **kwargs)
        self._sessions: dict[tuple[str, str, str], Any] = {}
        self.commits: list[CommitInfo] = []
        """The commits the transaction made, once complete."""

    def session(self, location: Location, branch: str) -> Any:
        """The write session on ``location``'s repo at ``branch`` (opened on first use)."""
        key = (location.ref.project, location.ref.repo, branch)
        if key not in self._sessions:
            ref = f"{key[0]}/{key[1]}@{branch}"
            with builtin_errors():
                self._sessions[key] = self.fs.client.modify_file(ref)
        return self._sessions[key]

    def complete(self, commit: bool = True) -> None:
        """Put or discard the deferred files, then close or abort every session."""
        ok = False
        try:
            super().complete(commit)
            ok = commit
        finally:
            sessions, self._sessions = list(self._sessions.values()), {}
            self._end(sessions, ok)

    def _end(self, sessions: list[Any], commit: bool) -> None:
        for i, session in enumerate(sessions):
            if not commit:
                session.abort()
                continue
            try:
                with builtin_errors():
                    self.commits.append(session.close())
            except BaseException:
                for rest in sessions[i + 1 :]:
                    rest.abort()
                raise
