"""Whether the jobs a command waited for succeeded: its exit code for CI.

A command that waits for jobs (every command that finishes input commits, ``create`` /
``update`` / ``start`` / ``rerun pipeline``, ``wait commit``, ``wait job``) fails with
:class:`~loxo.errors.JobFailed` (exit code 10) when a job that ended while it waited did not
succeed: FAILURE (a datum failed, a timeout, an internal error), KILLED (stopped, or its
pipeline deleted or stopped meanwhile) or UNRUNNABLE (an input commit's job failed upstream).
Each of these means the output the write asked for was not produced. The write itself
stands: its commit is made.

"Ended while it waited" is the difference between two looks at the newest jobs of every
project: one as the command starts (before it runs the jobs that earlier ``--no-wait``
commands left pending, which it waits for too), one at its end. Embedded, that is what the
command ran; on a server, it also takes in a job of another client that ended meanwhile.
``wait job`` and ``wait commit`` also look at the job or commits they were asked about,
whenever these ended. ``--no-wait`` waits for nothing and checks nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from loxo.client import Client
from loxo.errors import JobFailed, NotFoundError
from loxo.pfs.model import CommitInfo
from loxo.pps.model import JobInfo, JobState

from .output import truncate

JOBS_WATCHED = 200  # newest jobs per project compared before and after a command
REASON_WIDTH = 200

Key = tuple[str, str, str]  # (project, pipeline, job ID)
Failure = tuple[str, str, str, str, str]  # (project, pipeline, job ID, state, reason)


def _key(job: JobInfo) -> Key:
    return (job.project, job.pipeline, job.id)


def _newest_jobs(client: Client) -> list[JobInfo]:
    return [
        job
        for project in client.list_project()
        for job in client.list_job(project=project, number=JOBS_WATCHED)
    ]


def ended_jobs(client: Client) -> set[Key]:
    """The newest jobs that have ended, for :func:`require_success_since`."""
    return {_key(j) for j in _newest_jobs(client) if j.state.done}


def _failure(j: JobInfo) -> Failure:
    return (j.project, j.pipeline, j.id, str(j.state), truncate(j.reason, REASON_WIDTH))


def require_success(jobs: Iterable[JobInfo]) -> None:
    """Raise :class:`JobFailed` naming the ``jobs`` that ended without success, oldest
    first (an upstream failure before the UNRUNNABLE jobs it caused)."""
    ended = sorted(jobs, key=lambda j: (j.created, j.pipeline))
    failed = [_failure(j) for j in ended if j.state.done and j.state != JobState.SUCCESS]
    if failed:
        raise JobFailed(failed)


def require_success_since(client: Client, before: set[Key]) -> None:
    """Raise :class:`JobFailed` if a job that had not ended at ``before`` ended without
    success."""
    require_success(j for j in _newest_jobs(client) if _key(j) not in before)


def require_commits_produced(client: Client, commits: Iterable[CommitInfo]) -> None:
    """Raise :class:`JobFailed` if one of ``commits`` is the output commit of a job that did
    not succeed: such a commit is finished with an error (the job's state and reason)."""
    failed: list[Failure] = []
    for c in commits:
        if not c.error:
            continue
        try:
            job = client.inspect_job(c.repo, c.id, project=c.project)
        except NotFoundError:  # no job of that name: the commit's error is all there is
            failed.append(
                (c.project, c.repo, str(c.id), "FAILURE", truncate(c.error, REASON_WIDTH))
            )
            continue
        if job.state != JobState.SUCCESS:
            failed.append(_failure(job))
    if failed:
        raise JobFailed(failed)
