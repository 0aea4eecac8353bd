"""The file objects of ``loxo://``: ranged reads of one pinned commit, spooled writes.

Reading: a :class:`LoxoFile` opened ``"rb"`` is pinned to the commit its path resolved to
when opened (a branch may move while it is read; its bytes must not). fsspec's buffered file
asks for byte ranges (``_fetch_range``) as the reader seeks and reads; each range is one
ranged read of the client, which reads only the chunks overlapping it, so a file is never
held whole in memory and a Parquet footer costs a chunk, not the file.

Writing (``"wb"``, ``"xb"``, ``"ab"``): bytes go to an anonymous temporary file (fsspec's
buffer flushes there block by block); on ``close`` the file is put, as one commit, or, inside
``fs.transaction``, into the transaction's write session, which becomes a commit when the
transaction ends (``commit``), or is thrown away (``discard``).
"""

from __future__ import annotations

import tempfile
from typing import IO, TYPE_CHECKING, Any

from fsspec.spec import AbstractBufferedFile

from .urls import Location

if TYPE_CHECKING:
    from .fsspec import LoxoFileSystem


class LoxoFile(AbstractBufferedFile):
    """One file of ``loxo://`` opened for reading or writing (see the module docstring)."""

    fs: LoxoFileSystem

    def __init__(
        self,
        fs: LoxoFileSystem,
        path: str,
        location: Location,
        mode: str = "rb",
        *,
        details: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.target = location
        self._spool: IO[bytes] | None = None
        if details is not None:
            self._details = details
            kwargs["size"] = details["size"]
        super().__init__(fs, path, mode, **kwargs)

    # --- reading ------------------------------------------------------------------------

    def _fetch_range(self, start: int, end: int) -> bytes:
        return self.fs.read_range(self.target, start, end)

    # --- writing ------------------------------------------------------------------------

    def _initiate_upload(self) -> None:
        self._spool = tempfile.TemporaryFile(prefix="loxo-fsspec-")  # noqa: SIM115 - until put

    def _upload_chunk(self, final: bool = False) -> bool:
        assert self._spool is not None
        self._spool.write(self.buffer.getbuffer())
        if final and self.autocommit:
            self.commit()
        return True

    def commit(self) -> None:
        """Put the spooled bytes (on close, or when the transaction ends)."""
        spool, self._spool = self._spool, None
        if spool is None:
            return
        with spool:
            spool.seek(0)
            self.fs.write_file(self.target, spool, append=self.mode == "ab")

    def discard(self) -> None:
        spool, self._spool = self._spool, None
        if spool is not None:
            spool.close()
