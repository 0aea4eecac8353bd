"""``pfs_v2.API/ModifyFile``: one client stream of writes = one loxo write session.

The stream starts with ``set_commit`` (a branch, or the open commit that ``StartCommit``
made); the writes after it go into one :class:`~loxo.pfs.files_write.ModifyFile` session,
applied when the stream ends: into the open commit, or else as one new commit on the branch.
A later ``set_commit`` closes the session and opens the next. A stream that fails or is
cancelled applies nothing.

As in Pachyderm 2.x, ``add_file`` *appends* (``put_file_from_bytes`` sends ``delete_file``
first to overwrite), and consecutive ``add_file`` messages for one path are one upload: their
bytes are read as one stream, straight from the wire into the store, never whole in memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import betterproto
from betterproto.lib.google.protobuf import Empty
from pachyderm_sdk.api import pfs

from loxo.errors import InvalidArgumentError
from loxo.pfs.files_write import ModifyFile

from . import convert_pfs as conv
from .errors import Unsupported
from .rpc import Ctx, Table

if TYPE_CHECKING:
    from loxo.service import Service


class _Requests:
    """The request stream, with one message of lookahead."""

    def __init__(self, requests: Iterable[pfs.ModifyFileRequest]) -> None:
        self._it = iter(requests)
        self._ahead: list[pfs.ModifyFileRequest] = []

    def __iter__(self) -> Iterator[pfs.ModifyFileRequest]:
        return self

    def __next__(self) -> pfs.ModifyFileRequest:
        return self._ahead.pop() if self._ahead else next(self._it)

    def peek(self) -> pfs.ModifyFileRequest | None:
        if not self._ahead:
            try:
                self._ahead.append(next(self._it))
            except StopIteration:
                return None
        return self._ahead[-1]


class _RawStream(io.RawIOBase):
    """The bytes of a run of ``add_file(raw=...)`` messages for one path, as a file."""

    def __init__(self, first: bytes, path: str, requests: _Requests) -> None:
        self._buf = memoryview(first)
        self._path, self._requests = path, requests

    def readable(self) -> bool:
        return True

    def _refill(self) -> bool:
        while not self._buf:
            nxt = self._requests.peek()
            add = nxt.add_file if nxt is not None else None
            if not add or add.path != self._path:
                return False
            if betterproto.which_one_of(add, "source")[0] != "raw":
                return False
            next(self._requests)
            self._buf = memoryview(add.raw or b"")
        return True

    def readinto(self, out: bytearray | memoryview) -> int:  # type: ignore[override]
        got = 0
        while got < len(out) and self._refill():
            n = min(len(out) - got, len(self._buf))
            out[got : got + n] = self._buf[:n]
            self._buf, got = self._buf[n:], got + n
        return got

    def read(self, size: int = -1) -> bytes:
        """Exactly ``size`` bytes unless the run ends first (the chunker needs full reads)."""
        if size < 0:
            return self.readall()
        out = bytearray(size)
        return bytes(out[: self.readinto(out)])


class ModifyApi:
    def __init__(self, svc: Service) -> None:
        self.svc = svc

    def table(self) -> Table:
        return {"pfs_v2.API/ModifyFile": (pfs.ModifyFileRequest, self.modify_file)}

    def modify_file(self, requests: Iterable[pfs.ModifyFileRequest], ctx: Ctx) -> Empty:
        reqs = _Requests(requests)
        session: ModifyFile | None = None
        writes = 0
        try:
            for req in reqs:
                kind, body = betterproto.which_one_of(req, "body")
                if body is None:
                    raise InvalidArgumentError("ModifyFile: a request with no operation")
                if kind == "set_commit":
                    _close(session, writes)
                    session, writes = None, 0
                    session = self.svc.modify_file(conv.commit_text(body))
                    continue
                if session is None:
                    raise InvalidArgumentError("ModifyFile: the first request must be set_commit")
                writes += 1
                if kind == "add_file":
                    _add(session, body, reqs)
                elif kind == "delete_file":
                    session.delete_file(body.path)
                elif kind == "copy_file":
                    if body.append:
                        raise Unsupported("CopyFile with append")
                    src, path = conv.file_ref(body.src)
                    session.copy_file(f"{src}:{path}", body.dst)
            _close(session, writes)
        except BaseException:
            if session is not None:
                session.abort()
            raise
        return Empty()


def _add(session: ModifyFile, add: pfs.AddFile, requests: _Requests) -> None:
    source, value = betterproto.which_one_of(add, "source")
    if source == "raw":
        stream = _RawStream(value or b"", add.path, requests)
        session.put_file(add.path, stream, append=True)  # type: ignore[arg-type]
    elif source == "url" and value is not None:
        session.put_url(add.path, value.url, append=True)
    else:
        raise InvalidArgumentError(f"AddFile {add.path!r}: give raw bytes or a URL")


def _close(session: ModifyFile | None, writes: int) -> None:
    """Apply a session's writes (a session without writes makes no commit)."""
    if session is None:
        return
    if writes:
        session.close()
    else:
        session.abort()
