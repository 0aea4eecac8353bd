"""``with fs.transaction:`` as loxo commits: one write session per branch written.

fsspec's :class:`~fsspec.transaction.Transaction` defers the files written inside it and,
at the end, commits them all (or discards them all on an exception). Here every write of
the filesystem (files closed, ``pipe``, ``rm``, copies) goes into a loxo write session
(``client.modify_file``) opened on first use for its branch; when the transaction ends the
sessions close, each one commit, or are aborted and leave their branches as they were.
Nothing written inside is visible, even to reads inside it, before the end.

Outside any transaction, each closed file, ``pipe_file``, ``cp_file`` and one-path ``rm``
is a commit of its own (:class:`OwnCommit`, the client's one-call writes); a call that writes
many paths (``put``, ``copy``, ``mv``, ``rm`` of several, ``pipe`` of a dict) runs in a
transaction of its own: one commit.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, Protocol

from fsspec.transaction import Transaction

from loxo.pfs.model import CommitInfo

from .errors import builtin_errors
from .urls import Location

if TYPE_CHECKING:
    from .fsspec import LoxoFileSystem


class Writes(Protocol):
    """What a write goes into: a loxo write session, or :class:`OwnCommit`."""

    def put_file(self, path: str, data: IO[bytes], *, append: bool = False) -> Any: ...

    def delete_file(self, path: str) -> Any: ...

    def copy_file(self, src_ref: str, dst_path: str) -> Any: ...


class OwnCommit:
    """Writes to ``ref`` (a branch), each one commit of its own (one request remotely)."""

    def __init__(self, client: Any, ref: str) -> None:
        self.client, self.ref = client, ref

    def put_file(self, path: str, data: IO[bytes], *, append: bool = False) -> CommitInfo:
        return self.client.put_file(self.ref, path, data, append=append)

    def delete_file(self, path: str) -> CommitInfo:
        return self.client.delete_file(self.ref, path)

    def copy_file(self, src_ref: str, dst_path: str) -> CommitInfo:
        return self.client.copy_file(src_ref, self.ref, dst_path)


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
