"""Filesets: immutable, path-sorted indexes of ``path -> file content``.

A fileset maps absolute paths (``/a/b.txt``) to :class:`FileEntry` (size, content hash and
the chunk :class:`~loxo.storage.blobs.DataRef` list). It knows nothing of repos or commits;
a commit *is* a fileset root plus metadata kept by ``pfs``.

Layout: a content-defined search tree (a "prolly tree"). Entries are sorted by path and cut
into leaves after every entry whose path hashes to a boundary (about one in ``LEAF_FANOUT``);
leaves are summarised into nodes of the next level the same way, until one root remains.
Because boundaries depend only on the paths, never on history, the same set of entries always
gives the same tree, byte for byte; nodes are stored content-addressed
(``filesets/<blake3>``), so two commits share every node whose range they did not change.

Writes never modify a node: :func:`merge` applies sorted changes to a base root, reading and
rewriting only the nodes whose range holds a change (about ``depth`` nodes per changed
neighbourhood), reusing every other subtree by reference. Committing one changed file on top
of a 1,000,000-file fileset writes ~3 small objects.

Reads (:class:`FilesetReader`) descend only into nodes whose range overlaps the asked range,
so a point lookup or the listing of one directory costs a few node reads, not a scan.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import msgpack

from loxo.errors import CorruptObject

from .blobs import DataRef
from .codec import compressor, decompressor
from .hashing import hash_bytes
from .objectstore import ObjectStore

FILESET_PREFIX = "filesets/"
LEAF_FANOUT = 512
NODE_FANOUT = 64


class FileEntry(NamedTuple):
    path: str
    size: int
    hash: str
    refs: tuple[DataRef, ...]


class NodeRef(NamedTuple):
    """Summary of a stored node: its path range, key, level (leaves are 1) and totals."""

    first: str
    last: str
    key: str
    level: int
    nfiles: int
    size: int

    def to_list(self) -> list[Any]:
        return list(self)

    @classmethod
    def from_list(cls, v: list[Any]) -> NodeRef:
        return cls(*v)


Item = FileEntry | NodeRef
Change = tuple[str, FileEntry | None]  # (path, new entry) or (path, None) to delete


def _boundary(level: int, path: str) -> bool:
    fanout = LEAF_FANOUT if level == 0 else NODE_FANOUT
    return zlib.crc32(path.encode(), level * 0x9E3779B1 & 0xFFFFFFFF) % fanout == 0


def _last(item: Item) -> str:
    return item.path if isinstance(item, FileEntry) else item.last


# --- node encoding ---------------------------------------------------------------------

# zstd (de)compressors are not thread-safe: one per thread (see codec)


def _encode_entry(e: FileEntry) -> list[Any]:
    return [e.path, e.size, bytes.fromhex(e.hash), [_encode_ref(r) for r in e.refs]]


def _encode_ref(r: DataRef) -> list[Any]:
    return [r.key, r.offset, r.stored_len, r.length, bytes.fromhex(r.hash), r.codec]


def _decode_entry(v: list[Any]) -> FileEntry:
    refs = tuple(DataRef(k, o, s, n, h.hex(), c) for k, o, s, n, h, c in v[3])
    return FileEntry(v[0], v[1], v[2].hex(), refs)


def _encode_node(level: int, items: list[Item]) -> bytes:
    body = [_encode_entry(e) if isinstance(e, FileEntry) else e.to_list() for e in items]
    return compressor().compress(msgpack.packb([level, body], use_bin_type=True))


def _decode_node(key: str, stored: bytes) -> tuple[int, list[Item]]:
    if hash_bytes(stored) != key[len(FILESET_PREFIX) :]:
        raise CorruptObject(key, "fileset node fails its hash check")
    level, body = msgpack.unpackb(decompressor().decompress(stored), raw=False)
    if level == 1:
        return level, [_decode_entry(v) for v in body]
    return level, [NodeRef.from_list(v) for v in body]


class NodeCache:
    """Decoded nodes by key (safe to share: nodes are immutable and content-addressed)."""

    def __init__(self, store: ObjectStore, maxsize: int = 512) -> None:
        self.store = store
        self._cache: OrderedDict[str, list[Item]] = OrderedDict()
        self._max = maxsize
        self._lock = threading.Lock()

    def load(self, ref: NodeRef) -> list[Item]:
        with self._lock:
            items = self._cache.get(ref.key)
            if items is not None:
                self._cache.move_to_end(ref.key)
                return items
        _, items = _decode_node(ref.key, self.store.get(ref.key))
        with self._lock:
            self._cache[ref.key] = items
            if len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return items


def write_node(store: ObjectStore, level: int, items: list[Item]) -> NodeRef:
    stored = _encode_node(level, items)
    key = FILESET_PREFIX + hash_bytes(stored)
    store.put_if_absent(key, stored)
    if level == 1:
        count = len(items)
        size = sum(e.size for e in items if isinstance(e, FileEntry))
    else:
        count = sum(r.nfiles for r in items if isinstance(r, NodeRef))
        size = sum(r.size for r in items)
    first = items[0]
    return NodeRef(
        first.path if isinstance(first, FileEntry) else first.first,
        _last(items[-1]),
        key,
        level,
        count,
        size,
    )


# --- reading ---------------------------------------------------------------------------


class FilesetReader:
    """Range reads over one fileset root (``None`` is the empty fileset)."""

    def __init__(self, nodes: NodeCache, root: NodeRef | None) -> None:
        self.nodes, self.root = nodes, root

    @property
    def count(self) -> int:
        return self.root.nfiles if self.root else 0

    @property
    def size(self) -> int:
        return self.root.size if self.root else 0

    def iter(self, start: str = "", stop: str | None = None) -> Iterator[FileEntry]:
        """Entries with ``start <= path < stop`` in path order."""
        if self.root is not None:
            yield from self._iter(self.root, start, stop)

    def _iter(self, ref: NodeRef, start: str, stop: str | None) -> Iterator[FileEntry]:
        items = self.nodes.load(ref)
        if ref.level == 1:
            for e in items:
                assert isinstance(e, FileEntry)
                if e.path < start:
                    continue
                if stop is not None and e.path >= stop:
                    return
                yield e
            return
        for child in items:
            assert isinstance(child, NodeRef)
            if child.last < start:
                continue
            if stop is not None and child.first >= stop:
                return
            yield from self._iter(child, start, stop)

    def iter_prefix(self, prefix: str) -> Iterator[FileEntry]:
        """Entries whose path starts with ``prefix``."""
        return self.iter(prefix, prefix_end(prefix))

    def get(self, path: str) -> FileEntry | None:
        for e in self.iter(path, path + "\0"):
            return e
        return None

    def first_from(self, start: str) -> FileEntry | None:
        for e in self.iter(start):
            return e
        return None


def prefix_end(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix``."""
    if not prefix:
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


# --- writing ---------------------------------------------------------------------------


class _Builder:
    """Cuts a stream of entries (and reusable subtrees) into content-defined nodes."""

    def __init__(self, nodes: NodeCache) -> None:
        self.nodes = nodes
        self.levels: list[list[Item]] = []

    def push(self, level: int, item: Item) -> None:
        while len(self.levels) <= level:
            self.levels.append([])
        self.levels[level].append(item)
        if _boundary(level, _last(item)):
            self._cut(level)

    def _cut(self, level: int) -> None:
        items, self.levels[level] = self.levels[level], []
        self.push(level + 1, write_node(self.nodes.store, level + 1, items))

    def push_node(self, ref: NodeRef) -> None:
        """Reuse ``ref`` whole if it starts a node here; otherwise re-cut its children."""
        if any(self.levels[i] for i in range(min(ref.level, len(self.levels)))):
            for child in self.nodes.load(ref):
                if isinstance(child, FileEntry):
                    self.push(0, child)
                else:
                    self.push_node(child)
        else:
            self.push(ref.level, ref)

    def finish(self) -> NodeRef | None:
        j = 0
        while j < len(self.levels):
            items = self.levels[j]
            higher = any(self.levels[k] for k in range(j + 1, len(self.levels)))
            if items and j >= 1 and len(items) == 1 and not higher:
                root = items[0]
                assert isinstance(root, NodeRef)
                return root
            if items:
                self._cut(j)
            j += 1
        return None


def merge(nodes: NodeCache, base: NodeRef | None, changes: Iterable[Change]) -> NodeRef | None:
    """The root of ``base`` with ``changes`` (sorted by path, one per path) applied."""
    b = _Builder(nodes)
    it = iter(changes)
    pending: list[Change] = []  # one-change lookahead

    def peek() -> Change | None:
        if not pending:
            nxt = next(it, None)
            if nxt is None:
                return None
            pending.append(nxt)
        return pending[0]

    def walk(ref: NodeRef, is_last: bool) -> None:
        # A node that ends its level (``is_last``) was cut by the end of the data, not by a
        # boundary: it is re-cut, never reused, or the result would depend on history.
        c = peek()
        if not is_last and (c is None or c[0] > ref.last):
            b.push_node(ref)
            return
        items = nodes.load(ref)
        if ref.level > 1:
            for i, child in enumerate(items):
                assert isinstance(child, NodeRef)
                walk(child, is_last and i == len(items) - 1)
            return
        for e in items:
            assert isinstance(e, FileEntry)
            c = peek()
            while c is not None and c[0] < e.path:
                pending.pop()
                if c[1] is not None:
                    b.push(0, c[1])
                c = peek()
            if c is not None and c[0] == e.path:
                pending.pop()
                if c[1] is not None:
                    b.push(0, c[1])
            else:
                b.push(0, e)
        if is_last:
            drain()

    def drain() -> None:
        while (c := peek()) is not None:
            pending.pop()
            if c[1] is not None:
                b.push(0, c[1])

    if base is None:
        drain()
    else:
        walk(base, True)
    return b.finish()


def build(nodes: NodeCache, entries: Iterable[FileEntry]) -> NodeRef | None:
    """A new fileset from entries sorted by path."""
    return merge(nodes, None, ((e.path, e) for e in entries))


def leaves(nodes: NodeCache, root: NodeRef | None) -> Iterator[NodeRef]:
    """Every leaf of a fileset in path order (reads only the inner nodes)."""
    if root is None:
        return
    if root.level == 1:
        yield root
        return
    for child in nodes.load(root):
        assert isinstance(child, NodeRef)
        yield from leaves(nodes, child)


def differing_entries(
    nodes: NodeCache, old: NodeRef | None, new: NodeRef | None
) -> tuple[Iterator[FileEntry], Iterator[FileEntry]]:
    """Entries of ``old`` and ``new`` outside the leaves they share, in path order.

    Both trees are canonical, so a leaf present in both holds the same entries in both, and
    a path in a non-shared leaf of one tree is never in a shared leaf of the other: diffing
    the two returned streams gives the full diff at the cost of what changed.
    """
    old_leaves, new_leaves = list(leaves(nodes, old)), list(leaves(nodes, new))
    common = {x.key for x in old_leaves} & {x.key for x in new_leaves}

    def entries(ls: list[NodeRef]) -> Iterator[FileEntry]:
        for leaf in ls:
            if leaf.key not in common:
                for e in nodes.load(leaf):
                    assert isinstance(e, FileEntry)
                    yield e

    return entries(old_leaves), entries(new_leaves)
