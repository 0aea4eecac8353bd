"""File operations on commits: write sessions and every read (get, list, glob, inspect, diff).

Directories are implicit: a directory exists while a file lies under it. Its size is the sum
of its files' sizes; its hash is the hash of its children's ``(name, hash)`` in name order.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from loxo.errors import (
    CommitNotOpen,
    FileNotFound,
    InvalidArgumentError,
    NotFoundError,
    PathConflict,
)
from loxo.storage.blobs import BlobReader
from loxo.storage.dirhash import dir_summary, walk_dirs
from loxo.storage.fileset import FileEntry, NodeRef, differing_entries

from .core import DEFAULT_BRANCH, Core, Resolved
from .diff import diff_entries
from .download import write_file
from .files_write import ModifyFile, Progress
from .glob import compile_glob
from .model import ChangeType, CommitInfo, DiffEntry, FileInfo, FileType
from .paths import normalize_path
from .refs import CommitRef, is_commit_id


class FileOps(Core):
    open_commit_root: Callable[[Resolved], NodeRef | None]

    # --- writing ------------------------------------------------------------------------

    def modify_file(
        self, ref: str, *, description: str = "", progress: Progress | None = None
    ) -> ModifyFile:
        """A write session on ``repo@branch`` (the default branch when omitted)."""
        cref = self.parse(ref)
        if cref.ancestors or cref.index is not None:
            raise InvalidArgumentError(f"cannot write to {ref!r}: write to a branch")
        branch = cref.ref or DEFAULT_BRANCH
        if is_commit_id(branch):
            repo_id = self._repo_id(cref.repo, cref.project)
            row = self._commit_row(repo_id, branch)
            if row is not None:
                if not row.is_open or row.branch is None:
                    raise CommitNotOpen(cref.repo, branch)
                branch = row.branch
        return ModifyFile(
            self,  # type: ignore[arg-type]
            cref.repo,
            branch,
            project=cref.project,
            description=description,
            progress=progress,
        )

    def put_file(
        self, ref: str, path: str, data: bytes | BinaryIO, *, append: bool = False
    ) -> CommitInfo:
        with self.modify_file(ref) as mf:
            mf.put_file(path, data, append=append)
        assert mf.commit is not None
        return mf.commit

    def delete_file(self, ref: str, path: str) -> CommitInfo:
        p = normalize_path(path)
        try:
            current = self.resolve(ref, for_read=False)
        except NotFoundError:
            current = None
        if current is not None and p != "/":
            reader = self._reader(self.read_root(current))
            if reader.get(p) is None and next(reader.iter_prefix(p + "/"), None) is None:
                raise FileNotFound(current.where, p)
        with self.modify_file(ref) as mf:
            mf.delete_file(path)
        assert mf.commit is not None
        return mf.commit

    def copy_file(self, src: str, dst_ref: str, dst_path: str) -> CommitInfo:
        with self.modify_file(dst_ref) as mf:
            mf.copy_file(src, dst_path)
        assert mf.commit is not None
        return mf.commit

    # --- reading ------------------------------------------------------------------------

    def read_root(self, res: Resolved) -> NodeRef | None:
        if res.commit.is_open:
            return self.open_commit_root(res)
        return res.commit.root_ref

    def _target(self, ref: str | CommitRef, path: str | None) -> tuple[Resolved, str]:
        res = self.resolve(ref)
        p = normalize_path(path if path is not None else (res.path or "/"))
        return res, p

    def iter_file(
        self,
        ref: str | CommitRef,
        path: str | None = None,
        *,
        offset: int = 0,
        length: int | None = None,
    ) -> Iterator[bytes]:
        """The content of one file, chunk by chunk (verified); from byte ``offset``, at most
        ``length`` bytes when given (only the chunks overlapping that range are read)."""
        if offset < 0 or (length is not None and length < 0):
            raise InvalidArgumentError(
                f"invalid byte range: offset {offset}, length {length}; both must be >= 0"
            )
        res, p = self._target(ref, path)
        entry = self._reader(self.read_root(res)).get(p)
        if entry is None:
            if self._is_dir(res, p):
                raise PathConflict(p, "is a directory; use -r or --tar to get a directory")
            raise FileNotFound(res.where, p)
        return BlobReader(self.store).iter_range(entry.refs, offset, length)

    def get_file(self, ref: str | CommitRef, path: str | None = None) -> bytes:
        return b"".join(self.iter_file(ref, path))

    def walk_files(self, ref: str | CommitRef, path: str | None = None) -> Iterator[FileEntry]:
        """Every file at or under ``path``."""
        res, p = self._target(ref, path)
        reader = self._reader(self.read_root(res))
        entry = reader.get(p) if p != "/" else None
        if entry is not None:
            yield entry
            return
        found = False
        for e in reader.iter_prefix("/" if p == "/" else p + "/"):
            found = True
            yield e
        if not found and p != "/":
            raise FileNotFound(res.where, p)

    def get_file_to_dir(
        self, ref: str, path: str | None, dest: str | Path, progress: Progress | None = None
    ) -> int:
        """Write a file or a tree under ``dest`` (paths relative to ``path``), each file all
        or nothing (:mod:`.download`)."""
        res, p = self._target(ref, path)
        reader = BlobReader(self.store)
        base = "" if p == "/" else p
        n = 0
        for e in self.walk_files(res.where, p):
            rel = e.path[len(base) :].lstrip("/") or Path(e.path).name
            write_file(Path(dest) / rel, reader.iter_chunks(e.refs), progress)
            n += 1
        return n

    def get_file_tar(self, ref: str, path: str | None, out: BinaryIO) -> int:
        """Stream a file or a tree as an uncompressed tar to ``out``."""
        res, p = self._target(ref, path)
        reader = BlobReader(self.store)
        base = "" if p == "/" else p
        n = 0
        with tarfile.open(fileobj=out, mode="w|") as tar:
            for e in self.walk_files(res.where, p):
                info = tarfile.TarInfo(e.path[len(base) :].lstrip("/") or Path(e.path).name)
                info.size = e.size
                tar.addfile(info, _ChunkStream(reader.iter_chunks(e.refs)))
                n += 1
        return n

    def _is_dir(self, res: Resolved, p: str) -> bool:
        reader = self._reader(self.read_root(res))
        return p == "/" or (
            reader.first_from(p + "/") is not None
            and any(True for _ in reader.iter(p + "/", p + "0"))
        )

    def inspect_file(self, ref: str | CommitRef, path: str | None = None) -> FileInfo:
        res, p = self._target(ref, path)
        reader = self._reader(self.read_root(res))
        entry = reader.get(p) if p != "/" else None
        if entry is not None:
            return FileInfo(p, FileType.FILE, entry.size, entry.hash, res.commit.id)
        prefix = "/" if p == "/" else p + "/"
        entries = reader.iter_prefix(prefix)
        first = next(entries, None)
        if first is None and p != "/":
            raise FileNotFound(res.where, p)
        size, h = dir_summary(prefix, _chain(first, entries))
        return FileInfo(p, FileType.DIR, size, h, res.commit.id)

    def list_file(self, ref: str | CommitRef, path: str | None = None) -> list[FileInfo]:
        """The children of a directory (one level), or the file itself."""
        res, p = self._target(ref, path)
        reader = self._reader(self.read_root(res))
        entry = reader.get(p) if p != "/" else None
        if entry is not None:
            return [FileInfo(p, FileType.FILE, entry.size, entry.hash, res.commit.id)]
        prefix = "/" if p == "/" else p + "/"
        out: list[FileInfo] = []
        it = reader.iter_prefix(prefix)
        e = next(it, None)
        if e is None and p != "/":
            raise FileNotFound(res.where, p)
        while e is not None:
            rest = e.path[len(prefix) :]
            if "/" not in rest:
                out.append(FileInfo(e.path, FileType.FILE, e.size, e.hash, res.commit.id))
                e = next(it, None)
                continue
            sub = prefix + rest.split("/", 1)[0] + "/"
            group = [e]
            e = next(it, None)
            while e is not None and e.path.startswith(sub):
                group.append(e)
                e = next(it, None)
            size, h = dir_summary(sub, iter(group))
            out.append(FileInfo(sub.rstrip("/"), FileType.DIR, size, h, res.commit.id))
        out.sort(key=lambda f: f.path)
        return out

    def glob_file(self, ref: str | CommitRef, pattern: str) -> list[FileInfo]:
        """Files and directories matching ``pattern`` (see :mod:`loxo.pfs.glob`), in glob
        order; one pass over the entries under the pattern's literal prefix."""
        res = self.resolve(ref)
        g = compile_glob(pattern)
        reader = self._reader(self.read_root(res))
        base = g.literal_prefix or "/"
        base = base if base.endswith("/") else base.rsplit("/", 1)[0] + "/"
        cid = res.commit.id
        out: list[FileInfo] = []

        files = 0

        def on_file(e: FileEntry) -> None:
            nonlocal files
            files += 1
            if g.match(e.path) is not None:
                out.append(FileInfo(e.path, FileType.FILE, e.size, e.hash, cid))

        for path, size, digest in walk_dirs(base, reader.iter_prefix(base), on_file):
            if path == "/":
                if g.pattern == "/":  # the root matches only the pattern "/"
                    out.append(FileInfo(path, FileType.DIR, size, digest, cid))
            elif files and g.match(path) is not None:  # (an empty base is no directory)
                out.append(FileInfo(path, FileType.DIR, size, digest, cid))
        out.sort(key=lambda f: f.path + ("/" if f.type == FileType.DIR else ""))
        return out

    def diff_file(
        self, new_ref: str, old_ref: str | None = None, path: str | None = None
    ) -> list[DiffEntry]:
        """Files added, deleted and changed from ``old_ref`` (default: the parent) to
        ``new_ref``, under ``path``."""
        new = self.resolve(new_ref)
        p = normalize_path(path or new.path or "/")
        if old_ref is None:
            parent = new.commit.parent
            old_root = None
            if parent is not None:
                row = self._commit_row(new.repo_id, parent)
                old_root = row.root_ref if row is not None else None
        else:
            old_root = self.read_root(self.resolve(old_ref))
        old_entries, new_entries = differing_entries(self.nodes, old_root, self.read_root(new))
        prefix = "/" if p == "/" else p + "/"
        out: list[DiffEntry] = []
        for a, b in diff_entries(old_entries, new_entries):
            e = a or b
            assert e is not None
            if not (e.path == p or e.path.startswith(prefix)):
                continue
            change = ChangeType.ADDED if a is None else (
                ChangeType.DELETED if b is None else ChangeType.CHANGED
            )  # fmt: skip
            out.append(DiffEntry(e.path, change, _finfo(a), _finfo(b)))
        return out


def _finfo(e: FileEntry | None) -> FileInfo | None:
    return None if e is None else FileInfo(e.path, FileType.FILE, e.size, e.hash)


def _chain(first: FileEntry | None, rest: Iterator[FileEntry]) -> Iterator[FileEntry]:
    if first is not None:
        yield first
    yield from rest


class _ChunkStream(io.RawIOBase):
    """A read-only file object over verified chunks (for tarfile); holds one chunk."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, out: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buf:
            nxt = next(self._chunks, None)
            if nxt is None:
                return 0
            self._buf = memoryview(nxt)
        n = min(len(out), len(self._buf))
        out[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def read(self, size: int = -1) -> bytes:
        """Exactly ``size`` bytes unless the end comes first (tarfile needs full reads)."""
        if size < 0:
            return self.readall()
        out = bytearray(size)
        view, got = memoryview(out), 0
        while got < size:
            n = self.readinto(view[got:])
            if n == 0:
                break
            got += n
        return bytes(out[:got])
