"""Branches: named, movable pointers to commits.

``create_branch`` with a head moves (or creates) the branch to that commit, exactly like a
new commit arriving on it. Without a head it creates an empty branch, and leaves an existing
branch exactly as it is: its head never moves unless a head is named (as in Pachyderm, whose
``CreateBranch`` sets the head "if specified"). Deleting a branch keeps its commits (they stay
reachable by ID until deleted and collected).
"""

from __future__ import annotations

from loxo.errors import BranchExists, BranchNotFound, CommitOpen, InvalidRef

from .core import DEFAULT_BRANCH, DEFAULT_PROJECT, Core, now
from .model import BranchInfo
from .paths import validate_name


class BranchOps(Core):
    def create_branch(
        self,
        repo: str,
        branch: str,
        *,
        head: str | None = None,
        project: str = DEFAULT_PROJECT,
        must_not_exist: bool = False,
    ) -> BranchInfo:
        validate_name("branch", branch)
        with self.db.tx():
            repo_id = self._repo_id(repo, project)
            head_id = None
            if head is not None:
                cref = self.parse(head if "@" in head else f"{repo}@{head}")
                if (cref.repo, cref.project) != (repo, project):
                    raise InvalidRef(head, f"the head must be a commit of repo {repo!r}")
                head_id = self.resolve(cref, for_read=True).commit.id
            exists, old = self._branch_head(repo_id, branch)
            if exists:
                if must_not_exist:
                    raise BranchExists(repo, branch)
                if head_id is None:  # no head named: the branch keeps its own
                    return self.inspect_branch(repo, branch, project=project)
                if old is not None and head_id != old:
                    row = self._commit_row(repo_id, old)
                    if row is not None and row.is_open:
                        raise CommitOpen(repo, branch, old)
                self.db.execute(
                    "UPDATE branches SET head = ? WHERE repo_id = ? AND name = ?",
                    (head_id, repo_id, branch),
                )
            else:
                self.db.execute(
                    "INSERT INTO branches (repo_id, name, head, created) VALUES (?, ?, ?, ?)",
                    (repo_id, branch, head_id, now()),
                )
            if head_id is not None and head_id != old:
                self._notify_head(repo_id, branch, head_id, new_set=True)
        return self.inspect_branch(repo, branch, project=project)

    def inspect_branch(
        self, repo: str, branch: str = DEFAULT_BRANCH, *, project: str = DEFAULT_PROJECT
    ) -> BranchInfo:
        repo_id = self._repo_id(repo, project)
        row = self.db.one(
            "SELECT head, created FROM branches WHERE repo_id = ? AND name = ?", (repo_id, branch)
        )
        if row is None:
            raise BranchNotFound(repo, branch)
        return BranchInfo(repo, project, branch, row[0], row[1])

    def list_branch(self, repo: str, *, project: str = DEFAULT_PROJECT) -> list[BranchInfo]:
        repo_id = self._repo_id(repo, project)
        rows = self.db.all(
            "SELECT name, head, created FROM branches WHERE repo_id = ? "
            "ORDER BY created DESC, name",
            (repo_id,),
        )
        return [BranchInfo(repo, project, n, h, c) for n, h, c in rows]

    def delete_branch(self, repo: str, branch: str, *, project: str = DEFAULT_PROJECT) -> None:
        with self.db.tx():
            repo_id = self._repo_id(repo, project)
            exists, _ = self._branch_head(repo_id, branch)
            if not exists:
                raise BranchNotFound(repo, branch)
            self.db.execute(
                "DELETE FROM branches WHERE repo_id = ? AND name = ?", (repo_id, branch)
            )
