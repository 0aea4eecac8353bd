"""Tests for loxo.pfs.glob: examples, errors, and property tests against brute-force models."""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Iterator
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loxo.errors import InvalidArgumentError, InvalidGlob
from loxo.pfs.glob import GlobMatch, compile_glob, glob_tree
from loxo.pfs.paths import parent_dirs

# --- an independent model for the subset: literals, '*', '?', '**' -------------------------


def model_tokens(pattern: str) -> list[str]:
    text = pattern if pattern.startswith("/") else "/" + pattern
    text = text.rstrip("/") or "/"
    tokens = re.findall(r"\*+|.", text)
    return ["**" if t.startswith("**") else t for t in tokens]


def model_match(pattern: str, path: str) -> bool:
    tokens = model_tokens(pattern)
    if path == "/":
        return tokens == ["/"]

    @cache
    def at(i: int, j: int) -> bool:
        if i == len(tokens):
            return j == len(path)
        token = tokens[i]
        if token == "**":
            return any(at(i + 1, k) for k in range(j, len(path) + 1))
        if token == "*":
            k = j
            while not at(i + 1, k):
                if k == len(path) or path[k] == "/":
                    return False
                k += 1
            return True
        if token == "?":
            return j < len(path) and path[j] != "/" and at(i + 1, j + 1)
        return path.startswith(token, j) and at(i + 1, j + 1)

    return at(0, 0)


def tree_key(match: GlobMatch) -> str:
    return match.path + "/" if match.is_dir else match.path


def model_glob_tree(pattern: str, files: list[str]) -> list[GlobMatch]:
    """Build every file and directory, then match each one."""
    entries = {(f, False) for f in files} | {(d, True) for f in files for d in parent_dirs(f)}
    entries.add(("/", True))
    found = [GlobMatch(p, d, ()) for p, d in entries if model_match(pattern, p)]
    return sorted(found, key=tree_key)


segment = st.text(alphabet="ab-.", min_size=1, max_size=3).filter(lambda s: s not in (".", ".."))


@st.composite
def file_trees(draw: st.DrawFn) -> list[str]:
    """Sorted file paths where no file is also a directory."""
    paths = draw(st.sets(st.lists(segment, min_size=1, max_size=4).map("/".join), max_size=25))
    files = {"/" + p for p in paths}
    dirs = {d for f in files for d in parent_dirs(f)}
    return sorted(files - dirs)


simple_patterns = st.lists(
    st.sampled_from(["/", "a", "b", "-", ".", "*", "?", "**"]), max_size=7
).map("".join)


@given(simple_patterns, file_trees())
def test_glob_tree_matches_model(pattern: str, files: list[str]) -> None:
    assert list(glob_tree(pattern, files)) == model_glob_tree(pattern, files)


@given(simple_patterns, st.text(alphabet="ab-./", max_size=8))
def test_match_agrees_with_model(pattern: str, path: str) -> None:
    assert (compile_glob(pattern).match(path) is not None) == model_match(pattern, path)


rich_patterns = st.lists(
    st.sampled_from(
        ["/", "a", "b", "*", "?", "**", "{a,b/a}", "[ab]", "[!a]", "(a|b)", "?(a/)", "*(b)"]
    ),
    max_size=6,
).map("".join)


@given(rich_patterns, file_trees())
def test_glob_tree_invariants(pattern: str, files: list[str]) -> None:
    glob = compile_glob(pattern)
    found = list(glob_tree(glob, files))
    keys = [tree_key(m) for m in found]
    assert keys == sorted(set(keys))  # tree order, no duplicates
    everything = [*model_glob_tree("**", files), GlobMatch("/", True, ())]
    expected = [e for e in everything if glob.match(e.path) is not None]
    assert sorted(m.path for m in found) == sorted(e.path for e in expected)
    for m in found:
        assert m.path.startswith(glob.literal_prefix)
        assert glob.max_depth is None or m.path.count("/") <= glob.max_depth or m.path == "/"
        assert m.groups == glob.match(m.path)
        assert len(m.groups) == glob.group_count


@given(
    st.lists(st.sampled_from(["a", "b", ".", "*", "?", "[ab]", "[!a]", "[a-b]"]), max_size=6),
    st.text(alphabet="ab.-", min_size=1, max_size=6),
)
def test_single_segment_agrees_with_fnmatch(tokens: list[str], name: str) -> None:
    pattern = re.sub(r"\*+", "*", "".join(tokens))  # '**' would cross '/'; fnmatch's does too
    matched = compile_glob("/" + pattern).match("/" + name) is not None
    assert matched == fnmatch.fnmatchcase(name, pattern)


# --- Pachyderm's levels --------------------------------------------------------------------

TREE = ["/a-b", "/a.txt", "/a/b", "/a/c/d.csv", "/a/c/e.csv", "/b"]


def paths_of(pattern: str, files: list[str] = TREE) -> list[str]:
    return [m.path for m in glob_tree(pattern, files)]


def test_root_is_one_match() -> None:
    assert list(glob_tree("/", TREE)) == [GlobMatch("/", True, ())]
    assert list(glob_tree("", [])) == [GlobMatch("/", True, ())]
    assert compile_glob("/").match("/") == ()
    assert compile_glob("**").match("/") is None
    assert "/" not in paths_of("**")


def test_levels_in_tree_order() -> None:
    assert paths_of("/*") == ["/a-b", "/a.txt", "/a", "/b"]
    assert [m.is_dir for m in glob_tree("/*", TREE)] == [False, False, True, False]
    assert paths_of("/*/*") == ["/a/b", "/a/c"]
    assert paths_of("/*/*/*") == ["/a/c/d.csv", "/a/c/e.csv"]
    assert paths_of("**") == ["/a-b", "/a.txt", "/a", "/a/b", "/a/c", *TREE[3:]]
    assert paths_of("/**.csv") == ["/a/c/d.csv", "/a/c/e.csv"]
    assert paths_of("/a/") == ["/a"]
    assert paths_of("/nothing/*") == []


def test_input_order_is_checked_and_duplicates_skipped() -> None:
    assert paths_of("/*", ["/a", "/a", "/b"]) == ["/a", "/b"]
    with pytest.raises(ValueError, match="sorted"):
        list(glob_tree("/*", ["/b", "/a"]))


def test_glob_tree_streams() -> None:
    def endless() -> Iterator[str]:
        for i in itertools.count():
            yield f"/d{i // 1000:09d}/f{i:09d}"

    first = list(itertools.islice(glob_tree("/*/*", endless()), 3))
    assert [m.path for m in first] == ["/d000000000/f000000000", "/d000000000/f000000001",
                                       "/d000000000/f000000002"]  # fmt: skip
    first_dirs = list(itertools.islice(glob_tree("/*", endless()), 2))
    assert [m.path for m in first_dirs] == ["/d000000000", "/d000000001"]


# --- syntax ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "groups"),
    [
        ("/(*)/(*).csv", "/2024/jan.csv", ("2024", "jan")),
        ("/(*)/(*).csv", "/2024/x/jan.csv", None),
        ("/((a)|b)", "/a", ("a", "a")),
        ("/((a)|b)", "/b", ("b", "")),
        ("/{(a),b}", "/b", ("",)),
        ("/(**)", "/x/y", ("x/y",)),
        ("/a*(a|b)/x", "/aaba/x", ("aba",)),
        ("/a+(a|b)/x", "/a/x", None),
        ("/a?(b)", "/a", ("",)),
        ("/@(x|y)-(*)", "/y-1", ("y", "1")),
        ("/*", "/a", ()),
        ("/*", "/a/b", None),
    ],
)
def test_groups(pattern: str, path: str, groups: tuple[str, ...] | None) -> None:
    assert compile_glob(pattern).match(path) == groups


def test_groups_in_glob_tree() -> None:
    assert list(glob_tree("/(*)/(*).csv", TREE)) == []  # '*' does not cross '/'
    found = list(glob_tree("/a/(*)/(*).csv", TREE))
    assert [m.groups for m in found] == [("c", "d"), ("c", "e")]


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("/{a,b}.txt", ["/a.txt", "/b.txt"], ["/c.txt", "/ab.txt"]),
        ("/{a,b{c,d}}", ["/a", "/bc", "/bd"], ["/b", "/ac"]),
        ("/{x/y,z}", ["/x/y", "/z"], ["/x", "/x/z"]),
        ("/a{,b}", ["/a", "/ab"], ["/b"]),
        ("/{*.csv,[0-9]?}", ["/x.csv", "/12"], ["/1", "/a/x.csv"]),
        ("/a,b", ["/a,b"], ["/a"]),
        ("/[abc]", ["/a", "/c"], ["/d", "/ab"]),
        ("/[a-c]x", ["/bx"], ["/dx"]),
        ("/[!a-c]", ["/d", "/-"], ["/a", "/c", "//"]),
        ("/[^a]", ["/b"], ["/a"]),
        ("/a[/]b", [], ["/a/b"]),
        ("/a[!x]b", ["/ayb"], ["/a/b"]),
        ("/a[.-0]b", ["/a.b", "/a0b"], ["/a/b"]),
        ("/[-a]", ["/-", "/a"], ["/b"]),
        ("/[a-]", ["/-", "/a"], ["/b"]),
        ("/[a\\-c]", ["/-", "/a", "/c"], ["/b"]),
        ("/[\\]]", ["/]"], ["/a"]),
        ("/a\\*", ["/a*"], ["/ab"]),
        ("/\\{a,b\\}", ["/{a,b}"], ["/a"]),
        ("/a\\\\b", ["/a\\b"], ["/ab"]),
        ("/a/", ["/a"], ["/a/b"]),
        ("a/*", ["/a/b"], ["/a"]),
        ("/**/x", ["/a/x", "/a/b/x"], ["/x"]),
        ("/***", ["/a/b"], []),
    ],
)
def test_syntax(pattern: str, yes: list[str], no: list[str]) -> None:
    glob = compile_glob(pattern)
    assert all(glob.match(p) is not None for p in yes)
    assert all(glob.match(p) is None for p in no)


@pytest.mark.parametrize(
    ("pattern", "prefix", "depth"),
    [
        ("/data/2024/*.csv", "/data/2024/", 3),
        ("data/2024/x.csv", "/data/2024/", 3),
        ("/data/2024", "/data/", 2),
        ("/", "/", 0),
        ("/*", "/", 1),
        ("/a/{b,c/d}/*", "/a/", 4),
        ("/a/**", "/a/", None),
        ("/a/*(b/)", "/a/", None),
        ("/a/?(b/)c", "/a/", 3),
        ("/a\\,b/c*", "/a,b/", 2),
    ],
)
def test_prefix_and_depth(pattern: str, prefix: str, depth: int | None) -> None:
    glob = compile_glob(pattern)
    assert glob.literal_prefix == prefix
    assert glob.max_depth == depth


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("/a[", "unclosed '[' at character 3"),
        ("a[", "unclosed '[' at character 2"),
        ("/[ab", "unclosed '['"),
        ("/a{b,c", "unclosed '{' at character 3"),
        ("/a(b", "unclosed '(' at character 3"),
        ("/a*(b", "unclosed '(' at character 3"),
        ("/a)", "unmatched ')' at character 3"),
        ("/a}", "unmatched '}' at character 3"),
        ("/{a,b)}", "unmatched ')'"),
        ("/[]", "empty character class at character 2"),
        ("/[!]", "empty character class"),
        ("/[z-a]", "reversed range"),
        ("/a\\", "ends with an escape"),
        ("/!(a)", "not supported"),
    ],
)
def test_malformed(pattern: str, fragment: str) -> None:
    with pytest.raises(InvalidGlob) as info:
        compile_glob(pattern)
    assert fragment in str(info.value)
    assert info.value.pattern == pattern
    assert isinstance(info.value, InvalidArgumentError)
