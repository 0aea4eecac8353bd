"""Writing files: a :class:`ModifyFile` session collects puts, appends, copies and deletes.

Bytes go to the object store as they are read (chunked, deduplicated, packed); the path
operations stay in memory until :meth:`ModifyFile.close`, which applies them in one step:
into the branch's open commit (staged, in one DB transaction), or as a new commit made
atomically. Until then nothing is visible, so a killed ``put file -r`` leaves the branch as
it was. The session holds a writer *lease* (:mod:`.leases`, heartbeating while the session is
open) so garbage collection spares what it uploads; it confirms the lease just before it
commits, so a session that lost it (paused past its TTL) commits nothing.
"""

from __future__ import annotations

import http.client
import os
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from loxo.errors import FileNotFound, InvalidArgumentError, StorageError
from loxo.storage.blobs import BlobWriter, PendingFile

from .leases import lease
from .model import CommitInfo
from .paths import normalize_path
from .staging import APPEND, DELETE, PUT, Op

if TYPE_CHECKING:
    from .api import PFS

Progress = Callable[[int], None]
READ_THREADS = 2
READ_BATCH = 64  # files per read-ahead task
READ_AHEAD = 8  # batches read ahead of the hashing thread
SMALL_FILE = 1024 * 1024  # read whole by the read-ahead threads


class ModifyFile:
    """Writes to ``repo@branch``; use as a context manager (``close`` on success)."""

    def __init__(
        self,
        pfs: PFS,
        repo: str,
        branch: str,
        *,
        project: str,
        description: str = "",
        progress: Progress | None = None,
    ) -> None:
        self._pfs = pfs
        self.repo, self.branch, self.project = repo, branch, project
        self.description = description
        pfs._repo_id(repo, project)  # fail early on an unknown repo
        self._stack = ExitStack()
        self._lease = self._stack.enter_context(lease(pfs.db))
        self._writer = BlobWriter(pfs.store, pfs.index, on_bytes=progress)
        self._ops: list[tuple[str, str, PendingFile | None, Op | None]] = []
        self.commit: CommitInfo | None = None

    # --- operations -----------------------------------------------------------------

    def put_file(self, path: str, data: bytes | BinaryIO, *, append: bool = False) -> None:
        path = normalize_path(path, allow_root=False)
        if isinstance(data, bytes | bytearray):
            pending = self._writer.add_bytes(bytes(data))
        else:
            pending = self._writer.add(data)
        self._ops.append((APPEND if append else PUT, path, pending, None))

    def put_file_path(self, path: str, local: str | Path, *, append: bool = False) -> None:
        try:
            with open(local, "rb") as f:
                self.put_file(path, f, append=append)
        except FileNotFoundError as err:
            raise FileNotFound("the local file system", str(local)) from err
        except IsADirectoryError as err:
            raise InvalidArgumentError(
                f"{str(local)!r} is a directory; use -r to upload a directory"
            ) from err
        except OSError as err:
            raise StorageError(f"cannot read {str(local)!r}: {err.strerror}") from err

    def put_dir(self, dest: str, local_dir: str | Path, *, append: bool = False) -> int:
        """Upload every regular file under ``local_dir`` to ``dest/<relative path>``."""
        root = Path(local_dir)
        if not root.is_dir():
            raise InvalidArgumentError(f"{str(local_dir)!r} is not a directory")
        dest = normalize_path(dest)
        n = 0
        base = dest.rstrip("/") + "/"
        # small files are read ahead in batches by threads (the syscalls release the GIL),
        # so reading overlaps hashing; big ones stream in this thread
        ahead: deque[tuple[list[tuple[str, str]], Future[list[bytes | None]]]] = deque()
        with ThreadPoolExecutor(READ_THREADS) as pool:
            for batch in _batched(_walk(root), READ_BATCH):
                ahead.append((batch, pool.submit(_read_batch, [f for _, f in batch])))
                if len(ahead) > READ_AHEAD:
                    n += self._put_batch(base, *ahead.popleft(), append=append)
            while ahead:
                n += self._put_batch(base, *ahead.popleft(), append=append)
        return n

    def _put_batch(
        self,
        base: str,
        batch: list[tuple[str, str]],
        contents: Future[list[bytes | None]],
        *,
        append: bool,
    ) -> int:
        for (rel, full), content in zip(batch, contents.result(), strict=True):
            if content is None:
                self.put_file_path(base + rel, full, append=append)
            else:
                self.put_file(base + rel, content, append=append)
        return len(batch)

    def put_tar(self, dest: str, stream: BinaryIO) -> int:
        """Expand a tar stream under ``dest``."""
        dest = normalize_path(dest).rstrip("/")
        n = 0
        try:
            with tarfile.open(fileobj=stream, mode="r|*") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    f = tar.extractfile(member)
                    assert f is not None
                    name = member.name
                    while name.startswith("./"):
                        name = name[2:]
                    self.put_file(dest + "/" + name, f)  # type: ignore[arg-type]
                    n += 1
        except tarfile.TarError as err:
            raise InvalidArgumentError(f"not a valid tar stream: {err}") from err
        return n

    def put_url(self, path: str, url: str, *, untar: bool = False, append: bool = False) -> int:
        """Fetch ``file://`` or ``http(s)://`` content into ``path``."""
        if url.startswith("file://"):
            parsed = urllib.parse.urlparse(url)
            if parsed.netloc not in ("", "localhost"):
                raise InvalidArgumentError(
                    f"unsupported URL {url!r}: file:// URLs must name a local path "
                    "(file:///abs/path)"
                )
            local = Path(urllib.parse.unquote(parsed.path))
            if local.is_dir():
                return self.put_dir(path, local, append=append)
            if untar:
                with _open_local(local) as f:
                    return self.put_tar(path, f)
            self.put_file_path(path, local, append=append)
            return 1
        if url.startswith(("http://", "https://")):
            try:
                with urllib.request.urlopen(url, timeout=60) as resp:
                    if untar:
                        return self.put_tar(path, resp)
                    self.put_file(path, resp, append=append)
                    return 1
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
                raise InvalidArgumentError(f"cannot fetch {url!r}: {err}") from err
        raise InvalidArgumentError(
            f"unsupported URL {url!r}: use file://, http:// or https:// (s3:// needs an S3 store)"
        )

    def delete_file(self, path: str) -> None:
        self._ops.append((DELETE, normalize_path(path), None, None))

    def copy_file(self, src_ref: str, dst_path: str) -> int:
        """Copy a file or a directory (``repo@ref:/path``) to ``dst_path`` by reference."""
        res = self._pfs.resolve(src_ref)
        src = res.path or "/"
        dst = normalize_path(dst_path)
        reader = self._pfs._reader(self._pfs.read_root(res))
        entry = reader.get(src) if src != "/" else None
        n = 0
        if entry is not None:
            self._ops.append((PUT, dst, None, Op(PUT, dst, entry.refs, entry.size, entry.hash)))
            return 1
        prefix = "/" if src == "/" else src + "/"
        for e in reader.iter_prefix(prefix):
            target = dst.rstrip("/") + "/" + e.path[len(prefix) :]
            self._ops.append((PUT, target, None, Op(PUT, target, e.refs, e.size, e.hash)))
            n += 1
        if n == 0:
            raise FileNotFound(res.where, src)
        return n

    # --- lifetime -------------------------------------------------------------------

    def close(self) -> CommitInfo:
        """Apply the operations as one commit (or into the open commit)."""
        try:
            self._writer.flush()
            ops: list[Op] = []
            for kind, path, pending, op in self._ops:
                if op is not None:
                    ops.append(op)
                elif pending is not None:
                    assert pending.content is not None
                    c = pending.content
                    ops.append(Op(kind, path, tuple(c.refs), c.size, c.hash))
                else:
                    ops.append(Op(kind, path))
            self._lease.confirm()
            self.commit = self._pfs.commit_ops(
                self.repo, self.branch, ops, project=self.project, description=self.description
            )
            return self.commit
        finally:
            self._stack.close()

    def abort(self) -> None:
        self._stack.close()

    def __enter__(self) -> ModifyFile:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _walk(root: Path) -> Iterator[tuple[str, str]]:
    """``(relative path, full path)`` of the regular files under ``root``, sorted; symlinks
    to files are followed, symlinked directories are not entered."""
    stack = [("", str(root))]
    while stack:
        rel_dir, full_dir = stack.pop()
        try:
            entries = sorted(os.scandir(full_dir), key=lambda e: e.name, reverse=True)
        except OSError as err:
            raise StorageError(f"cannot read directory {full_dir!r}: {err.strerror}") from err
        files = []
        for entry in entries:
            rel = rel_dir + entry.name
            if entry.is_dir(follow_symlinks=False):
                stack.append((rel + "/", entry.path))
            elif entry.is_file():
                files.append((rel, entry.path))
        yield from reversed(files)


def _read_batch(paths: list[str]) -> list[bytes | None]:
    """The contents of small files; None for a big one (to be streamed) or an error (to be
    reported by the streaming path)."""
    out: list[bytes | None] = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read(SMALL_FILE + 1)
        except OSError:
            data = None
        out.append(data if data is not None and len(data) <= SMALL_FILE else None)
    return out


def _batched(items: Iterator[tuple[str, str]], n: int) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def _open_local(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except FileNotFoundError as err:
        raise FileNotFound("the local file system", str(path)) from err
    except OSError as err:
        raise StorageError(f"cannot read {str(path)!r}: {err.strerror}") from err
