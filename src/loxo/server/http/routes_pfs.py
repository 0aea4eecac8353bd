"""Projects, repos, branches, commits and commit sets."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from loxo.pfs.model import BranchInfo, CommitInfo, RepoInfo

from . import bodies
from .common import Svc, ok

router = APIRouter(prefix="/api/v1", tags=["pfs"])
REPO = "/projects/{project}/repos/{repo}"


@router.get("/projects", response_model=list[str])
def list_project(svc: Svc) -> JSONResponse:
    return ok(svc.list_project())


@router.post("/projects", status_code=201)
def create_project(svc: Svc, body: bodies.CreateProject) -> JSONResponse:
    svc.create_project(body.name, body.description)
    return ok({"name": body.name}, 201)


@router.get("/repos", response_model=list[RepoInfo])
def list_repo_all(svc: Svc, all_types: bool = False) -> JSONResponse:
    """Repos of every project."""
    return ok(svc.list_repo(project=None, all_types=all_types))


@router.get("/projects/{project}/repos", response_model=list[RepoInfo])
def list_repo(svc: Svc, project: str, all_types: bool = False) -> JSONResponse:
    return ok(svc.list_repo(project=project, all_types=all_types))


@router.post("/projects/{project}/repos", response_model=RepoInfo, status_code=201)
def create_repo(svc: Svc, project: str, body: bodies.CreateRepo) -> JSONResponse:
    info = svc.create_repo(
        body.name, body.description, project=project, update=body.update, repo_type=body.type
    )
    return ok(info, 201)


@router.get(REPO, response_model=RepoInfo)
def inspect_repo(svc: Svc, project: str, repo: str) -> JSONResponse:
    return ok(svc.inspect_repo(repo, project=project))


@router.put(REPO, response_model=RepoInfo)
def update_repo(svc: Svc, project: str, repo: str, body: bodies.UpdateRepo) -> JSONResponse:
    return ok(svc.update_repo(repo, body.description, project=project))


@router.delete(REPO)
def delete_repo(svc: Svc, project: str, repo: str, force: bool = False) -> JSONResponse:
    svc.delete_repo(repo, project=project, force=force)
    return ok({"deleted": repo})


@router.get(REPO + "/branches", response_model=list[BranchInfo])
def list_branch(svc: Svc, project: str, repo: str) -> JSONResponse:
    return ok(svc.list_branch(repo, project=project))


@router.post(REPO + "/branches", response_model=BranchInfo, status_code=201)
def create_branch(svc: Svc, project: str, repo: str, body: bodies.CreateBranch) -> JSONResponse:
    info = svc.create_branch(
        repo, body.name, head=body.head, project=project, must_not_exist=body.must_not_exist
    )
    return ok(info, 201)


@router.get(REPO + "/branches/{branch}", response_model=BranchInfo)
def inspect_branch(svc: Svc, project: str, repo: str, branch: str) -> JSONResponse:
    return ok(svc.inspect_branch(repo, branch, project=project))


@router.delete(REPO + "/branches/{branch}")
def delete_branch(svc: Svc, project: str, repo: str, branch: str) -> JSONResponse:
    svc.delete_branch(repo, branch, project=project)
    return ok({"deleted": branch})


@router.get("/commits", response_model=list[CommitInfo])
def list_commit(
    svc: Svc,
    project: str = "default",
    repo: str | None = None,
    number: int = 0,
    from_commit: str | None = None,
) -> JSONResponse:
    """Commits of a repo, newest first (of every repo of the project without ``repo``)."""
    return ok(svc.list_commit(repo, number=number, from_commit=from_commit, project=project))


@router.get(REPO + "/commits", response_model=list[CommitInfo])
def list_repo_commits(svc: Svc, project: str, repo: str, number: int = 0) -> JSONResponse:
    return ok(svc.list_commit(repo, number=number, project=project))


@router.get("/commit", response_model=CommitInfo)
def inspect_commit(svc: Svc, ref: str) -> JSONResponse:
    """A commit by ref: ``images@master``, ``images@master^2``, ``proj/images@<id>``."""
    return ok(svc.inspect_commit(ref))


@router.post("/commit/start", response_model=CommitInfo, status_code=201)
def start_commit(svc: Svc, body: bodies.StartCommit) -> JSONResponse:
    info = svc.start_commit(
        body.repo, body.branch, description=body.description, project=body.project
    )
    return ok(info, 201)


@router.post("/commit/finish", response_model=CommitInfo)
def finish_commit(svc: Svc, body: bodies.FinishCommit) -> JSONResponse:
    return ok(svc.finish_commit(body.ref, description=body.description, error=body.error))


@router.post("/commit/wait", response_model=CommitInfo)
def wait_commit(svc: Svc, body: bodies.WaitRef) -> JSONResponse:
    return ok(svc.wait_commit(body.ref, timeout=body.timeout))


@router.post("/commit/squash", response_model=list[CommitInfo])
def squash_commit(svc: Svc, body: bodies.RefBody) -> JSONResponse:
    return ok(svc.squash_commit(body.ref))


@router.post("/commit/delete", response_model=list[CommitInfo])
def delete_commit(svc: Svc, body: bodies.RefBody) -> JSONResponse:
    return ok(svc.delete_commit(body.ref))


@router.get("/commitsets/{commit_id}", response_model=list[CommitInfo])
def list_commit_set(svc: Svc, commit_id: str) -> JSONResponse:
    """Every commit of one global ID, across repos."""
    return ok(svc.list_commit_set(commit_id))


@router.post("/commitsets/{commit_id}/wait", response_model=list[CommitInfo])
def wait_commit_set(svc: Svc, commit_id: str, body: bodies.Wait) -> JSONResponse:
    return ok(svc.wait_commit_set(commit_id, timeout=body.timeout))
