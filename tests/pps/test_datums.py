"""Tests for loxo.pps.datums: examples, and property tests against brute-force models."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from blake3 import blake3
from hypothesis import given, settings
from hypothesis import strategies as st

from loxo.execution.task import DatumInput
from loxo.pfs.glob import compile_glob
from loxo.pfs.paths import parent_dirs
from loxo.pps.datums import Datum, datum_env, datum_hash, datum_id, datum_task, iter_datums
from loxo.pps.spec import CronInput, Input, PfsInput
from loxo.storage.dirhash import dir_summary
from loxo.storage.fileset import FileEntry
from loxo.storage.hashing import hash_bytes

Repos = dict[str, list[FileEntry]]
# A datum input as the models see it: name, repo, branch, path, hash, file paths, join, group.
MInput = tuple[str, str, str, str, str, tuple[str, ...], str, str]
MDatum = tuple[MInput, ...]


def entry(path: str, content: str = "x") -> FileEntry:
    return FileEntry(path, len(content), hash_bytes(content.encode()), ())


def tree(*paths: str, content: str = "x") -> list[FileEntry]:
    return [entry(p, content + p) for p in sorted(paths)]


def pfs(repo: str, glob: str, name: str = "", **kw: object) -> Input:
    return Input(pfs=PfsInput(name=name or repo, repo=repo, glob=glob, **kw))  # type: ignore[arg-type]


def datums(input: Input, repos: Repos, commits: dict[str, str] | None = None) -> list[Datum]:
    if commits is None:
        commits = {leaf.name: f"c-{leaf.name}" for leaf in input.leaves()}
    return list(iter_datums(input, lambda spec: iter(repos[spec.repo]), commits))


def paths(ds: list[Datum]) -> list[tuple[str, ...]]:
    return [tuple(i.path for i in d.inputs) for d in ds]


def as_model(d: Datum) -> MDatum:
    return tuple(
        (i.name, i.repo, i.branch, i.path, i.hash, tuple(f.path for f in i.files), i.join_on,
         i.group_by)
        for i in d.inputs
    )  # fmt: skip


# --- brute-force models ----------------------------------------------------------------------


def expand(template: str, groups: tuple[str, ...]) -> str:
    for n in range(len(groups), 0, -1):  # longest numbers first: "$12" before "$1"
        template = template.replace(f"${{{n}}}", groups[n - 1]).replace(f"${n}", groups[n - 1])
    return template


def model_pfs(spec: PfsInput, entries: list[FileEntry]) -> list[MDatum]:
    """Every file and directory, each matched on its own, in tree order."""
    glob = compile_glob(spec.glob)
    dirs = {d for e in entries for d in parent_dirs(e.path)} - {"/"}
    candidates = [(p, False) for p in (e.path for e in entries)] + [(d, True) for d in dirs]
    if glob.pattern == "/":
        candidates = [("/", True)] if entries else []
    found: list[MDatum] = []
    for path, is_dir in sorted(candidates, key=lambda c: c[0] + "/" if c[1] else c[0]):
        groups = glob.match(path)
        if groups is None:
            continue
        prefix = path.rstrip("/") + "/"
        under = [e for e in entries if e.path == path or e.path.startswith(prefix)]
        digest = dir_summary(prefix, under)[1] if is_dir else under[0].hash
        name = spec.name or spec.repo
        files = tuple(e.path for e in under)
        j, g = expand(spec.join_on, groups), expand(spec.group_by, groups)
        found.append(((name, spec.repo, spec.branch, path, digest, files, j, g),))
    return found


def key(d: MDatum, field: int) -> tuple[str, ...]:
    """The join (6) or group (7) key: the non-empty values of that field."""
    values = [i[6] if field == 6 else i[7] for i in d]
    return tuple(v for v in values if v)


def model(input: Input, repos: Repos) -> list[MDatum]:
    if input.pfs is not None:
        return model_pfs(input.pfs, repos[input.pfs.repo])
    subs = [model(s, repos) for s in input.children]
    if input.cross:
        return [sum(combo, ()) for combo in itertools.product(*subs)]
    if input.union:
        return [d for sub in subs for d in sub]
    if input.join:
        return model_join(input, subs)
    groups: dict[tuple[str, ...], list[MInput]] = {}
    for sub in subs:
        for d in sub:
            groups.setdefault(key(d, 7), []).extend(d)
    return [tuple(groups[k]) for k in sorted(groups)]


def model_join(input: Input, subs: list[list[MDatum]]) -> list[MDatum]:
    """All tuples of equal keys over every subset of the sub-inputs that may yield them."""
    outer = [s.pfs is not None and s.pfs.outer_join for s in input.join]
    found: list[MDatum] = []
    for size in range(len(subs), 0, -1):
        for chosen in itertools.combinations(range(len(subs)), size):
            if size < len(subs) and not any(outer[i] for i in chosen):
                continue
            for combo in itertools.product(*(subs[i] for i in chosen)):
                keys = {key(d, 6) for d in combo}
                others = [subs[i] for i in range(len(subs)) if i not in chosen]
                if len(keys) == 1 and not any(key(d, 6) in keys for o in others for d in o):
                    found.append(sum(combo, ()))
    return sorted(found, key=lambda d: key(d, 6))  # stable: product order within a key


def model_id(d: MDatum) -> str:
    def lp(text: str) -> bytes:
        return len(text.encode()).to_bytes(4, "big") + text.encode()

    return blake3(b"".join(lp(i[0]) + lp(i[1]) + lp(i[2]) + lp(i[3]) for i in d)).hexdigest()


# --- strategies ------------------------------------------------------------------------------

segment = st.sampled_from(["a", "b", "c", "a.txt", "b.csv"])


@st.composite
def file_trees(draw: st.DrawFn) -> list[FileEntry]:
    """Sorted entries where no file is also a directory, with random content."""
    parts = draw(st.sets(st.lists(segment, min_size=1, max_size=3).map("/".join), max_size=10))
    files = {"/" + p for p in parts}
    files -= {d for f in files for d in parent_dirs(f)}
    return [entry(p, draw(st.sampled_from(["x", "y"]))) for p in sorted(files)]


GLOBS = ["/", "/*", "/*/*", "/**", "/a*", "/(*)", "/(*)/*", "/*/(*)", "/(?)*", "/(*)/(*)"]
GROUP_GLOBS = ["/(*)", "/(*)/*", "/*/(*)", "/(?)*", "/(*)/(*)", "/(*).*", "/(*)/(?)*"]


@st.composite
def inputs(draw: st.DrawFn, depth: int = 2, names: Iterator[int] | None = None) -> Input:
    """A random input tree with unique names; join and group members are pfs inputs."""
    names = names if names is not None else itertools.count()
    kind = draw(st.sampled_from(["pfs", "cross", "union", "join", "group"] if depth else ["pfs"]))
    repo = draw(st.sampled_from(["r0", "r1", "r2"]))
    if kind == "pfs":
        return pfs(repo, draw(st.sampled_from(GLOBS)), name=f"in{next(names)}")
    n = draw(st.integers(1, 3))
    if kind in ("join", "group"):
        field = "join_on" if kind == "join" else "group_by"
        members = []
        for _ in range(n):
            glob = draw(st.sampled_from(GROUP_GLOBS))
            two = compile_glob(glob).group_count == 2
            template = draw(st.sampled_from(["$1", "$2", "${2}-$1"] if two else ["$1", "${1}"]))
            outer = kind == "join" and draw(st.booleans())
            repo = draw(st.sampled_from(["r0", "r1", "r2"]))
            members.append(
                pfs(repo, glob, f"in{next(names)}", outer_join=outer, **{field: template})
            )
        return Input(**{kind: tuple(members)})  # type: ignore[arg-type]
    return Input(**{kind: tuple(draw(inputs(depth - 1, names)) for _ in range(n))})  # type: ignore[arg-type]


repo_sets = st.fixed_dictionaries({r: file_trees() for r in ("r0", "r1", "r2")})


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(inputs(), repo_sets)
def test_datums_match_brute_force_model(input: Input, repos: Repos) -> None:
    found = datums(input, repos)
    expected = model(input, repos)
    assert [as_model(d) for d in found] == expected
    assert [d.id for d in found] == [model_id(d) for d in expected]
    assert len({d.id for d in found}) == len(found)  # unique names: unique IDs


@given(st.sampled_from(GLOBS), file_trees())
def test_datum_inputs_carry_their_files(glob: str, entries: list[FileEntry]) -> None:
    by_path = {e.path: e for e in entries}
    for d in datums(pfs("r", glob), {"r": entries}):
        (i,) = d.inputs
        assert i.commit == "c-r" and i.project == "default"
        assert [(f.path, f.size, f.hash, f.refs) for f in i.files] == [
            by_path[f.path] for f in i.files
        ]
        assert d.id == datum_id(d.inputs)


# --- examples: one pfs input -------------------------------------------------------------------

REPO = tree("/a.txt", "/a/x", "/a/y/z", "/b")


def test_root_glob_is_one_datum_with_the_whole_commit() -> None:
    (d,) = datums(pfs("r", "/"), {"r": REPO})
    (i,) = d.inputs
    assert i.path == "/" and [f.path for f in i.files] == [e.path for e in REPO]
    assert i.hash == dir_summary("/", REPO)[1]
    assert dict(datum_env(d))["r"] == "/pfs/r"


def test_root_glob_on_an_empty_commit_gives_no_datum() -> None:
    assert datums(pfs("r", "/"), {"r": []}) == []
    assert datums(pfs("r", "/*"), {"r": []}) == []


def test_star_gives_top_level_files_and_directories_in_tree_order() -> None:
    ds = datums(pfs("r", "/*"), {"r": REPO})
    assert paths(ds) == [("/a.txt",), ("/a",), ("/b",)]
    a = ds[1].inputs[0]
    assert [f.path for f in a.files] == ["/a/x", "/a/y/z"]
    assert a.hash == dir_summary("/a/", [e for e in REPO if e.path.startswith("/a/")])[1]
    assert ds[0].inputs[0].hash == REPO[0].hash


def test_nested_matches_keep_tree_order() -> None:
    ds = datums(pfs("r", "/**"), {"r": REPO})
    assert paths(ds) == [("/a.txt",), ("/a",), ("/a/x",), ("/a/y",), ("/a/y/z",), ("/b",)]
    assert [f.path for f in ds[1].inputs[0].files] == ["/a/x", "/a/y/z"]
    assert [f.path for f in ds[3].inputs[0].files] == ["/a/y/z"]


def test_no_match_and_missing_commit_give_no_datum() -> None:
    assert datums(pfs("r", "/nothing*"), {"r": REPO}) == []
    assert datums(pfs("r", "/*"), {"r": REPO}, commits={}) == []


def test_capture_groups_expand_join_on_and_group_by() -> None:
    entries = tree("/2024-01/x.csv", "/2024-02/y.csv")
    input = pfs("r", "/(*)-(*)/*", join_on="$2", group_by="${1}-$2")
    ds = datums(input, {"r": entries})
    assert [(d.inputs[0].join_on, d.inputs[0].group_by) for d in ds] == [
        ("01", "2024-01"),
        ("02", "2024-02"),
    ]
    env = dict(datum_env(ds[0]))
    assert env["PACH_DATUM_r_JOIN_ON"] == "01" and env["PACH_DATUM_r_GROUP_BY"] == "2024-01"


def test_streams_a_pfs_input() -> None:
    pulled = 0

    def endless() -> Iterator[FileEntry]:
        nonlocal pulled
        for n in itertools.count():
            pulled += 1
            yield entry(f"/f{n:012d}")

    found = itertools.islice(iter_datums(pfs("r", "/*"), lambda _: endless(), {"r": "c"}), 3)
    assert len(list(found)) == 3 and pulled <= 4


def test_cron_input_is_one_datum_per_tick_file() -> None:
    cron = Input(cron=CronInput(name="tick", spec="@every 1m", repo="p_tick"))
    ticks = tree("/2024-01-01T00:00:00Z", "/2024-01-01T00:01:00Z")
    ds = datums(cron, {"p_tick": ticks})
    assert paths(ds) == [("/2024-01-01T00:00:00Z",), ("/2024-01-01T00:01:00Z",)]
    assert {(i.name, i.repo, i.branch) for d in ds for i in d.inputs} == {
        ("tick", "p_tick", "master")
    }


# --- examples: combinations --------------------------------------------------------------------


def test_cross_first_input_varies_slowest_and_empty_side_gives_nothing() -> None:
    repos = {"l": tree("/1", "/2"), "r": tree("/x", "/y"), "e": []}
    ds = datums(Input(cross=(pfs("l", "/*"), pfs("r", "/*"))), repos)
    assert paths(ds) == [("/1", "/x"), ("/1", "/y"), ("/2", "/x"), ("/2", "/y")]
    assert datums(Input(cross=(pfs("l", "/*"), pfs("e", "/*"))), repos) == []
    assert datums(Input(cross=(pfs("e", "/*"), pfs("l", "/*"))), repos) == []


def test_union_concatenates_and_nests_in_cross() -> None:
    repos = {"l": tree("/1", "/2"), "r": tree("/x"), "c": tree("/c")}
    union = Input(union=(pfs("l", "/*"), pfs("r", "/*")))
    assert paths(datums(union, repos)) == [("/1",), ("/2",), ("/x",)]
    ds = datums(Input(cross=(union, pfs("c", "/*"))), repos)
    assert paths(ds) == [("/1", "/c"), ("/2", "/c"), ("/x", "/c")]


def test_union_drops_repeated_datum_ids() -> None:
    same = pfs("r", "/*"), pfs("r", "/a*")  # same name, repo, branch: overlapping IDs
    assert paths(datums(Input(union=same), {"r": REPO})) == [("/a.txt",), ("/a",), ("/b",)]


def join_repos() -> Repos:
    return {"a": tree("/1.csv", "/2.csv", "/3.csv"), "b": tree("/1.txt", "/2.txt", "/4.txt")}


def test_inner_join_pairs_equal_keys_in_key_order() -> None:
    join = Input(join=(pfs("a", "/(*).csv", join_on="$1"), pfs("b", "/(*).txt", join_on="$1")))
    assert paths(datums(join, join_repos())) == [("/1.csv", "/1.txt"), ("/2.csv", "/2.txt")]


def test_outer_join_keeps_the_outer_inputs_unmatched_keys() -> None:
    left = pfs("a", "/(*).csv", join_on="$1", outer_join=True)
    join = Input(join=(left, pfs("b", "/(*).txt", join_on="$1")))
    assert paths(datums(join, join_repos())) == [
        ("/1.csv", "/1.txt"),
        ("/2.csv", "/2.txt"),
        ("/3.csv",),
    ]
    right = pfs("b", "/(*).txt", join_on="$1", outer_join=True)
    full = Input(join=(left, right))
    assert paths(datums(full, join_repos()))[2:] == [("/3.csv",), ("/4.txt",)]


def test_group_puts_every_match_of_a_key_in_one_datum() -> None:
    repos = {"a": tree("/x-1", "/y-1", "/x-2"), "b": tree("/1/f", "/3/g")}
    group = Input(group=(pfs("a", "/*-(*)", group_by="$1"), pfs("b", "/(*)/*", group_by="$1")))
    ds = datums(group, repos)
    assert paths(ds) == [("/x-1", "/y-1", "/1/f"), ("/x-2",), ("/3/g",)]
    env = dict(datum_env(ds[0]))
    assert env["a"] == "/pfs/a" and env["b"] == "/pfs/b/1/f"  # a is there twice: its root


# --- identity, hashes, environment -------------------------------------------------------------


def one(input: Input, repos: Repos) -> Datum:
    (d,) = datums(input, repos)
    return d


def test_id_is_content_independent_and_hash_content_and_salt_dependent() -> None:
    old = one(pfs("r", "/*"), {"r": tree("/f", content="old")})
    new = one(pfs("r", "/*"), {"r": tree("/f", content="new")})
    assert old.id == new.id
    assert old.hash("s") != new.hash("s")
    assert old.hash("s") != old.hash("t")
    assert (
        old.hash("s")
        == datum_hash(old, "s")
        == one(pfs("r", "/*"), {"r": tree("/f", content="old")}).hash("s")
    )


@pytest.mark.parametrize(
    "other",
    [
        pfs("r", "/*", name="renamed"),
        pfs("r2", "/*", name="r"),
        pfs("r", "/*", branch="dev"),
        pfs("r", "/g*"),
    ],
)
def test_id_depends_on_name_repo_branch_and_path(other: Input) -> None:
    repos = {"r": tree("/f", "/g"), "r2": tree("/f", "/g")}
    base = datums(pfs("r", "/f*"), repos)[0]
    assert datums(other, repos)[-1].id != base.id


def test_id_and_hash_encoding_are_pinned() -> None:
    d = one(pfs("r", "/*"), {"r": tree("/f")})

    def lp(text: str) -> bytes:
        return len(text.encode()).to_bytes(4, "big") + text.encode()

    assert d.id == blake3(lp("r") + lp("r") + lp("master") + lp("/f")).hexdigest()
    assert d.hash("salt") == blake3(lp(d.id) + lp(d.inputs[0].hash) + lp("salt")).hexdigest()


def test_env_and_task() -> None:
    d = one(pfs("r", "/*", name="in"), {"r": tree("/dir/f")})
    env = datum_env(d)
    assert env == (("PACH_DATUM_ID", d.id), ("in", "/pfs/in/dir"), ("in_COMMIT", "c-in"))
    assert dict(datum_env(d, pfs_root="/tmp/x"))["in"] == "/tmp/x/in/dir"
    task = datum_task(d)
    assert (task.datum_id, task.inputs, task.env) == (d.id, d.inputs, env)


def test_datum_input_field_order_is_the_one_datums_builds_positionally() -> None:
    names = list(DatumInput._fields)
    assert names == [
        *("name", "repo", "branch", "commit", "path", "hash", "files", "project"),
        *("join_on", "group_by", "empty_files", "lazy"),
    ]
    d = one(pfs("r", "/*", lazy=True, empty_files=True, project="p"), {"r": tree("/f")})
    assert (d.inputs[0].lazy, d.inputs[0].empty_files, d.inputs[0].project) == (True, True, "p")
