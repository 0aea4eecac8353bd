"""The verbs of the grammar, each a click group whose sub-commands are the nouns.

Noun modules attach their commands here (``@verbs.create.command("repo")``);
:mod:`loxo.cli.main` adds every group to the ``loxo`` command.
"""

from __future__ import annotations

import click


def _verb(name: str, help_text: str) -> click.Group:
    return click.Group(name, help=help_text, no_args_is_help=True)


create = _verb("create", "Create a repo or a branch.")
update = _verb("update", "Change a repo's description.")
inspect = _verb("inspect", "Show one repo, branch, commit or file in detail.")
list_ = _verb("list", "List repos, branches, commits or files.")
delete = _verb("delete", "Delete a repo, branch, commit or file.")
start = _verb("start", "Start a commit.")
finish = _verb("finish", "Finish an open commit.")
wait = _verb("wait", "Wait for commits to finish.")
squash = _verb("squash", "Fold a commit into its children.")
put = _verb("put", "Write a file, a directory tree or a tar stream into a branch.")
get = _verb("get", "Read a file, a directory tree or a tar stream from a commit.")
glob = _verb("glob", "Find files matching a glob pattern.")
diff = _verb("diff", "Show what changed between two commits.")
copy = _verb("copy", "Copy files between commits, by reference.")

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
)
