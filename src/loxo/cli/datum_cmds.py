"""``list|inspect|restart datum``.

Datums are listed per job (``PIPELINE@ID``, or ``PIPELINE`` for its latest job), or, with
``list datum -f SPEC``, as a dry run: the datums a spec would have on the current inputs,
without creating anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import click

from loxo.client import Client
from loxo.errors import InvalidArgumentError
from loxo.pps.model import DatumInfo, LogRecord

from . import verbs
from .context import output_options, pass_client, pass_client_as_is
from .output import NONE, Output, dump, format_fields, human_duration, human_size
from .pipeline_spec_cmds import read_specs
from .refs import job_ref

DATUM_STATES = ("STARTING", "SUCCESS", "SKIPPED", "FAILED", "RECOVERED")
DATUM_HEADERS = ["ID", "STATE", "INPUTS", "ATTEMPTS", "TIME"]


@dataclass(frozen=True)
class DryRunDatum:
    """One datum of a dry run: its ID and, per input, the path and how many files."""

    id: str
    inputs: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _paths(inputs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{i['name']}:{i['path']}" for i in inputs) or NONE


def _time(d: DatumInfo) -> str:
    if d.started is None or d.finished is None:
        return NONE
    return human_duration(d.finished - d.started)


def _dry_run(client: Client, spec_file: str, out: Output) -> None:
    specs = read_specs(spec_file)
    if len(specs) != 1:
        raise InvalidArgumentError(
            f"{spec_file}: a dry run takes one pipeline spec, found {len(specs)}"
        )
    datums = [DryRunDatum(d["id"], d["inputs"]) for d in client.dry_run_datums(specs[0])]
    out.many(datums, ["ID", "INPUTS"], lambda d: [d.id, _paths(d.inputs)])


@verbs.list_.command("datum")
@click.argument("job", required=False, metavar="PIPELINE[@ID]")
@click.option(
    "-f",
    "--file",
    "spec_file",
    metavar="SPEC",
    help="Dry run: list the datums this spec file would have on the current inputs, "
    "creating nothing.",
)
@click.option(
    "--state",
    type=click.Choice(DATUM_STATES, case_sensitive=False),
    help="Only the datums in this state.",
)
@output_options
@pass_client
def list_datum(
    client: Client, job: str | None, spec_file: str | None, state: str | None, out: Output
) -> None:
    """List the datums of a job, or of a spec (dry run).

    The datums of the job PIPELINE@ID (PIPELINE alone: its latest job), or with -f SPEC
    those the spec would have on the current inputs."""
    if (job is None) == (spec_file is None):
        raise click.UsageError("name a job, PIPELINE[@ID], or a spec file with -f (not both)")
    if spec_file is not None:
        if state is not None:
            raise click.UsageError("--state applies to a job's datums, not to a dry run")
        _dry_run(client, spec_file, out)
        return
    assert job is not None
    ref = job_ref(job, need_job=False)
    datums = client.list_datum(ref.pipeline, ref.job, project=ref.project, state=state)

    def row(d: DatumInfo) -> list[str]:
        return [d.id, d.state, _paths(d.inputs), str(d.attempts), _time(d)]

    out.many(datums, DATUM_HEADERS, row)


def _fields(d: DatumInfo, out: Output) -> list[tuple[str, str]]:
    return [
        ("Datum", d.id),
        ("Job", f"{d.pipeline}@{d.job_id}"),
        ("State", d.state),
        ("Attempts", str(d.attempts)),
        ("Error", d.error or NONE),
        ("Worker", d.worker or NONE),
        ("Started", out.when(d.started)),
        ("Finished", out.when(d.finished)),
        ("Hash", d.hash),
        *(
            (f"Input {i['name']}", f"{i['repo']}@{i.get('commit') or NONE}:{i['path']}")
            for i in d.inputs
        ),
        ("Downloaded", f"{human_size(d.download_bytes)} in {human_duration(d.download_seconds)}"),
        ("Processed in", human_duration(d.process_seconds)),
        ("Uploaded", f"{human_size(d.upload_bytes)} in {human_duration(d.upload_seconds)}"),
    ]


@verbs.inspect.command("datum")
@click.argument("job", metavar="PIPELINE@ID")
@click.argument("datum", metavar="DATUM")
@output_options
@pass_client
def inspect_datum(client: Client, job: str, datum: str, out: Output) -> None:
    """Show a datum of a job: state, inputs, stats, error, and the lines its code logged."""
    ref = job_ref(job)
    info = client.inspect_datum(ref.pipeline, ref.job, datum, project=ref.project)
    rows = client.get_logs(
        pipeline=ref.pipeline, job_id=ref.job, datum_id=datum, project=ref.project
    )
    logs: list[LogRecord] = [record for _, record in rows]
    if out.format != "table":
        click.echo(dump({**info.to_dict(), "logs": [r.to_dict() for r in logs]}, out.format))
        return
    click.echo(format_fields(_fields(info, out)))
    click.echo("Logs:" + ("" if logs else " " + NONE))
    for record in logs:
        click.echo(f"  {record.line}")


@verbs.restart.command("datum")
@click.argument("job", metavar="PIPELINE@ID")
@click.argument("datum", metavar="DATUM")
@pass_client_as_is
def restart_datum(client: Client, job: str, datum: str) -> None:
    """Kill the running attempt of a (stuck) datum; it is tried again if tries remain.

    The job runs in another loxo process; pending jobs are not run here first."""
    ref = job_ref(job)
    client.restart_datum(ref.pipeline, ref.job, datum, project=ref.project)
