"""Tests for loxo.pfs.refs: the ancestry syntax."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loxo.errors import InvalidArgumentError, InvalidRef
from loxo.pfs.refs import CommitRef, format_ref, is_commit_id, parse_commit_ref

ID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("images", CommitRef("images")),
        ("images@master", CommitRef("images", ref="master")),
        ("images@master^", CommitRef("images", ref="master", ancestors=1)),
        ("images@master^2", CommitRef("images", ref="master", ancestors=2)),
        ("images@master^^", CommitRef("images", ref="master", ancestors=2)),
        ("images@master^^3", CommitRef("images", ref="master", ancestors=4)),
        ("images@master^0", CommitRef("images", ref="master")),
        ("images@master.3", CommitRef("images", ref="master", index=3)),
        ("images@master.-2", CommitRef("images", ref="master", ancestors=2)),
        ("images@master.-0", CommitRef("images", ref="master")),
        (f"images@{ID}", CommitRef("images", ref=ID)),
        (f"images@{ID}^", CommitRef("images", ref=ID, ancestors=1)),
        ("proj/images@dev", CommitRef("images", project="proj", ref="dev")),
        ("my-repo_1@feature-x_2", CommitRef("my-repo_1", ref="feature-x_2")),
    ],
)
def test_parse(text: str, expected: CommitRef) -> None:
    assert parse_commit_ref(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("images:/a/b", CommitRef("images", path="/a/b")),
        ("images:a//b/", CommitRef("images", path="/a/b")),
        ("images@master:/x.png", CommitRef("images", ref="master", path="/x.png")),
        ("images@master:", CommitRef("images", ref="master", path="/")),
        ("p/images@master^2:/a:b", CommitRef("images", "p", "master", 2, path="/a:b")),
    ],
)
def test_parse_with_path(text: str, expected: CommitRef) -> None:
    assert parse_commit_ref(text, allow_path=True) == expected


def test_default_project() -> None:
    assert parse_commit_ref("images", default_project="p").project == "p"
    assert parse_commit_ref("q/images", default_project="p").project == "q"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("images@master.0", "commit positions start at 1"),
        ("images@master.", "expected a number after '.'"),
        ("images@master.-", "expected a number after '.-'"),
        ("images@master.x", "expected a number"),
        ("images@master.3^", "expected a number"),
        ("images@master^x", "cannot read '^x'"),
        ("images@master^-1", "cannot read"),
        ("", "invalid repo name '': it is empty"),
        ("@master", "invalid repo name ''"),
        ("/images", "invalid project name ''"),
        ("images@", "name a branch or a commit id after '@'"),
        ("images@^", "name a branch or a commit id"),
        ("ima ges", "character ' ' is not allowed"),
        ("images@mas ter", "invalid branch name"),
        ("images@a@b", "invalid branch name"),
        ("a/b/c", "invalid repo name 'b/c'"),
        ("images^", "follows a branch or commit"),
        ("images.1", "follows a branch or commit"),
        ("images:/a", "a path is not allowed here"),
        ("x" * 64, "at most 63"),
    ],
)
def test_invalid(text: str, fragment: str) -> None:
    with pytest.raises(InvalidRef) as info:
        parse_commit_ref(text)
    assert fragment in str(info.value)
    assert info.value.ref == text
    assert isinstance(info.value, InvalidArgumentError)


def test_invalid_path_becomes_invalid_ref() -> None:
    with pytest.raises(InvalidRef, match="not allowed in file names"):
        parse_commit_ref("images@master:/a*", allow_path=True)
    with pytest.raises(InvalidRef, match=r"'\.\.' parts"):
        parse_commit_ref("images:/../etc", allow_path=True)


def test_is_commit_id() -> None:
    assert is_commit_id(ID)
    assert not is_commit_id(ID.upper())
    assert not is_commit_id(ID[:-1])
    assert not is_commit_id(ID + "0")
    assert not is_commit_id("g" * 32)
    assert not is_commit_id(ID[:-1] + "\n")


def test_commit_ref_checks_itself() -> None:
    with pytest.raises(ValueError):
        CommitRef("r", ref="m", index=0)
    with pytest.raises(ValueError):
        CommitRef("r", ref="m", ancestors=-1)
    with pytest.raises(ValueError):
        CommitRef("r", ref="m", ancestors=1, index=2)
    with pytest.raises(ValueError, match="ancestry needs a branch"):
        format_ref(CommitRef("r", ancestors=1))


def test_format_examples() -> None:
    assert format_ref(CommitRef("images")) == "images"
    assert format_ref(CommitRef("images", ref="master", ancestors=1)) == "images@master^"
    assert format_ref(CommitRef("images", ref="master", ancestors=3)) == "images@master^3"
    assert format_ref(CommitRef("images", "p", "m", index=2, path="/a")) == "p/images@m.2:/a"


names = st.from_regex(r"[abcXYZ019_][abcXYZ019_-]{0,62}", fullmatch=True)
path_parts = st.lists(st.text(alphabet="ab-. ", min_size=1, max_size=3), max_size=3)


@st.composite
def commit_refs(draw: st.DrawFn) -> CommitRef:
    ref = draw(st.none() | names | st.text(alphabet="0123456789abcdef", min_size=32, max_size=32))
    ancestors, index = 0, None
    if ref is not None:
        if draw(st.booleans()):
            index = draw(st.integers(1, 10**6))
        else:
            ancestors = draw(st.integers(0, 10**6))
    parts = [p for p in draw(path_parts) if p not in (".", "..")]
    path = draw(st.sampled_from([None, "/" + "/".join(parts)]))
    project = draw(st.just("default") | names)
    return CommitRef(draw(names), project, ref, ancestors, index, path)


@given(commit_refs())
def test_round_trip(ref: CommitRef) -> None:
    text = format_ref(ref)
    assert parse_commit_ref(text, allow_path=True) == ref
    assert format_ref(parse_commit_ref(text, allow_path=True)) == text


@given(st.text(alphabet="ab@^.-:/_019 ", max_size=16))
def test_parse_total(text: str) -> None:
    """Any text parses (and then formats to an equivalent ref) or raises InvalidRef."""
    try:
        ref = parse_commit_ref(text, allow_path=True)
    except InvalidRef:
        return
    if ref.ref is None:
        assert ref.ancestors == 0 and ref.index is None
    assert parse_commit_ref(format_ref(ref), allow_path=True) == ref
