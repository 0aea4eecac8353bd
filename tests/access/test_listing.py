"""``find_tree`` and ``outermost`` against brute force over random trees."""

from __future__ import annotations

import posixpath

from hypothesis import given
from hypothesis import strategies as st

from loxo.access.listing import DIR, FILE, find_tree, outermost

parts = st.sampled_from(["a", "b", "c", "a-b", "a.b"])
file_paths = st.lists(st.lists(parts, min_size=1, max_size=4).map(lambda p: "/" + "/".join(p)))


def tree(paths: list[str]) -> dict[str, int]:
    """A consistent tree (no path both a file and a directory): files with sizes."""
    files: dict[str, int] = {}
    for p in paths:
        if not any(f.startswith(p + "/") or p.startswith(f + "/") for f in files):
            files.setdefault(p, len(files) + 1)
    return files


def ancestors(path: str) -> list[str]:
    out = []
    while path != "/":
        path = posixpath.dirname(path)
        out.append(path)
    return out


@given(file_paths, st.sampled_from(["/", "/a", "/a/b", "/b/c"]), st.none() | st.integers(1, 4),
       st.booleans())  # fmt: skip
def test_find_tree_is_brute_force(
    paths: list[str], root: str, maxdepth: int | None, withdirs: bool
) -> None:
    files = tree(paths)
    under = {
        p: n for p, n in sorted(files.items()) if p == root or p.startswith(root.rstrip("/") + "/")
    }
    got = find_tree(under.items(), root, maxdepth, withdirs)
    if root in under:
        assert got == {root: (FILE, under[root])}
        return

    def depth(p: str) -> int:
        return len(p.split("/")) - len(root.rstrip("/").split("/"))

    want = {p: (FILE, n) for p, n in under.items() if maxdepth is None or depth(p) <= maxdepth}
    if withdirs and under:
        dirs = {
            d
            for p in under
            for d in ancestors(p)
            if d == root or d.startswith(root.rstrip("/") + "/")
        }
        for d in dirs:
            if d == root or maxdepth is None or depth(d) <= maxdepth:
                size = sum(n for p, n in under.items() if d == "/" or p.startswith(d + "/"))
                want[d] = (DIR, size)
    assert got == want


@given(st.lists(st.lists(parts, min_size=1, max_size=3).map("/".join)))
def test_outermost_drops_what_lies_under_another(paths: list[str]) -> None:
    got = outermost(paths)
    assert got == sorted(
        {p for p in paths if not any(p.startswith(q + "/") for q in paths if q != p)}
    )
