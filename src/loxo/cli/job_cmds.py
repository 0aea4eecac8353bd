"""``list|inspect|wait|stop job``.

A job is ``PIPELINE@ID``; its ID is the commit-set ID of the input commit that caused it,
so a bare 32-hex ``ID`` (``list job ID``) names the whole set, across pipelines.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import click

from loxo.client import Client
from loxo.pps.model import JobInfo

from . import outcome, verbs
from .context import always_drives, output_options, pass_client, pass_client_as_is
from .output import NONE, Output, human_duration, human_size, truncate
from .refs import is_commit_id, job_ref, pipeline_ref

JOB_HEADERS = [
    *("ID", "PIPELINE", "STARTED", "DURATION", "PROGRESS"),
    *("DL", "UL", "STATE", "REASON"),
]
REASON_WIDTH = 40


def progress_text(j: JobInfo) -> str:
    """``37 + 3 / 40``: processed + skipped / total, then failed and recovered if any."""
    text = f"{j.data_processed} + {j.data_skipped} / {j.data_total}"
    if j.data_failed:
        text += f", {j.data_failed} failed"
    if j.data_recovered:
        text += f", {j.data_recovered} recovered"
    return text


def duration(j: JobInfo, now: float | None = None) -> str:
    if j.started is None:
        return NONE
    end = j.finished or (time.time() if now is None else now)
    return human_duration(end - j.started)


def job_row(out: Output) -> Callable[[JobInfo], list[str]]:
    def row(j: JobInfo) -> list[str]:
        return [
            j.id,
            j.pipeline,
            out.when(j.started),
            duration(j),
            progress_text(j),
            human_size(j.download_bytes),
            human_size(j.upload_bytes),
            str(j.state),
            truncate(j.reason, REASON_WIDTH),
        ]

    return row


@verbs.list_.command("job")
@click.argument("target", required=False, metavar="[PIPELINE | ID]")
@click.option(
    "-n", "--number", type=click.IntRange(min=0), default=0, metavar="N", help="At most N jobs."
)
@output_options
@pass_client
def list_job(client: Client, target: str | None, number: int, out: Output) -> None:
    """List jobs, newest first.

    Every job, the jobs of PIPELINE, or the jobs of the commit set ID (one per pipeline its
    input commit reached)."""
    if target is not None and is_commit_id(target):
        jobs = client.list_job(job_id=target, number=number)
    elif target is not None:
        project, pipeline = pipeline_ref(target)
        jobs = client.list_job(pipeline, project=project, number=number)
    else:
        jobs = client.list_job(number=number)
    out.many(jobs, JOB_HEADERS, job_row(out))


def _inputs(j: JobInfo) -> str:
    return ", ".join(f"{i.name}={i.repo}@{i.commit or NONE}" for i in j.inputs) or NONE


def _datums(j: JobInfo) -> str:
    return (
        f"{j.data_total} total: {j.data_processed} processed, {j.data_skipped} skipped, "
        f"{j.data_failed} failed, {j.data_recovered} recovered"
    )


@verbs.inspect.command("job")
@click.argument("job", metavar="PIPELINE@ID")
@output_options
@pass_client
def inspect_job(client: Client, job: str, out: Output) -> None:
    """Show a job: state, datum counts, data moved, time spent, inputs."""
    ref = job_ref(job)
    out.one(
        client.inspect_job(ref.pipeline, ref.job, project=ref.project),
        lambda j: [
            ("Job", f"{j.pipeline}@{j.id}"),
            ("Pipeline version", str(j.version)),
            ("State", str(j.state)),
            ("Reason", j.reason or NONE),
            ("Created", out.when(j.created)),
            ("Started", out.when(j.started)),
            ("Finished", out.when(j.finished)),
            ("Duration", duration(j)),
            ("Datums", _datums(j)),
            ("Downloaded", human_size(j.download_bytes)),
            ("Uploaded", human_size(j.upload_bytes)),
            ("Download time", human_duration(j.download_seconds)),
            ("Process time", human_duration(j.process_seconds)),
            ("Upload time", human_duration(j.upload_seconds)),
            ("Inputs", _inputs(j)),
            ("Output commit", f"{j.pipeline}@{j.output_commit}"),
        ],
    )


@verbs.wait.command("job")
@click.argument("job", metavar="PIPELINE@ID")
@click.option("--timeout", type=click.FloatRange(min=0), help="Give up after this many seconds.")
@output_options
@always_drives
@pass_client
def wait_job(client: Client, job: str, timeout: float | None, out: Output) -> None:
    """Run pending jobs here until the job PIPELINE@ID is done, then show it.

    Runs even under --no-wait: waiting is what was asked. Exits 10 if the job (or another
    job run meanwhile) did not succeed."""
    ref = job_ref(job)
    done = client.wait_job(ref.pipeline, ref.job, project=ref.project, timeout=timeout)
    out.many([done], JOB_HEADERS, job_row(out))
    outcome.require_success([done])


@verbs.stop.command("job")
@click.argument("job", metavar="PIPELINE@ID")
@pass_client_as_is
def stop_job(client: Client, job: str) -> None:
    """Kill the job PIPELINE@ID; its output commit closes with the reason.

    Pending jobs are not run first: a pending job is killed before it starts."""
    ref = job_ref(job)
    client.stop_job(ref.pipeline, ref.job, project=ref.project)
