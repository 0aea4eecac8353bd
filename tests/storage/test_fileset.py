"""Property tests for filesets: merge gives the same tree as a fresh build, reads match a dict."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from loxo.storage import fileset as fs
from loxo.storage.blobs import DataRef
from loxo.storage.fileset import FileEntry, FilesetReader, NodeCache
from loxo.storage.memory import MemoryStore

paths = st.lists(st.text("abc/", min_size=1, max_size=6).map(lambda s: "/" + s), max_size=60)


def entry(path: str, n: int = 0) -> FileEntry:
    ref = DataRef("packs/x", n, 1, 1, "00" * 32, 0)
    return FileEntry(path, n, f"{n:064x}", (ref,))


def small_fanout(monkeypatch_target: object) -> None:
    pass


def _nodes() -> NodeCache:
    return NodeCache(MemoryStore("fs-test"), maxsize=8)


@settings(max_examples=200, deadline=None)
@given(base=paths, puts=paths, deletes=paths, n=st.integers(0, 5))
def test_merge_equals_fresh_build(
    base: list[str], puts: list[str], deletes: list[str], n: int
) -> None:
    fs.LEAF_FANOUT, fs.NODE_FANOUT = 3, 2  # tiny fanouts give deep trees from few entries
    try:
        nodes = _nodes()
        model = {p: entry(p) for p in base}
        root = fs.build(nodes, [model[p] for p in sorted(model)])
        changes: dict[str, FileEntry | None] = {p: None for p in deletes}
        changes.update({p: entry(p, n) for p in puts})
        merged = fs.merge(nodes, root, sorted(changes.items()))
        for p, e in changes.items():
            if e is None:
                model.pop(p, None)
            else:
                model[p] = e
        fresh = fs.build(nodes, [model[p] for p in sorted(model)])
        assert merged == fresh
        reader = FilesetReader(nodes, merged)
        assert list(reader.iter()) == [model[p] for p in sorted(model)]
        assert reader.count == len(model)
        for p in list(model)[:5]:
            assert reader.get(p) == model[p]
            pre = p.rsplit("/", 1)[0] + "/"
            assert [e.path for e in reader.iter_prefix(pre)] == sorted(
                q for q in model if q.startswith(pre)
            )
    finally:
        fs.LEAF_FANOUT, fs.NODE_FANOUT = 512, 64
