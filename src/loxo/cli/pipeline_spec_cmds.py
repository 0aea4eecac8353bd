"""``create|update|edit|validate pipeline``: the commands that take a pipeline spec.

A spec is JSON or YAML, read from a file or from stdin (``-f -``); a file of several
documents holds several pipelines, handled in order. A spec error names the file, the
document and the field path, on one line (``spec.yaml: input.pfs.glb: unknown field``).
``update pipeline`` and ``edit pipeline`` first tell how many datums the new spec keeps
(skipped, as their inputs and the salt are unchanged) and how many it runs again.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click

from loxo.client import Client
from loxo.errors import FileNotFound, InvalidArgumentError, LoxoError, StorageError
from loxo.pps.spec import PipelineSpec, parse_specs

from . import verbs
from .context import drives, pass_client
from .output import dump
from .refs import pipeline_ref

R = TypeVar("R")
DEFAULT_EDITOR = "vi"


def spec_option(f: Callable[..., R]) -> Callable[..., R]:
    """``-f/--file SPEC``, passed as ``spec_file``."""
    return click.option(
        "-f",
        "--file",
        "spec_file",
        required=True,
        metavar="SPEC",
        help="The pipeline spec: a JSON or YAML file, '-' for stdin. Several documents "
        "are several pipelines.",
    )(f)


def reprocess_option(f: Callable[..., R]) -> Callable[..., R]:
    return click.option(
        "--reprocess",
        is_flag=True,
        help="Run every datum again (a new salt), not only those whose inputs changed.",
    )(f)


def read_specs(source: str) -> list[PipelineSpec]:
    """The specs in the file ``source`` (``-``: stdin); errors name the file."""
    if source == "-":
        return parse_specs(sys.stdin.read(), "<stdin>")
    try:
        text = Path(source).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise FileNotFound("the local file system", source) from err
    except UnicodeDecodeError as err:
        raise InvalidArgumentError(f"spec file {source!r} is not UTF-8 text: {err}") from err
    except IsADirectoryError as err:
        raise InvalidArgumentError(f"{source!r} is a directory; give a spec file") from err
    except OSError as err:
        raise StorageError(f"cannot read {source!r}: {err.strerror or err}") from err
    return parse_specs(text, source)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _update(client: Client, spec: PipelineSpec, reprocess: bool) -> None:
    kept, rerun = client.preview_update(spec)
    if reprocess:
        kept, rerun = 0, kept + rerun
    click.echo(
        f"pipeline {spec.name}: {_plural(kept, 'datum')} will be kept, {rerun} will be rerun"
    )
    client.update_pipeline(spec, reprocess=reprocess)


@verbs.create.command("pipeline")
@spec_option
@drives
@pass_client
def create_pipeline(client: Client, spec_file: str) -> None:
    """Create pipelines from a spec file, and run their first jobs.

    Each pipeline gets an output repo of its name and a first job on the current heads of
    its inputs; after that, every commit to an input starts a job."""
    for spec in read_specs(spec_file):
        client.create_pipeline(spec)


@verbs.update.command("pipeline")
@spec_option
@reprocess_option
@drives
@pass_client
def update_pipeline(client: Client, spec_file: str, reprocess: bool) -> None:
    """Replace pipelines' specs and run a job with the new one.

    Datums whose inputs did not change stay skipped (the salt is kept) unless --reprocess;
    prints how many datums will be kept and how many rerun."""
    for spec in read_specs(spec_file):
        _update(client, spec, reprocess)


@verbs.edit.command("pipeline")
@click.argument("name")
@click.option(
    "--editor",
    metavar="CMD",
    help="The editor to run (default $EDITOR, else vi); the spec file is its last argument.",
)
@reprocess_option
@drives
@pass_client
def edit_pipeline(client: Client, name: str, editor: str | None, reprocess: bool) -> None:
    """Edit the spec of the pipeline NAME in an editor, then update it if changed.

    The spec is written as YAML to a temporary file; if the edited spec is not valid, the
    file is kept and the error names it (fix it and `loxo update pipeline -f FILE`)."""
    project, pipeline = pipeline_ref(name)
    before = dump(client.inspect_pipeline(pipeline, project=project).spec, "yaml") + "\n"
    with _temp_spec(pipeline, before) as path:
        _run_editor(editor or os.environ.get("EDITOR") or DEFAULT_EDITOR, path)
        specs = parse_specs(path.read_text(encoding="utf-8"), str(path))
        if len(specs) != 1 or (specs[0].project, specs[0].name) != (project, pipeline):
            found = ", ".join(s.name for s in specs)
            raise InvalidArgumentError(
                f"{path}: the edited spec must be the one pipeline {pipeline!r}, found {found}"
            )
        if specs[0] == parse_specs(before)[0]:
            click.echo(f"pipeline {pipeline}: unchanged")
            return
        _update(client, specs[0], reprocess)


@contextmanager
def _temp_spec(pipeline: str, text: str) -> Iterator[Path]:
    """A temporary ``.yaml`` file holding ``text``, removed unless the block fails."""
    fd, name = tempfile.mkstemp(prefix=f"loxo-{pipeline}-", suffix=".yaml")
    path = Path(name)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    yield path
    path.unlink(missing_ok=True)


def _run_editor(command: str, path: Path) -> None:
    argv = [*shlex.split(command), str(path)]
    try:
        code = subprocess.call(argv)
    except OSError as err:
        raise InvalidArgumentError(
            f"cannot run the editor {command!r}: {err.strerror or err}; set $EDITOR or --editor"
        ) from err
    if code != 0:
        path.unlink(missing_ok=True)
        raise LoxoError(f"the editor {command!r} exited with {code}; the pipeline is unchanged")


@verbs.validate.command("pipeline")
@spec_option
@pass_client
def validate_pipeline(client: Client, spec_file: str) -> None:
    """Check pipeline specs: every field, the input repos, no cycle. Changes nothing."""
    for spec in read_specs(spec_file):
        client.validate_pipeline(spec)
        click.echo(f"pipeline {spec.name}: valid")
