"""Cutting ref text (``repo@ref:/path``) where a command needs its parts apart.

Most commands hand the text to the client whole; the grammar itself lives in
:mod:`loxo.pfs.refs`. Names never contain ``:``, so the first ``:`` always starts the path
(or, for ``glob file``, the pattern, whose glob characters a ref's path would reject).
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from loxo.errors import InvalidRef
from loxo.pfs.refs import CommitRef, is_commit_id, parse_commit_ref

__all__ = [
    "JobRef",
    "branch_ref",
    "is_commit_id",
    "job_ref",
    "pipeline_ref",
    "require_path",
    "split_path",
]


def split_path(text: str) -> tuple[str, str | None]:
    """``"images@master:/a"`` -> ``("images@master", "/a")``; no ``:`` gives ``None``."""
    ref, colon, path = text.partition(":")
    return ref, (path if colon else None)


def require_path(text: str, what: str) -> tuple[str, str]:
    """Like :func:`split_path`, but the path part must be there (a usage error otherwise)."""
    ref, path = split_path(text)
    if path is None:
        raise click.UsageError(f"{text!r} names no {what}: write REPO@BRANCH:{what.upper()}")
    return ref, path


def branch_ref(text: str, *, default: str | None = None) -> CommitRef:
    """Parse ``repo@branch`` (no ancestry, no path); ``default`` stands in for a missing
    ``@branch``, which is an error without it."""
    ref = parse_commit_ref(text)
    if ref.ancestors or ref.index is not None:
        raise InvalidRef(text, "name a branch here, without ancestry (^, .N)")
    if ref.ref is None:
        if default is None:
            raise InvalidRef(text, "name a branch: REPO@BRANCH")
        return CommitRef(ref.repo, ref.project, default)
    return ref


@dataclass(frozen=True)
class JobRef:
    """``[project/]pipeline[@job-id]`` cut apart."""

    project: str
    pipeline: str
    job: str | None


def job_ref(text: str, *, need_job: bool = True) -> JobRef:
    """Parse ``[project/]pipeline@job-id`` (the ``@job-id`` optional unless ``need_job``)."""
    name, at, job = text.partition("@")
    project, _, pipeline = name.rpartition("/")
    if not pipeline or (at and not job):
        raise click.UsageError(f"{text!r} is not a job: write PIPELINE@JOB-ID")
    if need_job and not job:
        raise click.UsageError(f"{text!r} names no job: write PIPELINE@JOB-ID")
    return JobRef(project or "default", pipeline, job or None)


def pipeline_ref(text: str) -> tuple[str, str]:
    """``[project/]pipeline`` -> ``(project, pipeline)``."""
    ref = job_ref(text, need_job=False)
    if ref.job is not None:
        raise click.UsageError(f"{text!r}: name a pipeline here, without '@'")
    return ref.project, ref.pipeline
