"""``pfs_v2.API``: projects, repos and branches (commits: :mod:`.commits_api`; files:
:mod:`.files_api` and :mod:`.modify`). Each handler is one service call and a conversion."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from betterproto.lib.google.protobuf import Empty
from pachyderm_sdk.api import pfs

from loxo.errors import InvalidArgumentError, ProjectNotFound
from loxo.pfs.model import RepoInfo

from . import convert_pfs as conv
from .errors import Unsupported
from .rpc import Ctx, Table

if TYPE_CHECKING:
    from loxo.service import Service


def _type(info: RepoInfo) -> str:
    return "user" if info.type in ("user", "output") else info.type


class RepoApi:
    def __init__(self, svc: Service) -> None:
        self.svc = svc

    def table(self) -> Table:
        s = "pfs_v2.API/"
        return {
            s + "CreateProject": (pfs.CreateProjectRequest, self.create_project),
            s + "InspectProject": (pfs.InspectProjectRequest, self.inspect_project),
            s + "ListProject": (pfs.ListProjectRequest, self.list_project),
            s + "CreateRepo": (pfs.CreateRepoRequest, self.create_repo),
            s + "InspectRepo": (pfs.InspectRepoRequest, self.inspect_repo),
            s + "ListRepo": (pfs.ListRepoRequest, self.list_repo),
            s + "DeleteRepo": (pfs.DeleteRepoRequest, self.delete_repo),
            s + "DeleteRepos": (pfs.DeleteReposRequest, self.delete_repos),
            s + "CreateBranch": (pfs.CreateBranchRequest, self.create_branch),
            s + "InspectBranch": (pfs.InspectBranchRequest, self.inspect_branch),
            s + "ListBranch": (pfs.ListBranchRequest, self.list_branch),
            s + "DeleteBranch": (pfs.DeleteBranchRequest, self.delete_branch),
        }

    # --- projects ---------------------------------------------------------------------

    def create_project(self, req: pfs.CreateProjectRequest, ctx: Ctx) -> Empty:
        if req.update:
            raise Unsupported("CreateProject with update (a project's description is fixed)")
        self.svc.create_project(conv.project_name(req.project), req.description)
        return Empty()

    def inspect_project(self, req: pfs.InspectProjectRequest, ctx: Ctx) -> pfs.ProjectInfo:
        name = conv.project_name(req.project)
        if name not in self.svc.list_project():
            raise ProjectNotFound(name)
        return pfs.ProjectInfo(project=pfs.Project(name=name))

    def list_project(self, req: pfs.ListProjectRequest, ctx: Ctx) -> Iterator[pfs.ProjectInfo]:
        for name in self.svc.list_project():
            yield pfs.ProjectInfo(project=pfs.Project(name=name))

    # --- repos ------------------------------------------------------------------------

    def create_repo(self, req: pfs.CreateRepoRequest, ctx: Ctx) -> Empty:
        project, name = conv.repo_ref(req.repo)
        self.svc.create_repo(name, req.description, project=project, update=req.update)
        return Empty()

    def inspect_repo(self, req: pfs.InspectRepoRequest, ctx: Ctx) -> pfs.RepoInfo:
        project, name = conv.repo_ref(req.repo)
        return conv.repo_info(self.svc.inspect_repo(name, project=project))

    def _repos(self, projects: list[pfs.Project], type_: str) -> list[RepoInfo]:
        names: list[str | None] = [conv.project_name(p) for p in projects] or [None]
        found = [
            r
            for project in names
            for r in self.svc.list_repo(project=project, all_types=not type_)
            if not type_ or _type(r) == type_
        ]
        return found

    def list_repo(self, req: pfs.ListRepoRequest, ctx: Ctx) -> Iterator[pfs.RepoInfo]:
        repos = self._repos(req.projects, req.type)
        if req.page and req.page.page_size > 0:
            start = req.page.page_index * req.page.page_size
            repos = repos[start : start + req.page.page_size]
        for r in repos:
            yield conv.repo_info(r)

    def delete_repo(self, req: pfs.DeleteRepoRequest, ctx: Ctx) -> pfs.DeleteRepoResponse:
        project, name = conv.repo_ref(req.repo)
        self.svc.delete_repo(name, project=project, force=req.force)
        return pfs.DeleteRepoResponse(deleted=True)

    def delete_repos(self, req: pfs.DeleteReposRequest, ctx: Ctx) -> pfs.DeleteReposResponse:
        if not req.all and not req.projects:
            raise InvalidArgumentError("DeleteRepos: set `all`, or name the projects")
        deleted = []
        for r in self._repos([] if req.all else req.projects, "user"):
            self.svc.delete_repo(r.name, project=r.project, force=req.force)
            deleted.append(conv.repo_msg(r.project, r.name))
        return pfs.DeleteReposResponse(repos=deleted)

    # --- branches ---------------------------------------------------------------------

    def create_branch(self, req: pfs.CreateBranchRequest, ctx: Ctx) -> Empty:
        project, repo, name = conv.branch_ref(req.branch)
        if req.provenance or req.trigger or req.branch_propagation_specs:
            raise Unsupported(
                "branch provenance, triggers and propagation specs (CreateBranch); "
                "loxo pipelines subscribe to their input branches themselves"
            )
        head = conv.commit_text(req.head) if req.head else None
        self.svc.create_branch(repo, name, head=head, project=project)
        return Empty()

    def inspect_branch(self, req: pfs.InspectBranchRequest, ctx: Ctx) -> pfs.BranchInfo:
        project, repo, name = conv.branch_ref(req.branch)
        return conv.branch_info(self.svc.inspect_branch(repo, name, project=project))

    def list_branch(self, req: pfs.ListBranchRequest, ctx: Ctx) -> Iterator[pfs.BranchInfo]:
        project, repo = conv.repo_ref(req.repo)
        branches = self.svc.list_branch(repo, project=project)
        for b in reversed(branches) if req.reverse else branches:
            yield conv.branch_info(b)

    def delete_branch(self, req: pfs.DeleteBranchRequest, ctx: Ctx) -> Empty:
        project, repo, name = conv.branch_ref(req.branch)
        self.svc.delete_branch(repo, name, project=project)
        return Empty()
