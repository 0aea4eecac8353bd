"""Writing and reading trees over HTTP: a remote :class:`ModifyFile` (an upload session on
the server; each file or tree streams in its own request and the session becomes one commit
on :meth:`RemoteModifyFile.close`), and extracting a server's tar stream safely."""

from __future__ import annotations

import io
import os
import tarfile
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from loxo.errors import InvalidArgumentError, StorageError, TransientError
from loxo.pfs.download import write_file
from loxo.pfs.model import CommitInfo

from .wire import decode

if TYPE_CHECKING:
    from .transport import Transport

Progress = Callable[[int], None]
BLOCK = 1 << 20
BATCH_FILE = 256 * 1024  # whole files up to this size are sent in batches...
BATCH_FILES = 2000  # ...of at most this many files
BATCH_BYTES = 8 << 20  # ...or this many bytes


def stream_file(f: BinaryIO, progress: Progress | None = None) -> Iterator[bytes]:
    """A file object's bytes in blocks, as a request body."""
    while block := f.read(BLOCK):
        if progress is not None:
            progress(len(block))
        yield block


def _tar_of_dir(local_dir: Path, progress: Progress | None) -> Iterator[bytes]:
    """An uncompressed tar of the regular files under ``local_dir``, made as it is sent."""
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def write() -> None:
        try:
            with os.fdopen(write_fd, "wb") as out, tarfile.open(fileobj=out, mode="w|") as tar:
                for root, dirs, files in os.walk(local_dir):
                    dirs.sort()
                    for name in sorted(files):
                        full = Path(root) / name
                        if full.is_file():
                            tar.add(full, arcname=str(full.relative_to(local_dir)))
        except BaseException as err:  # reported by the reading side
            failure.append(err)

    thread = threading.Thread(target=write, name="loxo-tar", daemon=True)
    thread.start()
    with os.fdopen(read_fd, "rb") as pipe:
        yield from stream_file(pipe, progress)
    thread.join()
    if failure:
        err = failure[0]
        raise StorageError(f"cannot read the directory {str(local_dir)!r}: {err}") from err


class RemoteModifyFile:
    """Writes to ``repo@branch`` on a server; use as a context manager (``close`` on
    success, ``abort`` on an exception). Nothing is visible until ``close``."""

    def __init__(
        self,
        remote: Transport,
        ref: str,
        *,
        description: str = "",
        progress: Progress | None = None,
    ) -> None:
        self._remote, self._progress = remote, progress
        data = remote.post("/api/v1/uploads", {"ref": ref, "description": description})
        self._url = f"/api/v1/uploads/{data['id']}"
        self.commit: CommitInfo | None = None
        self._batch: list[tuple[str, bytes]] = []
        self._batch_bytes = 0

    def _put(self, what: str, body: bytes | Iterator[bytes], **params: object) -> dict:
        result: dict = self._remote.request(
            "PUT", f"{self._url}/{what}", params=params, content=body, wait=True
        )
        return result

    def put_file(self, path: str, data: bytes | BinaryIO, *, append: bool = False) -> None:
        """Small whole files wait in a batch that goes as one tar stream (order kept: any
        other operation sends the batch first)."""
        if isinstance(data, bytes) and not append and len(data) <= BATCH_FILE:
            if self._progress is not None:
                self._progress(len(data))
            self._batch.append((path, data))
            self._batch_bytes += len(data)
            if len(self._batch) >= BATCH_FILES or self._batch_bytes >= BATCH_BYTES:
                self._send_batch()
            return
        self._send_batch()
        if isinstance(data, bytes):
            if self._progress is not None:
                self._progress(len(data))
            self._put("file", data, path=path, append=append)
        else:
            self._put("file", stream_file(data, self._progress), path=path, append=append)

    def _send_batch(self) -> None:
        if not self._batch:
            return
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path, data in self._batch:
                info = tarfile.TarInfo(path.lstrip("/"))
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        self._batch, self._batch_bytes = [], 0
        self._put("tar", buf.getvalue(), dest="/")

    def put_file_path(self, path: str, local: str | Path, *, append: bool = False) -> None:
        try:
            f = open(local, "rb")  # noqa: SIM115 - closed below
        except OSError as err:
            raise StorageError(f"cannot read {str(local)!r}: {err.strerror}") from err
        with f:
            self.put_file(path, f, append=append)

    def put_dir(self, dest: str, local_dir: str | Path, *, append: bool = False) -> int:
        """Upload every regular file under ``local_dir`` to ``dest/<relative path>`` (one
        tar stream; file by file when appending)."""
        local = Path(local_dir)
        self._send_batch()
        if append:
            n = 0
            for root, _, files in os.walk(local):
                for name in sorted(files):
                    full = Path(root) / name
                    rel = full.relative_to(local).as_posix()
                    self.put_file_path(f"{dest.rstrip('/')}/{rel}", full, append=True)
                    n += 1
            return n
        return int(self._put("tar", _tar_of_dir(local, self._progress), dest=dest)["files"])

    def put_tar(self, dest: str, stream: BinaryIO) -> int:
        self._send_batch()
        return int(self._put("tar", stream_file(stream, self._progress), dest=dest)["files"])

    def put_url(self, path: str, url: str, *, untar: bool = False, append: bool = False) -> int:
        """``file://`` URLs are read here; ``http(s)://`` ones are fetched by the server."""
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme == "file":
            local = Path(urllib.parse.unquote(parsed.path))
            if untar:
                with open(local, "rb") as f:
                    return self.put_tar(path, f)
            if local.is_dir():
                return self.put_dir(path, local, append=append)
            self.put_file_path(path, local, append=append)
            return 1
        if parsed.scheme not in ("http", "https"):
            raise InvalidArgumentError(f"unsupported URL {url!r}: use file://, http:// or https://")
        self._send_batch()
        body = {"path": path, "url": url, "untar": untar, "append": append}
        return int(self._remote.post(f"{self._url}/url", body, wait=True)["files"])

    def delete_file(self, path: str) -> None:
        self._send_batch()
        self._remote.request("DELETE", f"{self._url}/file", params={"path": path})

    def copy_file(self, src_ref: str, dst_path: str) -> int:
        self._send_batch()
        return int(
            self._remote.post(f"{self._url}/copy", {"src": src_ref, "dst": dst_path})["files"]
        )

    def close(self) -> CommitInfo:
        self._send_batch()
        self.commit = decode(CommitInfo, self._remote.post(f"{self._url}/finish", wait=True))
        return self.commit

    def abort(self) -> None:
        try:
            self._remote.request("DELETE", self._url)
        except Exception:  # the session may be gone already; nothing became visible anyway
            pass

    def __enter__(self) -> RemoteModifyFile:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class _ChunkReader:
    """A file object over an iterator of byte chunks (for ``tarfile`` in stream mode)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._buf, self._pos = chunks, b"", 0
        self.delivered = 0  # bytes returned by read()

    def read(self, n: int = -1) -> bytes:
        parts: list[bytes] = []
        want = n
        while want != 0:
            if self._pos >= len(self._buf):
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._buf, self._pos = chunk, 0
            end = len(self._buf) if want < 0 else min(len(self._buf), self._pos + want)
            parts.append(self._buf[self._pos : end])
            if want > 0:
                want -= end - self._pos
            self._pos = end
        data = b"".join(parts)
        self.delivered += len(data)
        return data


def _members(chunks: Iterator[bytes]) -> Iterator[tuple[tarfile.TarInfo, Iterator[bytes]]]:
    """The members of a tar stream, each with its content in blocks, then a check that the
    stream reached its end-of-archive block. ``tarfile`` takes a stream that stops between
    two members for a complete one, and raises its own ``ReadError`` for a member cut short:
    both become one :class:`~loxo.errors.TransientError`."""
    reader = _ChunkReader(chunks)
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                src = tar.extractfile(member) if member.isfile() else None
                yield member, _blocks(src)
            # the end-of-archive block is a whole block of zeros read after the last member
            complete = reader.delivered >= tar.offset + tarfile.BLOCKSIZE
    except tarfile.ReadError as err:
        raise _cut_short(str(err)) from err
    if not complete:
        raise _cut_short(f"no end-of-archive after {reader.delivered} bytes")


def _blocks(src: BinaryIO | None) -> Iterator[bytes]:
    try:
        while src is not None and (block := src.read(BLOCK)):
            yield block
    except tarfile.ReadError as err:
        raise _cut_short(str(err)) from err


def _cut_short(why: str) -> TransientError:
    return TransientError(
        f"the server's tar stream is cut short ({why}); the server's log says why "
        "(for a corrupt object, run `loxo fsck` on the server's home)"
    )


def copy_tar(chunks: Iterator[bytes], out: BinaryIO) -> int:
    """Write a tar stream to ``out`` as it arrives; the number of files in it (counted
    from the same stream)."""

    def tee() -> Iterator[bytes]:
        for chunk in chunks:
            out.write(chunk)
            yield chunk

    passing = tee()
    files = sum(1 for member, _ in _members(passing) if member.isfile())
    for _ in passing:  # the end-of-archive padding after the last member
        pass
    return files


def extract_tar(chunks: Iterator[bytes], dest: Path, progress: Progress | None = None) -> int:
    """Write the regular files of a tar stream under ``dest``, each all or nothing (a stream
    that breaks off inside a member leaves no part of it); member names must stay inside
    ``dest``. The number of files written."""
    n = 0
    for member, blocks in _members(chunks):
        if not member.isfile():
            continue
        rel = PurePosixPath(member.name)
        if rel.is_absolute() or ".." in rel.parts:
            raise InvalidArgumentError(f"refusing tar member {member.name!r} outside {dest}")
        write_file(dest / rel, blocks, progress)
        n += 1
    return n
