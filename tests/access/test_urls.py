"""``loxo://`` paths to locations: the examples of the grammar, and names round-tripping
(what ``ls`` returns parses back to the same commit and path)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loxo.access.urls import Location, parse_location
from loxo.errors import InvalidArgumentError
from loxo.pfs.refs import CommitRef

CID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("path", "ref", "pfs_path", "branch"),
    [
        ("images@master/a/b.png", CommitRef("images", ref="master"), "/a/b.png", "master"),
        ("images/a/b.png", CommitRef("images"), "/a/b.png", "master"),
        ("images", CommitRef("images"), "/", "master"),
        ("images@dev", CommitRef("images", ref="dev"), "/", "dev"),
        ("images@master^1/x", CommitRef("images", ref="master", ancestors=1), "/x", None),
        ("images@master.2/x", CommitRef("images", ref="master", index=2), "/x", None),
        (f"images@{CID}/x", CommitRef("images", ref=CID), "/x", None),
        ("proj/images@dev/x/y", CommitRef("images", "proj", "dev"), "/x/y", "dev"),
        ("proj/images@dev", CommitRef("images", "proj", "dev"), "/", "dev"),
        ("images@master//a//b/", CommitRef("images", ref="master"), "/a/b", "master"),
    ],
)
def test_examples(path: str, ref: CommitRef, pfs_path: str, branch: str | None) -> None:
    loc = parse_location(path)
    assert loc is not None
    assert (loc.ref, loc.path, loc.branch) == (ref, pfs_path, branch)


def test_the_root_and_bad_refs() -> None:
    assert parse_location("") is None and parse_location("/") is None
    with pytest.raises(InvalidArgumentError, match="images@ma\\$ter"):
        parse_location("images@ma$ter/a")
    with pytest.raises(InvalidArgumentError):
        parse_location("images@master/a*b")  # glob characters are never in a file path


names = st.text("abcXYZ019_-", min_size=1, max_size=8).filter(
    lambda n: not n.startswith("-")  # names that look like options are refused
)
refs = st.one_of(
    names, names.map(lambda b: b + "^"), st.integers(1, 9).map(lambda n: f"master.{n}"),
    st.just(CID))  # fmt: skip
paths = st.lists(st.text("abc.-_ 1", min_size=1, max_size=5), max_size=4).filter(
    lambda parts: not any(p in (".", "..") for p in parts)
)


@given(st.one_of(st.none(), names), names, st.one_of(st.none(), refs), paths)
def test_names_round_trip(
    project: str | None, repo: str, ref: str | None, parts: list[str]
) -> None:
    where = repo if ref is None else f"{repo}@{ref}"
    where = where if project is None or ref is None else f"{project}/{where}"
    loc = parse_location("/".join([where, *parts]))
    assert isinstance(loc, Location)
    assert loc.ref.repo == repo and loc.ref.project == (project if ref and project else "default")
    for sub in (loc.path, "/z", loc.path.rstrip("/") + "/z"):
        again = parse_location(loc.name(sub))
        assert again is not None and (again.ref, again.path) == (loc.ref, sub)
    pinned = loc.pinned(CID)
    assert (pinned.ref.ref, pinned.branch, pinned.path) == (CID, None, loc.path)
    assert parse_location(pinned.name(loc.path)) == pinned
