"""Stateful property test: random PFS operations against a plain dict model.

Operations: put, append, delete (file or directory), copy, start/finish commit, branch moves.
After every step, every finished commit the model knows must read back exactly as the model
says (file set and bytes), and the branch heads must match.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from loxo.errors import FileNotFound, LoxoError, PathConflict
from loxo.pfs.api import PFS
from loxo.pfs.db import Database
from loxo.storage.memory import MemoryStore

Tree = dict[str, bytes]
PATHS = ["/a", "/b", "/a/x", "/a/y", "/a/x/z", "/c/d", "/c/e"]
BRANCHES = ["master", "dev"]
paths = st.sampled_from(PATHS)
datas = st.binary(max_size=64) | st.sampled_from([b"", b"same", b"x" * 3000])


def is_dir(tree: Tree, path: str) -> bool:
    return any(p.startswith(path + "/") for p in tree)


def parents(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


def can_put(tree: Tree, path: str) -> bool:
    return not is_dir(tree, path) and not any(q in tree for q in parents(path))


class PFSMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.pfs = PFS(Database(Path(self.tmp.name) / "db"), MemoryStore(uuid.uuid4().hex))
        self.pfs.create_repo("r")
        self.heads: dict[str, Tree | None] = {}  # branch -> finished head tree
        self.open: dict[str, Tree] = {}  # branch -> tree of its open commit
        self.commits: dict[str, Tree] = {}  # commit id -> tree (finished only)

    def teardown(self) -> None:
        self.pfs.close()
        self.tmp.cleanup()

    def current(self, branch: str) -> Tree:
        if branch in self.open:
            return self.open[branch]
        return dict(self.heads.get(branch) or {})

    def apply(self, branch: str, new: Tree, info_id: str) -> None:
        if branch in self.open:
            self.open[branch] = new
        else:
            self.heads[branch] = new
            self.commits[info_id] = new

    @rule(branch=st.sampled_from(BRANCHES), path=paths, data=datas, append=st.booleans())
    def put(self, branch: str, path: str, data: bytes, append: bool) -> None:
        tree = self.current(branch)
        ok = can_put(tree, path)
        try:
            info = self.pfs.put_file(f"r@{branch}", path, data, append=append)
        except PathConflict:
            assert not ok
            return
        assert ok
        tree[path] = (tree.get(path, b"") + data) if append else data
        self.apply(branch, tree, info.id)

    @rule(branch=st.sampled_from(BRANCHES), path=st.sampled_from([*PATHS, "/", "/c"]))
    def delete(self, branch: str, path: str) -> None:
        tree = self.current(branch)
        exists = path == "/" or any(p == path or p.startswith(path + "/") for p in tree)
        if branch not in self.heads and branch not in self.open:
            exists = True  # a branch with no commit yet: deleting makes its first commit
        try:
            info = self.pfs.delete_file(f"r@{branch}", path)
        except FileNotFound:
            assert not exists
            return
        assert exists
        prefix = "/" if path == "/" else path + "/"
        tree = {p: d for p, d in tree.items() if p != path and not p.startswith(prefix)}
        self.apply(branch, tree, info.id)

    @rule(src=st.sampled_from(BRANCHES), dst=st.sampled_from(BRANCHES), a=paths, b=paths)
    def copy(self, src: str, dst: str, a: str, b: str) -> None:
        src_tree = self.heads.get(src)
        if src_tree is None or a not in src_tree:
            return
        tree = self.current(dst)
        ok = can_put(tree, b)
        try:
            info = self.pfs.copy_file(f"r@{src}:{a}", f"r@{dst}", b)
        except PathConflict:
            assert not ok
            return
        assert ok
        tree[b] = src_tree[a]
        self.apply(dst, tree, info.id)

    @precondition(lambda self: "master" not in self.open)
    @rule()
    def start(self) -> None:
        self.pfs.start_commit("r", "master")
        self.open["master"] = dict(self.heads.get("master") or {})

    @precondition(lambda self: "master" in self.open)
    @rule()
    def finish(self) -> None:
        info = self.pfs.finish_commit("r@master")
        tree = self.open.pop("master")
        self.heads["master"] = tree
        self.commits[info.id] = tree

    @precondition(lambda self: "dev" not in self.open and "master" in self.heads)
    @rule()
    def move_dev_to_master(self) -> None:
        self.pfs.create_branch("r", "dev", head="master")
        self.heads["dev"] = dict(self.heads["master"] or {})

    @invariant()
    def finished_commits_read_back(self) -> None:
        for cid, tree in self.commits.items():
            files = {e.path: e for e in self.pfs.walk_files(f"r@{cid}")}
            assert set(files) == set(tree), cid
            for path, data in tree.items():
                assert self.pfs.get_file(f"r@{cid}", path) == data

    @invariant()
    def branches_read_their_head(self) -> None:
        for branch, tree in self.heads.items():
            if tree is None:
                continue
            got = {e.path: self.pfs.get_file(f"r@{branch}", e.path) for e in
                   self.pfs.walk_files(f"r@{branch}")}  # fmt: skip
            assert got == tree

    @invariant()
    def open_commits_read_by_id(self) -> None:
        for branch, tree in self.open.items():
            info = self.pfs.inspect_commit(f"r@{branch}")
            files = {e.path for e in self.pfs.walk_files(f"r@{info.id}")}
            assert files == set(tree)


PFSMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
TestPFSStateful = PFSMachine.TestCase


def test_loxo_error_root() -> None:
    assert issubclass(PathConflict, LoxoError)
