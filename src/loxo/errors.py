"""loxo's one error hierarchy.

Every error loxo raises on purpose derives from :class:`LoxoError`. Front doors translate
these in exactly one place each (the CLI's ``main`` into exit codes, later the servers into
HTTP / gRPC status codes); nothing ever matches an error by its message text.

::

    LoxoError
    ├── NotFoundError            the named thing does not exist
    │   ├── ProjectNotFound, RepoNotFound, BranchNotFound, CommitNotFound, CommitSetNotFound
    │   ├── FileNotFound
    │   └── ObjectNotFound       a key missing from an object store
    ├── AlreadyExistsError       the named thing exists already
    │   ├── RepoExists, BranchExists
    ├── InvalidArgumentError     the value itself is wrong (a bad name, path, ref, glob, URL)
    │   ├── InvalidName, InvalidPath, InvalidRef, InvalidGlob
    ├── ConflictError            the value is fine but clashes with the current state
    │   └── PathConflict         a path would be both a file and a directory
    ├── PreconditionError        the operation is not allowed in the current state
    │   ├── CommitNotOpen, CommitOpen, HasDependents
    ├── IntegrityError           stored bytes do not match their hash (corruption)
    ├── StorageError             the storage backend failed (disk full, permission, I/O)
    ├── TransientError           try again (a lock held too long, an unreachable service)
    └── JobFailed                a job the caller waited for ended without success
                                 (FAILURE, KILLED or UNRUNNABLE)

A message says what was wrong, names the offending value, and, where it helps, what to do.
"""

from __future__ import annotations


class LoxoError(Exception):
    """Root of every error loxo raises on purpose."""

    exit_code = 1


class NotFoundError(LoxoError):
    exit_code = 2


class AlreadyExistsError(LoxoError):
    exit_code = 3


class InvalidArgumentError(LoxoError):
    exit_code = 4


class ConflictError(LoxoError):
    exit_code = 5


class PreconditionError(LoxoError):
    exit_code = 6


class IntegrityError(LoxoError):
    exit_code = 7


class StorageError(LoxoError):
    exit_code = 8


class TransientError(LoxoError):
    exit_code = 9


class JobFailed(LoxoError):
    """Jobs that a command ran or waited for ended FAILURE, KILLED or UNRUNNABLE: the write
    that started them succeeded, the output it asked for was not produced. ``jobs`` holds
    ``(project, pipeline, job ID, state, reason)`` of each; the message names the first and
    how to see its logs."""

    exit_code = 10

    def __init__(self, jobs: list[tuple[str, str, str, str, str]]) -> None:
        self.jobs = jobs
        project, pipeline, job_id, state, reason = jobs[0]
        job = f"{pipeline}@{job_id}" if project == "default" else f"{project}/{pipeline}@{job_id}"
        more = f" (and {len(jobs) - 1} more job(s) that did not succeed)" if len(jobs) > 1 else ""
        super().__init__(
            f"job {job} ended {state}"
            + (f": {reason}" if reason else "")
            + more
            + f"; see its logs with `loxo logs --job {job}` and its datums with "
            f"`loxo list datum {job}`"
        )


# --- not found -------------------------------------------------------------------------


class ProjectNotFound(NotFoundError):
    def __init__(self, project: str) -> None:
        self.project = project
        super().__init__(f"project {project!r} not found")


class RepoNotFound(NotFoundError):
    def __init__(self, repo: str, project: str = "default") -> None:
        self.repo, self.project = repo, project
        where = "" if project == "default" else f" in project {project!r}"
        super().__init__(f"repo {repo!r} not found{where}; `loxo list repo` shows the repos")


class BranchNotFound(NotFoundError):
    def __init__(self, repo: str, branch: str) -> None:
        self.repo, self.branch = repo, branch
        super().__init__(
            f"branch {branch!r} not found in repo {repo!r}; `loxo list branch {repo}` shows them"
        )


class CommitNotFound(NotFoundError):
    def __init__(self, repo: str, ref: str, why: str = "") -> None:
        self.repo, self.ref = repo, ref
        super().__init__(f"commit {repo}@{ref} not found" + (f": {why}" if why else ""))


class CommitSetNotFound(NotFoundError):
    def __init__(self, commit_id: str) -> None:
        self.commit_id = commit_id
        super().__init__(f"commit set {commit_id} not found; `loxo list commit` shows commits")


class FileNotFound(NotFoundError):
    def __init__(self, where: str, path: str) -> None:
        self.where, self.path = where, path
        super().__init__(f"file {path!r} not found in {where}")


class ObjectNotFound(NotFoundError):
    def __init__(self, key: str, store: str = "") -> None:
        self.key = key
        super().__init__(f"object {key!r} missing from the object store {store}".rstrip())


# --- already exists --------------------------------------------------------------------


class RepoExists(AlreadyExistsError):
    def __init__(self, repo: str) -> None:
        self.repo = repo
        super().__init__(f"repo {repo!r} already exists")


class BranchExists(AlreadyExistsError):
    def __init__(self, repo: str, branch: str) -> None:
        self.repo, self.branch = repo, branch
        super().__init__(f"branch {branch!r} already exists in repo {repo!r}")


# --- invalid argument ------------------------------------------------------------------


class InvalidName(InvalidArgumentError):
    def __init__(self, kind: str, name: str, why: str) -> None:
        self.kind, self.name = kind, name
        super().__init__(f"invalid {kind} name {name!r}: {why}")


class InvalidPath(InvalidArgumentError):
    def __init__(self, path: str, why: str) -> None:
        self.path = path
        super().__init__(f"invalid path {path!r}: {why}")


class InvalidRef(InvalidArgumentError):
    def __init__(self, ref: str, why: str) -> None:
        self.ref = ref
        super().__init__(f"invalid commit reference {ref!r}: {why}")


class InvalidGlob(InvalidArgumentError):
    def __init__(self, pattern: str, why: str) -> None:
        self.pattern = pattern
        super().__init__(f"invalid glob pattern {pattern!r}: {why}")


# --- conflict / precondition -----------------------------------------------------------


class PathConflict(ConflictError):
    def __init__(self, path: str, why: str) -> None:
        self.path = path
        super().__init__(f"path {path!r} {why}")


class CommitNotOpen(PreconditionError):
    def __init__(self, repo: str, commit: str) -> None:
        self.repo, self.commit = repo, commit
        super().__init__(f"commit {repo}@{commit} is finished; start a new commit to write")


class CommitOpen(PreconditionError):
    def __init__(self, repo: str, branch: str, commit: str) -> None:
        self.repo, self.branch, self.commit = repo, branch, commit
        super().__init__(
            f"branch {repo}@{branch} has an open commit {commit}; "
            f"finish it with `loxo finish commit {repo}@{branch}` first"
        )


class HasDependents(PreconditionError):
    def __init__(self, what: str, why: str) -> None:
        self.what = what
        super().__init__(f"cannot remove {what}: {why}")


class CorruptObject(IntegrityError):
    def __init__(self, key: str, why: str) -> None:
        self.key = key
        super().__init__(f"object {key!r} is corrupted: {why}; run `loxo fsck`")
