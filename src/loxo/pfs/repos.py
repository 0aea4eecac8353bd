"""Projects and repos: create, inspect, list, update the description, delete.

Deleting a repo removes its branches, commits and staged writes in one transaction; its
data becomes garbage for ``loxo gc``. A repo whose commits are the provenance of another
repo's commits (a pipeline reads it) can only be deleted with ``force``.
"""

from __future__ import annotations

from loxo.errors import AlreadyExistsError, HasDependents, RepoExists

from .core import DEFAULT_PROJECT, Core, now
from .model import RepoInfo
from .paths import validate_name


class RepoOps(Core):
    def create_project(self, name: str, description: str = "") -> None:
        validate_name("project", name)
        with self.db.tx():
            if self.db.one("SELECT 1 FROM projects WHERE name = ?", (name,)):
                raise AlreadyExistsError(f"project {name!r} already exists")
            self.db.execute(
                "INSERT INTO projects (name, description, created) VALUES (?, ?, ?)",
                (name, description, now()),
            )

    def list_project(self) -> list[str]:
        return [r[0] for r in self.db.all("SELECT name FROM projects ORDER BY name")]

    def create_repo(
        self,
        name: str,
        description: str = "",
        *,
        project: str = DEFAULT_PROJECT,
        update: bool = False,
        repo_type: str = "user",
    ) -> RepoInfo:
        validate_name("repo", name)
        with self.db.tx():
            self._check_project(project)
            row = self.db.one(
                "SELECT id FROM repos WHERE project = ? AND name = ?", (project, name)
            )
            if row is not None:
                if not update:
                    raise RepoExists(name)
                self.db.execute(
                    "UPDATE repos SET description = ? WHERE id = ?", (description, row[0])
                )
            else:
                self.db.execute(
                    "INSERT INTO repos (project, name, type, description, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (project, name, repo_type, description, now()),
                )
        return self.inspect_repo(name, project=project)

    def update_repo(
        self, name: str, description: str, *, project: str = DEFAULT_PROJECT
    ) -> RepoInfo:
        self._repo_id(name, project)
        return self.create_repo(name, description, project=project, update=True)

    def inspect_repo(self, name: str, *, project: str = DEFAULT_PROJECT) -> RepoInfo:
        repo_id = self._repo_id(name, project)
        return self._repo_info(repo_id)

    def _repo_info(self, repo_id: int) -> RepoInfo:
        project, name, rtype, desc, created = self.db.one(
            "SELECT project, name, type, description, created FROM repos WHERE id = ?", (repo_id,)
        )
        branches = [
            r[0]
            for r in self.db.all(
                "SELECT name FROM branches WHERE repo_id = ? ORDER BY name", (repo_id,)
            )
        ]
        size_row = self.db.one(
            "SELECT c.size FROM branches b JOIN commits c ON c.repo_id = b.repo_id "
            "AND c.id = b.head WHERE b.repo_id = ? AND b.name = 'master'",
            (repo_id,),
        )
        size = int(size_row[0]) if size_row else 0
        return RepoInfo(name, project, rtype, desc, created, size, branches)

    def list_repo(
        self, *, project: str | None = DEFAULT_PROJECT, all_types: bool = False
    ) -> list[RepoInfo]:
        sql = "SELECT id FROM repos"
        where, args = [], []
        if project is not None:
            where.append("project = ?")
            args.append(project)
        if not all_types:
            where.append("type IN ('user', 'output')")
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.all(sql + " ORDER BY created DESC, name", args)
        return [self._repo_info(r[0]) for r in rows]

    def delete_repo(
        self, name: str, *, project: str = DEFAULT_PROJECT, force: bool = False
    ) -> None:
        with self.db.tx():
            repo_id = self._repo_id(name, project)
            dependents = self.db.all(
                "SELECT DISTINCT r.name FROM commit_provenance p JOIN repos r "
                "ON r.id = p.repo_id WHERE p.from_repo_id = ? AND p.repo_id != ?",
                (repo_id, repo_id),
            )
            if dependents and not force:
                names = ", ".join(sorted(d[0] for d in dependents))
                raise HasDependents(
                    f"repo {name!r}",
                    f"commits in {names} were made from it; use --force to delete anyway",
                )
            for table in ("commit_provenance", "staged_ops", "branches", "commits"):
                self.db.execute(f"DELETE FROM {table} WHERE repo_id = ?", (repo_id,))
            self.db.execute("DELETE FROM commit_provenance WHERE from_repo_id = ?", (repo_id,))
            self.db.execute("DELETE FROM repos WHERE id = ?", (repo_id,))
