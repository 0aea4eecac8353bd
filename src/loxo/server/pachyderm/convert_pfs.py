"""PFS records <-> pachyderm_sdk's ``pfs`` messages.

Requests name things with messages (``Repo``, ``Branch``, ``Commit``, ``File``); loxo's
service takes ref text (``project/repo@branch-or-id``, see :mod:`loxo.pfs.refs`). Answers go
the other way: loxo's records become ``RepoInfo``, ``BranchInfo``, ``CommitInfo`` and
``FileInfo`` messages. Differences kept on purpose: a pipeline's output repo has the type
``user`` (as in Pachyderm; loxo calls it ``output``), and a directory's path ends with ``/``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pachyderm_sdk.api import pfs

from loxo.errors import InvalidArgumentError
from loxo.pfs.model import (
    BranchInfo,
    CommitInfo,
    CommitRefInfo,
    CommitState,
    FileInfo,
    FileType,
    Origin,
    RepoInfo,
)

DEFAULT_PROJECT = "default"
ORIGINS = {Origin.USER: pfs.OriginKind.USER, Origin.AUTO: pfs.OriginKind.AUTO}
# how far a commit has come, in the order of pfs.CommitState (FINISHING counts as STARTED..)
STATE_RANK = {CommitState.STARTED: 1, CommitState.FINISHING: 3, CommitState.FINISHED: 4}
WAIT_RANK = {
    pfs.CommitState.COMMIT_STATE_UNKNOWN: 0,
    pfs.CommitState.STARTED: 1,
    pfs.CommitState.READY: 1,  # loxo has no READY step: a started commit is ready
    pfs.CommitState.FINISHING: 3,
    pfs.CommitState.FINISHED: 4,
}


def timestamp(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


# --- requests -> refs ---------------------------------------------------------------------


def project_name(project: pfs.Project | None) -> str:
    return project.name if project is not None and project.name else DEFAULT_PROJECT


def repo_ref(repo: pfs.Repo | None) -> tuple[str, str]:
    """``(project, repo name)`` of a Repo message."""
    if repo is None or not repo.name:
        raise InvalidArgumentError("the request names no repo (set repo.name)")
    return project_name(repo.project), repo.name


def _prefix(project: str, repo: str) -> str:
    return repo if project == DEFAULT_PROJECT else f"{project}/{repo}"


def repo_text(repo: pfs.Repo | None) -> str:
    return _prefix(*repo_ref(repo))


def branch_ref(branch: pfs.Branch | None) -> tuple[str, str, str]:
    """``(project, repo, branch)`` of a Branch message."""
    if branch is None or not branch.name:
        raise InvalidArgumentError("the request names no branch (set branch.name)")
    return (*repo_ref(branch.repo), branch.name)


def commit_text(commit: pfs.Commit | None) -> str:
    """``[project/]repo@id-or-branch`` for a Commit message: the ID when set (it may carry
    ancestry, ``master^2``), else the branch; the repo's default branch when neither is."""
    if commit is None:
        raise InvalidArgumentError("the request names no commit")
    repo = commit.repo if commit.repo is not None and commit.repo.name else None
    if repo is None and commit.branch is not None:
        repo = commit.branch.repo
    text = repo_text(repo)
    branch = commit.branch.name if commit.branch is not None else ""
    target = commit.id or branch
    return f"{text}@{target}" if target else text


def file_ref(file: pfs.File | None) -> tuple[str, str]:
    """``(commit ref, path)`` of a File message (path "/" when empty)."""
    if file is None:
        raise InvalidArgumentError("the request names no file")
    return commit_text(file.commit), file.path or "/"


# --- records -> messages -------------------------------------------------------------------


def repo_msg(project: str, name: str) -> pfs.Repo:
    return pfs.Repo(name=name, type="user", project=pfs.Project(name=project))


def commit_msg(project: str, repo: str, commit_id: str, branch: str | None = None) -> pfs.Commit:
    r = repo_msg(project, repo)
    msg = pfs.Commit(repo=r, id=commit_id)
    if branch:
        msg.branch = pfs.Branch(repo=r, name=branch)
    return msg


def repo_info(info: RepoInfo) -> pfs.RepoInfo:
    repo = repo_msg(info.project, info.name)
    repo.type = "user" if info.type == "output" else info.type
    return pfs.RepoInfo(
        repo=repo,
        created=timestamp(info.created),
        size_bytes_upper_bound=info.size,
        description=info.description,
        branches=[pfs.Branch(repo=repo, name=b) for b in info.branches],
        details=pfs.RepoInfoDetails(size_bytes=info.size),
    )


def branch_info(info: BranchInfo) -> pfs.BranchInfo:
    msg = pfs.BranchInfo(
        branch=pfs.Branch(repo=repo_msg(info.project, info.repo), name=info.name),
        created_at=timestamp(info.created),
    )
    if info.head is not None:
        msg.head = commit_msg(info.project, info.repo, info.head, info.name)
    return msg


def _refs(refs: list[CommitRefInfo]) -> list[pfs.Commit]:
    return [commit_msg(r.project, r.repo, r.id) for r in refs]


def commit_info(info: CommitInfo) -> pfs.CommitInfo:
    msg = pfs.CommitInfo(
        commit=commit_msg(info.project, info.repo, info.id, info.branch),
        origin=pfs.CommitOrigin(kind=ORIGINS.get(info.origin, pfs.OriginKind.USER)),
        description=info.description,
        child_commits=[commit_msg(info.project, info.repo, c) for c in info.children],
        started=timestamp(info.started),
        created_at=timestamp(info.started),
        direct_provenance=_refs(info.provenance),
        direct_subvenance=_refs(info.subvenance),
        error=info.error,
        size_bytes_upper_bound=info.size,
        details=pfs.CommitInfoDetails(size_bytes=info.size),
    )
    if info.parent is not None:
        msg.parent_commit = commit_msg(info.project, info.repo, info.parent)
    if info.finishing is not None:
        msg.finishing = timestamp(info.finishing)
    if info.finished is not None:
        msg.finished = timestamp(info.finished)
        msg.updated_at = timestamp(info.finished)
    return msg


def hash_bytes(digest: str) -> bytes:
    try:
        return bytes.fromhex(digest)
    except ValueError:
        return digest.encode()


def file_info(info: FileInfo, commit: pfs.Commit) -> pfs.FileInfo:
    """A FileInfo in ``commit``; a directory's path ends with ``/`` (Pachyderm's form)."""
    is_dir = info.type == FileType.DIR
    path = info.path + "/" if is_dir and not info.path.endswith("/") else info.path
    return pfs.FileInfo(
        file=pfs.File(commit=commit, path=path),
        file_type=pfs.FileType.DIR if is_dir else pfs.FileType.FILE,
        size_bytes=info.size,
        hash=hash_bytes(info.hash),
    )


def commit_of(info: CommitInfo) -> pfs.Commit:
    return commit_msg(info.project, info.repo, info.id, info.branch)


def in_commit(request: pfs.Commit | None, commit_id: str) -> pfs.Commit:
    """The commit ``commit_id`` of the repo (and branch) a request's Commit names."""
    if request is None:
        raise InvalidArgumentError("the request names no commit")
    repo = request.repo if request.repo is not None and request.repo.name else None
    if repo is None and request.branch is not None:
        repo = request.branch.repo
    project, name = repo_ref(repo)
    branch = request.branch.name if request.branch is not None else None
    return commit_msg(project, name, commit_id, branch or None)
