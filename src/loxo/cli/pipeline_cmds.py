"""``inspect|list|delete|start|stop|rerun|draw pipeline`` and ``run cron``.

A pipeline is named ``NAME`` or ``PROJECT/NAME``. Commands that start jobs (``start``,
``rerun``, ``run cron``) run them before returning, unless ``--no-wait``.
"""

from __future__ import annotations

import textwrap

import click

from loxo.client import Client
from loxo.pps.draw import Stage, describe_input, draw
from loxo.pps.model import PipelineInfo

from . import verbs
from .context import drives, output_options, pass_client, pass_client_as_is
from .output import NONE, Output, dump
from .pipeline_spec_cmds import reprocess_option
from .refs import pipeline_ref

PIPELINE_HEADERS = ["NAME", "VERSION", "INPUT", "STATE", "LAST JOB", "CREATED"]


def _last_job(p: PipelineInfo) -> str:
    if p.last_job_state is None:
        return NONE
    return f"{p.last_job_state} ({p.last_job_id})"


@verbs.inspect.command("pipeline")
@click.argument("name")
@output_options
@pass_client
def inspect_pipeline(client: Client, name: str, out: Output) -> None:
    """Show the pipeline NAME: state, version, last job, inputs and its effective spec."""
    project, pipeline = pipeline_ref(name)
    info = client.inspect_pipeline(pipeline, project=project)
    out.one(
        info,
        lambda p: [
            ("Name", p.name),
            ("Project", p.project),
            ("Description", p.description),
            ("State", str(p.state)),
            ("Version", str(p.version)),
            ("Created", out.when(p.created)),
            ("Updated", out.when(p.updated)),
            ("Last job", _last_job(p)),
            ("Inputs", ", ".join(p.inputs) or NONE),
            ("Input", describe_input(p.spec.get("input"))),
        ],
    )
    if out.format == "table":
        click.echo("Spec:")
        click.echo(textwrap.indent(dump(info.spec, "yaml"), "  "))


@verbs.list_.command("pipeline")
@output_options
@pass_client
def list_pipeline(client: Client, out: Output) -> None:
    """List the pipelines, newest first."""

    def row(p: PipelineInfo) -> list[str]:
        last = str(p.last_job_state) if p.last_job_state is not None else NONE
        return [
            p.name,
            str(p.version),
            describe_input(p.spec.get("input")),
            str(p.state),
            last,
            out.when(p.created),
        ]

    out.many(client.list_pipeline(), PIPELINE_HEADERS, row)


@verbs.delete.command("pipeline")
@click.argument("name")
@click.option("--force", is_flag=True, help="Delete even if other pipelines read its output.")
@click.option("--keep-repo", is_flag=True, help="Keep the output repo and its commits.")
@pass_client_as_is
def delete_pipeline(client: Client, name: str, force: bool, keep_repo: bool) -> None:
    """Delete the pipeline NAME, its jobs and logs, and its output repo.

    Pending jobs are not run first."""
    project, pipeline = pipeline_ref(name)
    client.delete_pipeline(pipeline, project=project, force=force, keep_repo=keep_repo)


@verbs.stop.command("pipeline")
@click.argument("name")
@pass_client_as_is
def stop_pipeline(client: Client, name: str) -> None:
    """Pause the pipeline NAME: its running and pending jobs are killed, no new job starts.

    Pending jobs are not run first."""
    project, pipeline = pipeline_ref(name)
    client.stop_pipeline(pipeline, project=project)


@verbs.start.command("pipeline")
@click.argument("name")
@drives
@pass_client
def start_pipeline(client: Client, name: str) -> None:
    """Resume the stopped pipeline NAME with one job on the current inputs."""
    project, pipeline = pipeline_ref(name)
    client.start_pipeline(pipeline, project=project)


@verbs.rerun.command("pipeline")
@click.argument("name")
@reprocess_option
@drives
@pass_client
def rerun_pipeline(client: Client, name: str, reprocess: bool) -> None:
    """Run a new job of the pipeline NAME on its current inputs.

    Datums that failed run again; with --reprocess, every datum does."""
    project, pipeline = pipeline_ref(name)
    client.rerun_pipeline(pipeline, project=project, reprocess=reprocess)


def _stage(p: PipelineInfo) -> Stage:
    branch = p.spec.get("output_branch") or "master"
    return Stage(
        pipeline=p.name,
        inputs=tuple(i.removesuffix("@master") for i in p.inputs),
        output=p.name if branch == "master" else f"{p.name}@{branch}",
    )


@verbs.draw.command("pipeline")
@pass_client
def draw_pipeline(client: Client) -> None:
    """Draw the DAG: repos and pipelines by depth, one `inputs -> [pipeline] -> output`
    line per pipeline."""
    text = draw([_stage(p) for p in client.list_pipeline()])
    if text:
        click.echo(text)


@verbs.run.command("cron")
@click.argument("name")
@drives
@pass_client
def run_cron(client: Client, name: str) -> None:
    """Tick every cron input of the pipeline NAME now, and print the commits made."""
    project, pipeline = pipeline_ref(name)
    for commit in client.run_cron(pipeline, project=project):
        click.echo(commit)
