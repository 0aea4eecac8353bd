"""Tests for loxo.pfs.paths: canonical paths and names."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loxo.errors import InvalidArgumentError, InvalidName, InvalidPath
from loxo.pfs.paths import (
    basename,
    dirname,
    is_under,
    join,
    normalize_path,
    parent_dirs,
    validate_name,
)

part = st.text(alphabet="ab.-_ x1é", min_size=1, max_size=4).filter(lambda p: p not in (".", ".."))
parts = st.lists(part, max_size=5)
messy_separator = st.sampled_from(["/", "//", "///"])


@st.composite
def messy_paths(draw: st.DrawFn) -> tuple[list[str], str]:
    """Valid parts joined with runs of '/', maybe with leading/trailing '/'."""
    ps = draw(parts)
    text = draw(st.sampled_from(["", "/", "//"]))
    for i, p in enumerate(ps):
        text += (draw(messy_separator) if i else "") + p
    return ps, text + draw(st.sampled_from(["", "/", "//"]))


@pytest.mark.parametrize(
    ("given_path", "expected"),
    [
        ("a", "/a"),
        ("/a/b", "/a/b"),
        ("a//b/", "/a/b"),
        ("//a///b//", "/a/b"),
        ("", "/"),
        ("/", "/"),
        ("///", "/"),
        ("/a b/c.d-e_f", "/a b/c.d-e_f"),
        ("/...", "/..."),
        ("/.hidden/x", "/.hidden/x"),
    ],
)
def test_normalize_examples(given_path: str, expected: str) -> None:
    assert normalize_path(given_path) == expected


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("/a/./b", "'.' parts"),
        ("/a/../b", "'..' parts"),
        ("..", "'..' parts"),
        ("/a\nb", "not printable"),
        ("/a\tb", "not printable"),
        ("/a\x00", "not printable"),
        ("/a*b", "'*' is a glob character"),
        ("/a?", "'?'"),
        ("/[x]", "'['"),
        ("/x{y", "'{'"),
        ("/a!", "'!'"),
        ("/(a)", "'('"),
        ("/a@b", "'@'"),
        ("/a+b", "'+'"),
        ("/a^", "'^'"),
    ],
)
def test_normalize_rejects(bad: str, fragment: str) -> None:
    with pytest.raises(InvalidPath) as info:
        normalize_path(bad)
    assert fragment in str(info.value)
    assert info.value.path == bad
    assert isinstance(info.value, InvalidArgumentError)


def test_glob_character_message_explains() -> None:
    with pytest.raises(InvalidPath, match=r"glob characters .* are not allowed in file names"):
        normalize_path("/data/*.csv")


@pytest.mark.parametrize("root", ["", "/", "//"])
def test_root_only_where_allowed(root: str) -> None:
    assert normalize_path(root) == "/"
    with pytest.raises(InvalidPath, match="is the root directory, not a file") as info:
        normalize_path(root, allow_root=False)
    assert info.value.path == "/"
    assert normalize_path("/a", allow_root=False) == "/a"


@given(messy_paths())
def test_normalize_model(case: tuple[list[str], str]) -> None:
    ps, text = case
    assert normalize_path(text) == "/" + "/".join(ps)


@given(messy_paths())
def test_normalize_invariants(case: tuple[list[str], str]) -> None:
    norm = normalize_path(case[1])
    assert normalize_path(norm) == norm  # idempotent
    assert norm.startswith("/")
    assert "//" not in norm
    assert norm == "/" or not norm.endswith("/")


@given(st.text(max_size=12))
def test_normalize_total(text: str) -> None:
    """Any text is either normalized (idempotently) or rejected with InvalidPath."""
    try:
        norm = normalize_path(text)
    except InvalidPath:
        return
    assert normalize_path(norm) == norm
    assert norm.isprintable()


@given(parts.filter(bool))
def test_parent_dirs_dirname_basename(ps: list[str]) -> None:
    path = "/" + "/".join(ps)
    dirs = parent_dirs(path)
    assert dirs == ["/" + "/".join(ps[:i]) for i in range(1, len(ps))]
    assert basename(path) == ps[-1]
    assert dirname(path) == (dirs[-1] if dirs else "/")
    assert all(is_under(path, d) for d in [*dirs, "/", path])
    assert join(dirname(path), basename(path)) == path


def test_path_helpers_examples() -> None:
    assert parent_dirs("/a/b/c.txt") == ["/a", "/a/b"]
    assert parent_dirs("/a") == []
    assert parent_dirs("/") == []
    assert dirname("/a") == "/"
    assert basename("/") == ""
    assert join("/", "a") == "/a"
    assert join("/a", "b/c/") == "/a/b/c"
    assert is_under("/a/b", "/a")
    assert is_under("/a", "/a")
    assert not is_under("/ab", "/a")
    assert not is_under("/a", "/a/b")
    with pytest.raises(InvalidPath):
        join("/a", "../b")


NAME_MODEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,62}")


@pytest.mark.parametrize("name", ["a", "images", "my-repo_2", "A" * 63, "a-", "_x", "9-"])
def test_valid_names(name: str) -> None:
    assert validate_name("repo", name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("a" * 64, "at most 63"),
        ("a.b", "'.'"),
        ("a b", "' '"),
        ("a/b", "'/'"),
        ("é", "'é'"),
        ("a@b", "it is a ref (REPO@BRANCH), not a branch name; pass the repo ('a')"),
        ("-", "starts with '-', so a command line would take it for an option"),
        ("-x", "starts with '-'"),
        ("--foo", "starts with '-'"),
    ],
)
def test_invalid_names(name: str, fragment: str) -> None:
    with pytest.raises(InvalidName) as info:
        validate_name("branch", name)
    message = str(info.value)
    assert fragment in message
    assert message.startswith("invalid branch name")
    assert info.value.kind == "branch"
    assert info.value.name == name


@given(st.text(alphabet="ab1-_.é/ Z@", max_size=70))
def test_validate_name_model(name: str) -> None:
    if NAME_MODEL.fullmatch(name):
        assert validate_name("repo", name) == name
    else:
        with pytest.raises(InvalidName):
            validate_name("repo", name)


def _normalize_model(text: str, allow_root: bool = True) -> str | None:
    """The canonical form by the rules, written plainly (None: rejected)."""
    if any(not c.isprintable() or c in "*?[]{}!()@+^" for c in text):
        return None
    kept = [p for p in text.split("/") if p]
    if any(p in (".", "..") for p in kept):
        return None
    if not kept:
        return "/" if allow_root else None
    return "/" + "/".join(kept)


@given(st.text(alphabet="/.ab*\n é", max_size=10), st.booleans())
def test_normalize_agrees_with_the_rules(text: str, allow_root: bool) -> None:
    # the quick path for canonical input and the general one give the same answers
    expected = _normalize_model(text, allow_root)
    if expected is None:
        with pytest.raises(InvalidPath):
            normalize_path(text, allow_root)
    else:
        assert normalize_path(text, allow_root) == expected
