"""The ``loxo`` command group and :func:`main`, the one place exceptions become exit codes.

=====================================  ===========================================
raised                                 printed on stderr, exit code
=====================================  ===========================================
:class:`~loxo.errors.LoxoError`        ``error: <message>``, its ``exit_code``
click usage error                      click's usage message, 2
Ctrl-C (``KeyboardInterrupt``)         nothing more, 130
``BrokenPipeError`` (reader went away) nothing, 1
anything else                          ``internal error: <type>: <message>``, 70
=====================================  ===========================================

Each message is one line; ``LOXO_DEBUG=1`` adds the traceback. ``docs/exit-codes.md`` lists
every code (``JobFailed``, 10: a job a command waited for did not succeed).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from loxo.errors import LoxoError

from . import (
    admin_cmds,
    branch_cmds,
    commit_cmds,
    datum_cmds,
    file_read_cmds,
    file_write_cmds,
    job_cmds,
    logs_cmds,
    pipeline_cmds,
    pipeline_spec_cmds,
    repo_cmds,
    serve_cmds,
    verbs,
)
from .context import Session

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

# imported for their side effect: each attaches its commands to the verb groups
_COMMAND_MODULES = (
    *(repo_cmds, branch_cmds, commit_cmds, file_read_cmds, file_write_cmds),
    *(pipeline_spec_cmds, pipeline_cmds, job_cmds, datum_cmds),
)


@click.group(
    "loxo",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--home",
    envvar="LOXO_HOME",
    show_envvar=True,
    metavar="PATH",
    type=click.Path(file_okay=False),
    help="The loxo home holding the metadata DB and objects (default ~/.loxo).",
)
@click.option(
    "--store",
    envvar="LOXO_STORE",
    show_envvar=True,
    metavar="URL",
    help="The object store of a new home, e.g. s3://bucket/prefix (the home records it; "
    "default: the home's objects/ directory).",
)
@click.option(
    "--no-wait",
    is_flag=True,
    envvar="LOXO_NO_WAIT",
    show_envvar=True,
    help="Do not run pipeline jobs in this command: leave them pending for a later one.",
)
@click.option(
    "--address",
    envvar="LOXO_ADDRESS",
    show_envvar=True,
    metavar="URL",
    help="Run commands on the loxo server at URL (http://host:port) instead of the "
    "embedded store (default: the home's `config set address`).",
)
@click.option(
    "--executor",
    envvar="LOXO_EXECUTOR",
    show_envvar=True,
    metavar="NAME",
    help="Where datums run: local (worker processes, the default), inline or ray.",
)
@click.option(
    "--ray-address",
    envvar="LOXO_RAY_ADDRESS",
    show_envvar=True,
    metavar="ADDR",
    help="The Ray cluster of --executor ray (ray://host:10001 or host:6379).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    home: str | None,
    store: str | None,
    no_wait: bool,
    address: str | None,
    executor: str | None,
    ray_address: str | None,
) -> None:
    """loxo: versioned data with Git-like repos, branches and commits, and pipelines that
    process it.

    Commands read VERB NOUN, e.g. `loxo create repo images`, `loxo put file
    images@master:/a.png -f a.png`, `loxo list commit images@master`. A ref is
    REPO@BRANCH, REPO@COMMIT-ID or ancestry like REPO@BRANCH^2 or REPO@BRANCH.1, followed
    by :/PATH for files. A job is PIPELINE@JOB-ID.

    A command that finishes input commits runs the pipeline jobs they start, here, until
    every pipeline is up to date (other commands first run any jobs left pending), unless
    --no-wait.
    """
    session = Session(
        home,
        store=store,
        wait=not no_wait,
        address=address,
        executor=executor,
        ray_address=ray_address,
    )
    ctx.obj = session
    ctx.call_on_close(session.close)


for _group in verbs.ALL:
    cli.add_command(_group)
for _command in (*admin_cmds.COMMANDS, logs_cmds.logs, *serve_cmds.COMMANDS):
    cli.add_command(_command)


def _debug() -> bool:
    return os.environ.get("LOXO_DEBUG", "") not in ("", "0")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fail(message: str, code: int) -> int:
    if _debug():
        traceback.print_exc()
    click.echo(_one_line(message), err=True)
    return code


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), sys.stdout.fileno())


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); the exit code."""
    try:
        rv = cli.main(args=argv, prog_name="loxo", standalone_mode=False)
        sys.stdout.flush()
        return rv if isinstance(rv, int) else 0
    except LoxoError as err:
        return _fail(f"error: {err}", err.exit_code)
    except click.exceptions.Abort as err:
        if isinstance(err.__cause__, KeyboardInterrupt):
            return EXIT_INTERRUPTED
        return _fail("Aborted!", 1)
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except KeyboardInterrupt:
        click.echo(err=True)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return 1
    except Exception as err:
        return _fail(
            f"internal error: {type(err).__name__}: {err} (set LOXO_DEBUG=1 for the traceback)",
            EXIT_INTERNAL,
        )


def main(argv: Sequence[str] | None = None) -> None:
    """The console script: run and exit with the code."""
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
