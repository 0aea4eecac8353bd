"""Collect and upload a datum's output: the files under ``/pfs/out``.

:func:`collect` walks the output directory without following symlinks and checks it
before a byte is uploaded: every name must be a valid PFS path; a symlink must lead to a
regular file inside ``/pfs/out`` (its content is then uploaded under the link's name) or to
a file or directory of the datum's own inputs (stored **by reference**: the output entry
reuses the input file's chunk refs, nothing is read or uploaded; a directory gives its
files) -- see :mod:`~loxo.execution.output_links`; a symlink leading anywhere else, or any
other special file, fails the attempt with an :class:`OutputError` naming the path as user
code sees it. Empty directories vanish (PFS directories exist only through their files).

:func:`upload` chunks the files into the object store with one
:class:`~loxo.storage.blobs.BlobWriter` (flushed once) and describes the datum's output --
the **output root** of its result -- and makes the written objects durable
(``store.sync()``) before returning -- or leaves that barrier to its caller
(``sync=False``), who must pass it before reporting the root (a local worker syncs once
for a group of datums). Files linked from the inputs join the description as they are.
An output root takes one of two forms:

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
from typing import Any, NamedTuple

from loxo.errors import InvalidArgumentError
from loxo.pfs.paths import normalize_path
from loxo.storage.blobs import BlobWriter, DataRef, MemoryChunkIndex, PendingFile
from loxo.storage.fileset import FileEntry, FilesetReader, NodeCache, NodeRef, build
from loxo.storage.objectstore import ObjectStore

from .output_links import LinkResolver, OutputError
from .output_pack import SMALL_BYTES, PackGroup
from .sandbox import Layout
from .task import DatumInput

INLINE = "inline"
INLINE_FILES = 16  # outputs of at most this many files are described inline


@dataclass(frozen=True)
class Uploaded:
    root: list[object] | None  # NodeRef.to_list() of the output fileset; None when empty
    files: int
    bytes: int  # the content bytes uploaded (files linked from the inputs cost none)


class Found(NamedTuple):
    """One output file: its PFS path, and the host file to upload (``source``, of
    ``size`` bytes) or, for a file linked from the inputs, its entry (``linked``)."""

    path: str
    source: str
    size: int
    linked: FileEntry | None = None


def collect(layout: Layout, inputs: Sequence[DatumInput] = ()) -> list[Found]:
    """Every output file, sorted by path; ``inputs`` are the datum's (where its symlinks
    may lead)."""
    out = f"{layout.host_pfs}/out"
    if not stat.S_ISDIR(os.lstat(out).st_mode):
        raise OutputError("/pfs/out is not a directory (user code replaced it)")
    found: list[Found] = []
    _Walk(layout, out, inputs).walk(out, "", found)
    found.sort(key=lambda item: item[0])
    return found


class _Walk:
    """One walk of ``/pfs/out`` (string paths: it runs once per datum)."""

    def __init__(self, layout: Layout, out: str, inputs: Sequence[DatumInput]) -> None:
        self.layout, self.out, self.inputs = layout, out, inputs
        self._links: LinkResolver | None = None

    @property
    def links(self) -> LinkResolver:
        """The datum's symlink resolver, made when the first symlink needs it."""
        if self._links is None:
            real_pfs = os.path.realpath(self.layout.host_pfs)
            self._links = LinkResolver(self.layout, real_pfs, self.inputs)
        return self._links

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
            islink = stat.S_ISLNK(st.st_mode)
            if not islink and not stat.S_ISREG(st.st_mode):
                raise OutputError(f"{shown} is not a regular file, directory or symlink")
            try:
                path = normalize_path(name, allow_root=False)
            except InvalidArgumentError as e:
                raise OutputError(f"output file {shown} has an invalid name: {e}") from e
            if not islink:
                found.append(Found(path, entry.path, st.st_size))
                continue
            to = self.links.resolve(name, path, shown)
            if to.source:
                found.append(Found(path, to.source, to.size))
            found.extend(Found(e.path, "", e.size, e) for e in to.entries)


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
    copied = [f for f in files if f.linked is None]
    entries = [f.linked for f in files if f.linked is not None]  # by reference
    uploaded, small = 0, sum(f.size for f in copied) <= SMALL_BYTES
    if pack is not None and len(files) <= INLINE_FILES and small:
        for path, source, size, _ in copied:
            refs, size, h = pack.add(_read_small(source, size))
            entries.append(FileEntry(path, size, h, tuple(refs)))
            uploaded += size
        entries.sort()
        return Uploaded(inline_root(entries), len(entries), uploaded)
    if copied:
        writer = BlobWriter(store, MemoryChunkIndex())
        pending: list[tuple[str, PendingFile]] = []
        for path, source, _, _ in copied:
            with open(source, "rb") as f:
                pending.append((path, writer.add(f)))
        writer.flush()
        for path, pf in pending:
            assert pf.content is not None
            c = pf.content
            entries.append(FileEntry(path, c.size, c.hash, tuple(c.refs)))
            uploaded += c.size
        entries.sort()
    if len(entries) <= INLINE_FILES:
        described: list[object] | None = inline_root(entries)
    else:
        root = build(NodeCache(store), entries)
        described = root.to_list() if root is not None else None
    if sync:
        store.sync()
    return Uploaded(described, len(entries), uploaded)


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
