"""Garbage collection and integrity checking of a loxo store.

**gc**: the live set is every object reachable from a commit's fileset root (its tree nodes
and the packs its entries point to) or from a staged operation of an open commit. An object
outside the live set is deleted only if it is older than the *floor*: the start of the
oldest live writer lease, or the start of this collection, whichever is earlier. Chunk-index
entries are forgotten with their pack, in the same transaction that decides the deletion, and
only if no writer looked them up since the floor; so a concurrent writer never loses a chunk
it wrote or is about to reference.

**fsck**: reads every reachable fileset node and every referenced chunk, verifying hashes,
and reports each missing or corrupted object.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from loxo.errors import CorruptObject, ObjectNotFound
from loxo.storage.blobs import PACK_PREFIX, BlobReader, DataRef
from loxo.storage.fileset import FILESET_PREFIX, FileEntry, NodeRef
from loxo.storage.objectstore import ObjectInfo

from .core import Core, decode_root
from .leases import oldest_live_lease
from .model import FsckProblem, FsckReport, GCReport
from .staging import Op

CLOCK_MARGIN = 2.0  # seconds of mtime resolution / clock skew tolerated


class MaintenanceOps(Core):
    def _roots(self) -> Iterator[NodeRef]:
        for (blob,) in self.db.all("SELECT root FROM commits WHERE root IS NOT NULL"):
            root = decode_root(blob)
            if root is not None:
                yield root

    def _walk_nodes(self, root: NodeRef, seen: set[str]) -> Iterator[tuple[NodeRef, list[object]]]:
        if root.key in seen:
            return
        seen.add(root.key)
        items = self.nodes.load(root)
        yield root, items  # type: ignore[misc]
        if root.level > 1:
            for child in items:
                assert isinstance(child, NodeRef)
                yield from self._walk_nodes(child, seen)

    def _live(self) -> tuple[set[str], set[str]]:
        """(live object keys, live chunk hashes)."""
        nodes: set[str] = set()
        keys: set[str] = set()
        hashes: set[str] = set()
        for root in self._roots():
            for ref, items in self._walk_nodes(root, nodes):
                if ref.level == 1:
                    for e in items:
                        assert isinstance(e, FileEntry)
                        for r in e.refs:
                            keys.add(r.key)
                            hashes.add(r.hash)
        for (blob,) in self.db.all("SELECT payload FROM staged_ops"):
            for r in Op.decode(blob).refs:
                keys.add(r.key)
                hashes.add(r.hash)
        return keys | nodes, hashes

    def gc(self) -> GCReport:
        started = time.time()
        oldest = oldest_live_lease(self.db, started)
        floor = min(started, oldest if oldest is not None else started) - CLOCK_MARGIN
        live, _ = self._live()
        deleted = freed = kept = forgotten = 0
        for prefix in (PACK_PREFIX, FILESET_PREFIX):
            for obj in self.store.list(prefix):
                n = None if obj.key in live or obj.mtime >= floor else self._collect(obj, floor)
                if n is None:
                    kept += 1
                else:
                    deleted, freed, forgotten = deleted + 1, freed + obj.size, forgotten + n
        return GCReport(deleted, freed, kept, forgotten)

    def _collect(self, obj: ObjectInfo, floor: float) -> int | None:
        """Delete one unreachable object unless a writer touched it since ``floor``; the
        number of chunk-index entries forgotten, or None if it was kept."""
        with self.db.tx():  # writers' index lookups wait for this decision
            if self.db.one(
                "SELECT 1 FROM chunks WHERE key = ? AND last_used >= ?", (obj.key, floor)
            ):
                return None
            again = next(iter(self.store.list(obj.key)), None)
            if again is None or again.key != obj.key or again.mtime >= floor:
                return None
            cur = self.db.execute("DELETE FROM chunks WHERE key = ?", (obj.key,))
            self.store.delete(obj.key)
            return max(cur.rowcount, 0)

    def fsck(self) -> FsckReport:
        problems: list[FsckProblem] = []
        seen_nodes: set[str] = set()
        checked_chunks: set[tuple[str, int]] = set()
        reader = BlobReader(self.store)
        for root in self._roots():
            for ref, items in self._walk_nodes_safe(root, seen_nodes, problems):
                if ref.level != 1:
                    continue
                for e in items:
                    assert isinstance(e, FileEntry)
                    for r in e.refs:
                        self._check_chunk(reader, r, checked_chunks, problems)
        for (blob,) in self.db.all("SELECT payload FROM staged_ops"):
            for r in Op.decode(blob).refs:
                self._check_chunk(reader, r, checked_chunks, problems)
        return FsckReport(len(seen_nodes), len(checked_chunks), problems)

    def _walk_nodes_safe(
        self, root: NodeRef, seen: set[str], problems: list[FsckProblem]
    ) -> Iterator[tuple[NodeRef, list[object]]]:
        if root.key in seen:
            return
        seen.add(root.key)
        try:
            items = self.nodes.load(root)
        except ObjectNotFound:
            problems.append(FsckProblem(root.key, "missing", "fileset node"))
            return
        except CorruptObject as err:
            problems.append(FsckProblem(root.key, "corrupted", str(err)))
            return
        yield root, items  # type: ignore[misc]
        if root.level > 1:
            for child in items:
                assert isinstance(child, NodeRef)
                yield from self._walk_nodes_safe(child, seen, problems)

    def _check_chunk(
        self,
        reader: BlobReader,
        ref: DataRef,
        done: set[tuple[str, int]],
        problems: list[FsckProblem],
    ) -> None:
        if (ref.key, ref.offset) in done:
            return
        done.add((ref.key, ref.offset))
        try:
            reader.read_chunk(ref)
        except ObjectNotFound:
            if not any(p.key == ref.key and p.problem == "missing" for p in problems[-50:]):
                problems.append(FsckProblem(ref.key, "missing", f"chunk at offset {ref.offset}"))
        except CorruptObject as err:
            problems.append(FsckProblem(ref.key, "corrupted", str(err)))
