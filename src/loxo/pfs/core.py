"""Shared state and lookups for the PFS operations: the DB, the object store, ref resolution.

Each operation module (``repos``, ``branches``, ``commits``, ``files``) is a mixin over
:class:`Core`; :class:`loxo.pfs.api.PFS` puts them together.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import msgpack

from loxo.errors import (
    BranchNotFound,
    CommitNotFound,
    InvalidRef,
    ProjectNotFound,
    RepoNotFound,
)
from loxo.storage.fileset import FilesetReader, NodeCache, NodeRef
from loxo.storage.objectstore import ObjectStore

from .chunkindex import DbChunkIndex
from .db import Database
from .model import CommitID, CommitState
from .paths import validate_name
from .refs import CommitRef, is_commit_id, parse_commit_ref

DEFAULT_PROJECT = "default"
DEFAULT_BRANCH = "master"

COMMIT_COLUMNS = (
    "repo_id, id, seq, branch, parent, origin, description, state, started, finishing, "
    "finished, root, size, file_count, error"
)


@dataclass(frozen=True)
class CommitRow:
    repo_id: int
    id: CommitID
    seq: int
    branch: str | None
    parent: CommitID | None
    origin: str
    description: str
    state: str
    started: float
    finishing: float | None
    finished: float | None
    root: bytes | None
    size: int
    file_count: int
    error: str

    @property
    def is_open(self) -> bool:
        return self.state != CommitState.FINISHED

    @property
    def root_ref(self) -> NodeRef | None:
        return decode_root(self.root)


@dataclass(frozen=True)
class Resolved:
    """A ref resolved to one commit of one repo."""

    project: str
    repo: str
    repo_id: int
    commit: CommitRow
    path: str | None = None

    @property
    def where(self) -> str:
        return f"{self.repo}@{self.commit.id}"


def encode_root(root: NodeRef | None) -> bytes | None:
    return None if root is None else msgpack.packb(root.to_list())


def decode_root(blob: bytes | None) -> NodeRef | None:
    return None if blob is None else NodeRef.from_list(msgpack.unpackb(blob))


def new_commit_id() -> CommitID:
    return CommitID(uuid.uuid4().hex)


def now() -> float:
    return time.time()


HeadHook = Callable[[int, str, CommitID, bool], None]


class Core:
    db: Database
    store: ObjectStore
    nodes: NodeCache
    index: DbChunkIndex
    head_hooks: list[HeadHook]

    def _notify_head(self, repo_id: int, branch: str, commit_id: CommitID, new_set: bool) -> None:
        """A branch of a repo now points at a new finished commit (called inside the
        transaction that moved it, so reactions commit or roll back with it). ``new_set``:
        the head moved to an existing commit, so reactions need a new commit set ID."""
        for hook in self.head_hooks:
            hook(repo_id, branch, commit_id, new_set)

    # --- lookups ---------------------------------------------------------------------

    def _check_project(self, project: str) -> None:
        if self.db.one("SELECT 1 FROM projects WHERE name = ?", (project,)) is None:
            validate_name("project", project)  # a name that cannot exist: say why
            raise ProjectNotFound(project)

    def _repo_id(self, repo: str, project: str = DEFAULT_PROJECT) -> int:
        row = self.db.one("SELECT id FROM repos WHERE project = ? AND name = ?", (project, repo))
        if row is None:
            self._check_project(project)
            validate_name("repo", repo)  # "images@master" is a ref, not a missing repo
            raise RepoNotFound(repo, project)
        return int(row[0])

    def _repo_name(self, repo_id: int) -> tuple[str, str]:
        project, name = self.db.one("SELECT project, name FROM repos WHERE id = ?", (repo_id,))
        return project, name

    def _commit_row(self, repo_id: int, commit_id: str) -> CommitRow | None:
        row = self.db.one(
            f"SELECT {COMMIT_COLUMNS} FROM commits WHERE repo_id = ? AND id = ?",
            (repo_id, commit_id),
        )
        return None if row is None else CommitRow(*row)

    def _branch_head(self, repo_id: int, branch: str) -> tuple[bool, CommitID | None]:
        row = self.db.one(
            "SELECT head FROM branches WHERE repo_id = ? AND name = ?", (repo_id, branch)
        )
        return (False, None) if row is None else (True, row[0])

    def _reader(self, root: NodeRef | None) -> FilesetReader:
        return FilesetReader(self.nodes, root)

    # --- resolving refs ----------------------------------------------------------------

    def parse(self, ref: str | CommitRef, *, allow_path: bool = False) -> CommitRef:
        return ref if isinstance(ref, CommitRef) else parse_commit_ref(ref, allow_path=allow_path)

    def resolve(self, ref: str | CommitRef, *, for_read: bool = True) -> Resolved:
        """The commit a ref names. ``for_read``: a branch head still open reads as its
        newest finished ancestor (readers only ever see finished commits)."""
        cref = self.parse(ref, allow_path=True)
        repo_id = self._repo_id(cref.repo, cref.project)
        name = cref.ref or DEFAULT_BRANCH
        commit: CommitRow | None = None
        by_branch = False
        if is_commit_id(name):
            commit = self._commit_row(repo_id, name)
        if commit is None:
            exists, head = self._branch_head(repo_id, name)
            if not exists:
                if is_commit_id(name):
                    raise CommitNotFound(cref.repo, name)
                raise BranchNotFound(cref.repo, name)
            if head is None:
                raise CommitNotFound(cref.repo, name, "the branch has no commits yet")
            commit = self._commit_row(repo_id, head)
            by_branch = True
            assert commit is not None
        if cref.index is not None:
            chain = self._ancestry(repo_id, commit)
            if cref.index > len(chain):
                raise CommitNotFound(
                    cref.repo, f"{name}.{cref.index}", f"the branch has {len(chain)} commits"
                )
            commit = chain[len(chain) - cref.index]
        for _ in range(cref.ancestors):
            if commit.parent is None:
                raise CommitNotFound(
                    cref.repo, f"{name}^{cref.ancestors}", "not that many ancestors"
                )
            parent = self._commit_row(repo_id, commit.parent)
            assert parent is not None
            commit = parent
        if for_read and by_branch and cref.index is None and cref.ancestors == 0:
            while commit.is_open:
                if commit.parent is None:
                    raise CommitNotFound(cref.repo, name, "the branch has no finished commit")
                parent = self._commit_row(repo_id, commit.parent)
                assert parent is not None
                commit = parent
        return Resolved(cref.project, cref.repo, repo_id, commit, cref.path)

    def _ancestry(self, repo_id: int, head: CommitRow) -> list[CommitRow]:
        """``head`` and its ancestors, newest first."""
        chain = [head]
        while chain[-1].parent is not None:
            parent = self._commit_row(repo_id, chain[-1].parent)
            if parent is None:
                break
            chain.append(parent)
        return chain

    def _commit_set(self, commit_id: str) -> list[tuple[int, CommitRow]]:
        rows = self.db.all(f"SELECT {COMMIT_COLUMNS} FROM commits WHERE id = ?", (commit_id,))
        return [(r[0], CommitRow(*r)) for r in rows]

    def _require_commit_id(self, text: str) -> CommitID:
        if not is_commit_id(text):
            raise InvalidRef(text, "expected a 32-character lowercase hex commit ID")
        return CommitID(text)
