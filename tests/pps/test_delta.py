"""Tests for loxo.pps.delta: a plan from a commit diff equals the plan from a full re-glob."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from loxo.pfs.diff import diff_entries
from loxo.pfs.glob import compile_glob
from loxo.pfs.paths import parent_dirs
from loxo.pps.datums import datum_hasher, iter_datums
from loxo.pps.delta import affected_matches, changed_datums
from loxo.pps.plan import SKIPPABLE_STATES, plan_delta, plan_job
from loxo.pps.spec import Input, PfsInput
from loxo.storage.fileset import FileEntry, prefix_end

from .test_datums import GLOBS, entry, file_trees

STATES = ["SUCCESS", "SKIPPED", "FAILED", "RECOVERED"]
NAMES = ("in0", "in1")


def pfs(leaf: PfsInput) -> Input:
    return Input(pfs=leaf)


class ListTree:
    """A commit as a sorted list of entries (what a FilesetReader answers)."""

    def __init__(self, entries: list[FileEntry]) -> None:
        self.entries, self.paths = entries, [e.path for e in entries]

    def get(self, path: str) -> FileEntry | None:
        i = bisect.bisect_left(self.paths, path)
        return self.entries[i] if i < len(self.paths) and self.paths[i] == path else None

    def iter_prefix(self, prefix: str) -> Iterator[FileEntry]:
        stop = prefix_end(prefix)
        for e in self.entries[bisect.bisect_left(self.paths, prefix) :]:
            if stop is not None and e.path >= stop:
                return
            yield e


@st.composite
def changed_trees(draw: st.DrawFn) -> tuple[list[FileEntry], list[FileEntry]]:
    """An old tree and a new one: some files kept, some rewritten, deleted or added (a file
    may become a directory and back)."""
    old = draw(file_trees())
    new: dict[str, FileEntry] = {}
    for e in old:
        fate = draw(st.sampled_from(["keep", "keep", "keep", "change", "delete"]))
        if fate == "keep":
            new[e.path] = e
        elif fate == "change":
            new[e.path] = entry(e.path, "changed")
    for e in draw(file_trees()) if draw(st.booleans()) else []:
        new.setdefault(e.path, e)
    dirs = {d for p in new for d in parent_dirs(p)}
    return old, [new[p] for p in sorted(new) if p not in dirs]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(GLOBS), min_size=1, max_size=2), changed_trees(), st.data())
def test_diff_driven_plan_equals_the_full_reglob_plan(
    globs: list[str], trees: tuple[list[FileEntry], list[FileEntry]], data: st.DataObject
) -> None:
    """One pfs input, or a union of two over the same repo: the plan from the commit diff
    (each leaf's changed datums in turn) equals the plan from listing every datum."""
    old, new = trees
    leaves = [PfsInput(name=f"in{k}", repo="r", glob=g) for k, g in enumerate(globs)]
    input = Input(pfs=leaves[0]) if len(leaves) == 1 else Input(union=tuple(map(pfs, leaves)))
    hash_of = datum_hasher("salt")
    base_datums = list(iter_datums(input, lambda _: iter(old), dict.fromkeys(NAMES, "c1")))
    base = {d.id: (hash_of(d), data.draw(st.sampled_from(STATES))) for d in base_datums}
    now = list(iter_datums(input, lambda _: iter(new), dict.fromkeys(NAMES, "c2")))
    full = plan_job(((d.id, hash_of(d)) for d in now), base)

    changed = [(a or b).path for a, b in diff_entries(old, new) if (a or b) is not None]  # type: ignore[union-attr]
    found, gone = [], []
    for leaf in leaves:
        rerun = [
            d.inputs[0].path
            for d in base_datums
            if base[d.id][1] not in SKIPPABLE_STATES and d.inputs[0].name == leaf.name
        ]
        now_leaf, gone_leaf = changed_datums(leaf, "c2", ListTree(new), changed + rerun)
        found += now_leaf
        gone += gone_leaf
    ids = [d.id for d in found] + gone
    touched = {d: base[d] for d in ids if d in base}
    delta = plan_delta(((d.id, hash_of(d)) for d in found), touched, len(base))

    assert delta.run == full.run
    assert delta.replaced == full.replaced
    assert sorted(delta.removed) == sorted(full.removed)
    assert delta.skipped == len(full.skip)
    assert delta.total == len(now)
    assert set(delta.skip) | (base.keys() - touched.keys()) == set(full.skip)
    by_id = {d.id: d for d in now}
    assert all(by_id[d.id] == d for d in found)  # the very datums a full re-glob gives


def test_affected_matches_are_the_matching_paths_and_ancestors() -> None:
    g = compile_glob("/*/*")
    assert affected_matches(g, ["/a/b/c", "/x", "/y/z"]) == {"/a/b", "/y/z"}
    assert affected_matches(compile_glob("/**"), ["/a/b"]) == {"/a", "/a/b"}
    assert affected_matches(compile_glob("/"), ["/a/b"]) == {"/"}
    assert affected_matches(compile_glob("/"), []) == set()


def test_a_file_that_becomes_a_directory_keeps_its_id() -> None:
    spec = PfsInput(name="in", repo="r", glob="/*")
    new = ListTree([entry("/a/b"), entry("/c")])
    found, gone = changed_datums(spec, "c", new, ["/a", "/a/b", "/gone"])
    assert [d.inputs[0].path for d in found] == ["/a"]
    assert [f.path for f in found[0].inputs[0].files] == ["/a/b"]
    assert len(gone) == 1
