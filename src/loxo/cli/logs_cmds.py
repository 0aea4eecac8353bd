"""``logs``: the lines user code printed, filtered by pipeline, job, datum and inputs.

Text output is one line per logged line, ``<time> <pipeline> <datum ID, short> <line>``;
``-o json`` is one JSON object per line (the full record). ``-f`` keeps printing new lines
as they are logged, until Ctrl-C, and is the one command that never runs pending jobs
first (it would not return until they are done).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import click

from loxo.pps.model import LogRecord

from .context import Session, pass_session
from .output import plain
from .refs import job_ref

LOG_FORMATS = ("text", "json")
SHORT_DATUM = 12


def log_time(t: float) -> str:
    """Local time in ISO 8601 to the millisecond, with its UTC offset."""
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="milliseconds")


def format_log(record: LogRecord, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(plain(record.to_dict()))
    return (
        f"{log_time(record.time)} {record.pipeline} {record.datum_id[:SHORT_DATUM]} {record.line}"
    )


def _filters(
    pipeline: str | None, job: str | None, datum: str | None, inputs: str | None, tail: int
) -> dict[str, Any]:
    project = "default"
    job_id = job
    if job is not None and "@" in job:
        ref = job_ref(job)
        if pipeline is not None and pipeline != ref.pipeline:
            raise click.UsageError(f"--job {job} is not a job of --pipeline {pipeline}")
        project, pipeline, job_id = ref.project, ref.pipeline, ref.job
    elif pipeline is not None and "/" in pipeline:
        project, _, pipeline = pipeline.rpartition("/")
    paths = [p for p in (inputs or "").split(",") if p] or None
    return {
        "pipeline": pipeline,
        "job_id": job_id,
        "datum_id": datum,
        "inputs": paths,
        "tail": tail,
        "project": project,
    }


@click.command("logs")
@click.option("-p", "--pipeline", metavar="PIPELINE", help="Only the lines of this pipeline.")
@click.option(
    "-j",
    "--job",
    metavar="PIPELINE@ID",
    help="Only the lines of this job (or of the job ID in every pipeline).",
)
@click.option("--datum", metavar="ID", help="Only the lines of this datum (its full ID).")
@click.option(
    "--inputs",
    metavar="PATH,...",
    help="Only the lines of datums having all these input paths (comma-separated).",
)
@click.option(
    "--tail",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Only the last N lines (0, the default: all).",
)
@click.option(
    "-f", "--follow", is_flag=True, help="Keep printing lines as they are logged, until Ctrl-C."
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    help="One text line per logged line, or one JSON object per line.",
)
@pass_session
def logs(
    session: Session,
    pipeline: str | None,
    job: str | None,
    datum: str | None,
    inputs: str | None,
    tail: int,
    follow: bool,
    output: str,
) -> None:
    """Print the lines user code logged, oldest first.

    Every line the pipelines' code wrote to stdout or stderr, kept with its pipeline, job,
    datum and time; the options filter them (all filters apply together)."""
    filters = _filters(pipeline, job, datum, inputs, tail)
    records: Iterable[LogRecord]
    if follow:
        records = session.open_client().follow_logs(**filters)
    else:
        records = (record for _, record in session.client.get_logs(**filters))
    for record in records:
        click.echo(format_log(record, output))
        if follow:
            sys.stdout.flush()
