"""Property tests for diffs: the pure stream diff against a dict model, and the leaf-skipping
diff of two filesets against the full one."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from loxo.pfs.diff import diff_entries
from loxo.storage import fileset as fs
from loxo.storage.fileset import FileEntry, NodeCache
from loxo.storage.memory import MemoryStore

trees = st.dictionaries(
    st.text("abcd/", min_size=1, max_size=5).map(lambda s: "/" + s), st.integers(0, 3), max_size=80
)


def entries(tree: dict[str, int]) -> list[FileEntry]:
    return [FileEntry(p, h, f"{h:064x}", ()) for p, h in sorted(tree.items())]


def model_diff(
    old: dict[str, int], new: dict[str, int]
) -> list[tuple[str, int | None, int | None]]:
    paths = sorted(set(old) | set(new))
    return [(p, old.get(p), new.get(p)) for p in paths if old.get(p) != new.get(p)]


def as_tuples(pairs: object) -> list[tuple[str, int | None, int | None]]:
    out = []
    for a, b in pairs:  # type: ignore[attr-defined]
        e = a or b
        out.append((e.path, a.size if a else None, b.size if b else None))
    return out


@given(old=trees, new=trees)
def test_diff_entries_matches_model(old: dict[str, int], new: dict[str, int]) -> None:
    assert as_tuples(diff_entries(entries(old), entries(new))) == model_diff(old, new)


@settings(max_examples=150, deadline=None)
@given(old=trees, new=trees)
def test_leaf_skipping_diff_equals_full_diff(old: dict[str, int], new: dict[str, int]) -> None:
    fs.LEAF_FANOUT, fs.NODE_FANOUT = 4, 2
    try:
        nodes = NodeCache(MemoryStore(uuid.uuid4().hex))
        a = fs.build(nodes, entries(old))
        b = fs.build(nodes, entries(new))
        xs, ys = fs.differing_entries(nodes, a, b)
        assert as_tuples(diff_entries(xs, ys)) == model_diff(old, new)
    finally:
        fs.LEAF_FANOUT, fs.NODE_FANOUT = 512, 64
