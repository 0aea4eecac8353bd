"""Collect and upload a datum's output: the files under ``/pfs/out``.

:func:`collect` walks the output directory without following symlinks and checks it
before a byte is uploaded: every name must be a valid PFS path; a symlink must resolve
to a regular file inside ``/pfs/out`` (its content is then uploaded under the link's
name); a symlink leading anywhere else, or any other special file, fails the attempt with
an :class:`OutputError` naming the path as user code sees it. Empty directories vanish
(PFS directories exist only through their files).

:func:`upload` chunks the files into the object store with one
:class:`~loxo.storage.blobs.BlobWriter` (flushed once) and describes the datum's output --
the **output root** of its result -- and makes the written objects durable
(``store.sync()``) before returning -- or leaves that barrier to its caller
(``sync=False``), who must pass it before reporting the root (a local worker syncs once
for a group of datums). An output root takes one of two forms:

- ``NodeRef.to_list()`` of a fileset built in the store, for outputs of more than
  ``INLINE_FILES`` files;
- ``["inline", [[path, size, hash, [[key, offset, stored_len, length, hash, codec], ...]],
  ...]]``: the entries themselves, sorted by path, for small outputs. Most datums write a
  file or two, and a fileset node of their own would cost an object (a file created and
  fsynced) per datum; the job's output fileset is built from these entries all the same.

:func:`output_entries` reads either form back.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from loxo.errors import InvalidArgumentError, LoxoError
from loxo.pfs.paths import normalize_path
from loxo.storage.blobs import BlobWriter, DataRef, MemoryChunkIndex, PendingFile
from loxo.storage.fileset import FileEntry, FilesetReader, NodeCache, NodeRef, build
from loxo.storage.objectstore import ObjectStore

from .output_pack import SMALL_BYTES, PackGroup
from .sandbox import Layout

MAX_SYMLINK_HOPS = 40
INLINE = "inline"
INLINE_FILES = 16  # outputs of at most this many files are described inline


class OutputError(LoxoError):
    """The output directory holds something that cannot become a datum's output."""


@dataclass(frozen=True)
class Uploaded:
    root: list[object] | None  # NodeRef.to_list() of the output fileset; None when empty
    files: int
    bytes: int


Found = tuple[str, str, int]  # (pfs path, host file, size) of one output file


def collect(layout: Layout) -> list[Found]:
    """``(pfs path, host file, size)`` for every output file, sorted by path."""
    out = f"{layout.host_pfs}/out"
    if not stat.S_ISDIR(os.lstat(out).st_mode):
        raise OutputError("/pfs/out is not a directory (user code replaced it)")
    found: list[Found] = []
    _Walk(layout, out).walk(out, "", found)
    found.sort(key=lambda item: item[0])
    return found


class _Walk:
    """One walk of ``/pfs/out`` (string paths: it runs once per datum)."""

    def __init__(self, layout: Layout, out: str) -> None:
        self.layout, self.out = layout, out
        self._real_out = ""

    @property
    def real_out(self) -> str:
        """``/pfs/out`` resolved, computed when the first symlink needs it."""
        if not self._real_out:
            self._real_out = os.path.realpath(self.out)
        return self._real_out

    def walk(self, directory: str, rel: str, found: list[Found]) -> None:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            name = f"{rel}/{entry.name}"
            shown = f"/pfs/out{name}"
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                self.walk(entry.path, name, found)
                continue
            if stat.S_ISLNK(st.st_mode):
                source, size = self.resolve_link(entry.path, shown)
            elif stat.S_ISREG(st.st_mode):
                source, size = entry.path, st.st_size
            else:
                raise OutputError(f"{shown} is not a regular file, directory or symlink")
            try:
                path = normalize_path(name, allow_root=False)
            except InvalidArgumentError as e:
                raise OutputError(f"output file {shown} has an invalid name: {e}") from e
            found.append((path, source, size))

    def resolve_link(self, link: str, shown: str) -> tuple[str, int]:
        """The regular file inside ``/pfs/out`` that the symlink ``link`` leads to, and
        its size."""
        current, real_out = link, self.real_out
        for _ in range(MAX_SYMLINK_HOPS):
            target = self.layout.to_host(os.readlink(current))
            current = os.path.join(os.path.dirname(current), target)
            real = os.path.realpath(os.path.dirname(current))
            current = os.path.join(real, os.path.basename(current))
            if not _inside(current, real_out):
                raise OutputError(f"symlink {shown} points outside /pfs/out")
            if not os.path.islink(current):
                break
        else:
            raise OutputError(f"symlink {shown} has too many levels of links")
        try:
            st = os.stat(current, follow_symlinks=False)
        except FileNotFoundError:
            raise OutputError(f"symlink {shown} is dangling") from None
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"symlink {shown} must point to a regular file inside /pfs/out")
        return current, st.st_size


def _inside(path: str, directory: str) -> bool:
    return path.startswith(directory + os.sep)


def upload(
    store: ObjectStore,
    files: list[Found],
    *,
    sync: bool = True,
    pack: PackGroup | None = None,
) -> Uploaded:
    """Store the content of ``files`` and describe them; with ``sync`` (the default) make
    the objects durable before returning, else leave that to the caller. With ``pack``, a
    small output goes into that shared pack, which the caller must write (then sync)
    before it reports the result."""
    if not files:
        return Uploaded(None, 0, 0)
    if pack is not None and len(files) <= INLINE_FILES and sum(f[2] for f in files) <= SMALL_BYTES:
        entries = []
        for path, source, size in files:
            refs, size, h = pack.add(_read_small(source, size))
            entries.append(FileEntry(path, size, h, tuple(refs)))
        return Uploaded(inline_root(entries), len(entries), sum(e.size for e in entries))
    writer = BlobWriter(store, MemoryChunkIndex())
    pending: list[tuple[str, PendingFile]] = []
    for path, source, _ in files:
        with open(source, "rb") as f:
            pending.append((path, writer.add(f)))
    writer.flush()
    entries = []
    for path, pf in pending:
        assert pf.content is not None
        c = pf.content
        entries.append(FileEntry(path, c.size, c.hash, tuple(c.refs)))
    if len(entries) <= INLINE_FILES:
        described: list[object] | None = inline_root(entries)
    else:
        root = build(NodeCache(store), entries)
        described = root.to_list() if root is not None else None
    if sync:
        store.sync()
    return Uploaded(described, len(entries), sum(e.size for e in entries))


def _read_small(source: str, size: int) -> bytes:
    """The content of a small file of ``size`` bytes when collected (it may have changed
    since: read to its end)."""
    fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, size + 1)
        if len(data) <= size:  # a short read of a regular file: its end
            return data
        parts = [data]
        while part := os.read(fd, 1 << 16):
            parts.append(part)
        return b"".join(parts)
    finally:
        os.close(fd)


def inline_root(entries: Sequence[FileEntry]) -> list[object]:
    """The inline output root of ``entries`` (sorted by path)."""
    return [INLINE, [[e.path, e.size, e.hash, [list(r) for r in e.refs]] for e in entries]]


def parse_root(root: Sequence[Any]) -> NodeRef | tuple[FileEntry, ...]:
    """An output root (either form, as sent or as decoded from msgpack) as a fileset root
    or the entries themselves."""
    if len(root) == 2 and root[0] == INLINE:
        return tuple(
            FileEntry(path, size, h, tuple(DataRef(*r) for r in refs))
            for path, size, h, refs in root[1]
        )
    return NodeRef.from_list(list(root))


def output_entries(nodes: NodeCache, root: NodeRef | tuple[FileEntry, ...]) -> Iterator[FileEntry]:
    """The files of a parsed output root, sorted by path."""
    if isinstance(root, NodeRef):
        yield from FilesetReader(nodes, root).iter()
    else:
        yield from root
