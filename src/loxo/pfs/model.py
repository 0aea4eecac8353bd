"""The PFS data model as returned to callers: plain, immutable records.

Times are unix seconds (float); sizes are bytes. A commit ID is 32 lowercase hex characters
and is shared by every commit of one commit set (the commits a change caused across repos).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, NewType

CommitID = NewType("CommitID", str)


class CommitState(StrEnum):
    STARTED = "STARTED"
    FINISHING = "FINISHING"
    FINISHED = "FINISHED"


class Origin(StrEnum):
    USER = "USER"
    AUTO = "AUTO"


class FileType(StrEnum):
    FILE = "file"
    DIR = "dir"


class ChangeType(StrEnum):
    ADDED = "added"
    DELETED = "deleted"
    CHANGED = "changed"


class Record:
    """Base of loxo's result records (frozen dataclasses): ``to_dict()`` for JSON/YAML."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class RepoInfo(Record):
    name: str
    project: str
    type: str
    description: str
    created: float
    size: int
    branches: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BranchInfo(Record):
    repo: str
    project: str
    name: str
    head: CommitID | None
    created: float


@dataclass(frozen=True)
class CommitRefInfo(Record):
    repo: str
    id: CommitID
    project: str = "default"


@dataclass(frozen=True)
class CommitInfo(Record):
    repo: str
    project: str
    id: CommitID
    branch: str | None
    parent: CommitID | None
    children: list[CommitID]
    origin: Origin
    description: str
    state: CommitState
    started: float
    finishing: float | None
    finished: float | None
    size: int
    file_count: int
    error: str
    provenance: list[CommitRefInfo] = field(default_factory=list)
    subvenance: list[CommitRefInfo] = field(default_factory=list)


@dataclass(frozen=True)
class FileInfo(Record):
    path: str
    type: FileType
    size: int
    hash: str
    commit: CommitID | None = None


@dataclass(frozen=True)
class DiffEntry(Record):
    path: str
    change: ChangeType
    old: FileInfo | None
    new: FileInfo | None


@dataclass(frozen=True)
class GCReport(Record):
    objects_deleted: int
    bytes_freed: int
    objects_kept: int
    chunks_forgotten: int


@dataclass(frozen=True)
class FsckProblem(Record):
    key: str
    problem: str  # "missing" | "corrupted"
    detail: str


@dataclass(frozen=True)
class FsckReport(Record):
    objects_checked: int
    chunks_checked: int
    problems: list[FsckProblem]

    @property
    def ok(self) -> bool:
        return not self.problems
