"""The verbs of the grammar, each a click group whose sub-commands are the nouns.

Noun modules attach their commands here (``@verbs.create.command("repo")``);
:mod:`loxo.cli.main` adds every group to the ``loxo`` command.
"""

from __future__ import annotations

import click


def _verb(name: str, help_text: str) -> click.Group:
    return click.Group(name, help=help_text, no_args_is_help=True)


create = _verb("create", "Create a repo, a branch or pipelines.")
update = _verb("update", "Change a repo's description or a pipeline's spec.")
inspect = _verb("inspect", "Show a repo, branch, commit, file, pipeline, job or datum.")
list_ = _verb("list", "List repos, branches, commits, files, pipelines, jobs or datums.")
delete = _verb("delete", "Delete a repo, branch, commit, file or pipeline.")
start = _verb("start", "Start a commit, or restart a stopped pipeline.")
finish = _verb("finish", "Finish an open commit.")
wait = _verb("wait", "Wait for commits or jobs to finish, running pending jobs here.")
squash = _verb("squash", "Fold a commit into its children.")
put = _verb("put", "Write a file, a directory tree or a tar stream into a branch.")
get = _verb("get", "Read a file, a directory tree or a tar stream from a commit.")
glob = _verb("glob", "Find files matching a glob pattern.")
diff = _verb("diff", "Show what changed between two commits.")
copy = _verb("copy", "Copy files between commits, by reference.")
edit = _verb("edit", "Edit a pipeline's spec in your editor.")
stop = _verb("stop", "Stop a pipeline or a job.")
rerun = _verb("rerun", "Run a pipeline again on its current inputs.")
validate = _verb("validate", "Check pipeline specs without changing anything.")
draw = _verb("draw", "Draw the pipeline DAG as text.")
restart = _verb("restart", "Restart a running datum.")
run = _verb("run", "Run a cron pipeline's tick now.")

ALL: tuple[click.Group, ...] = (
    create,
    update,
    inspect,
    list_,
    delete,
    start,
    finish,
    wait,
    squash,
    put,
    get,
    glob,
    diff,
    copy,
    edit,
    stop,
    rerun,
    validate,
    draw,
    restart,
    run,
)
