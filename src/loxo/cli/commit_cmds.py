"""``start|finish|inspect|list|wait|squash|delete commit``.

A bare 32-hex argument names a commit set (every commit with that ID, across repos);
anything else is a ref such as ``images@master^`` or ``images@<id>``.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from loxo.client import Client
from loxo.pfs.model import CommitInfo, CommitRefInfo, CommitState

from . import outcome, verbs
from .context import always_drives, drives, message_option, output_options, pass_client
from .output import NONE, Output, human_size
from .refs import branch_ref, is_commit_id

COMMIT_HEADERS = ["REPO", "BRANCH", "COMMIT", "FINISHED", "SIZE", "ORIGIN", "DESCRIPTION"]


def commit_row(out: Output) -> Callable[[CommitInfo], list[str]]:
    def row(c: CommitInfo) -> list[str]:
        finished = out.when(c.finished) if c.state == CommitState.FINISHED else NONE
        return [
            c.repo,
            c.branch or NONE,
            c.id,
            finished,
            human_size(c.size),
            str(c.origin),
            c.description,
        ]

    return row


def _refs(refs: list[CommitRefInfo]) -> str:
    return ", ".join(f"{r.repo}@{r.id}" for r in refs) or NONE


@verbs.start.command("commit")
@click.argument("branch")
@message_option("A description of the commit.")
@pass_client
def start_commit(client: Client, branch: str, description: str | None) -> None:
    """Open a commit on REPO@BRANCH and print its ID.

    Writes to the branch go into the open commit, invisible to readers of the branch, until
    `loxo finish commit`."""
    ref = branch_ref(branch)
    info = client.start_commit(
        ref.repo, ref.ref, description=description or "", project=ref.project
    )
    click.echo(info.id)


@verbs.finish.command("commit")
@click.argument("ref")
@message_option("Replace the commit's description.")
@drives
@pass_client
def finish_commit(client: Client, ref: str, description: str | None) -> None:
    """Finish the open commit REPO@BRANCH or REPO@ID.

    The commit becomes what its branch shows."""
    client.finish_commit(ref, description=description)


@verbs.inspect.command("commit")
@click.argument("ref")
@output_options
@pass_client
def inspect_commit(client: Client, ref: str, out: Output) -> None:
    """Show the commit REF (REPO@BRANCH, REPO@ID, REPO@BRANCH^2, ...)."""
    out.one(
        client.inspect_commit(ref),
        lambda c: [
            ("Commit", f"{c.repo}@{c.id}"),
            ("Branch", c.branch or NONE),
            ("Parent", c.parent or NONE),
            ("Children", ", ".join(c.children) or NONE),
            ("Origin", str(c.origin)),
            ("Description", c.description),
            ("State", str(c.state)),
            ("Started", out.when(c.started)),
            ("Finished", out.when(c.finished)),
            ("Size", human_size(c.size)),
            ("Files", str(c.file_count)),
            ("Error", c.error or NONE),
            ("Provenance", _refs(c.provenance)),
            ("Subvenance", _refs(c.subvenance)),
        ],
    )


@verbs.list_.command("commit")
@click.argument("target", required=False, metavar="[REPO[@BRANCH] | ID]")
@click.option(
    "-n", "--number", type=click.IntRange(min=0), default=0, metavar="N", help="At most N commits."
)
@click.option(
    "--from", "from_commit", metavar="ID", help="Stop before this commit (list newer ones only)."
)
@output_options
@pass_client
def list_commit(
    client: Client, target: str | None, number: int, from_commit: str | None, out: Output
) -> None:
    """List commits, newest first.

    A branch's history (REPO@BRANCH), every commit of REPO, every commit (no argument), or
    the members of the commit set ID."""
    if target is not None and is_commit_id(target):
        if number or from_commit:
            raise click.UsageError("-n and --from apply to a history, not to a commit set")
        commits = client.list_commit_set(target)
    else:
        commits = client.list_commit(target, number=number, from_commit=from_commit)
    out.many(commits, COMMIT_HEADERS, commit_row(out))


@verbs.wait.command("commit")
@click.argument("ref")
@click.option("--timeout", type=click.FloatRange(min=0), help="Give up after this many seconds.")
@output_options
@always_drives
@pass_client
def wait_commit(client: Client, ref: str, timeout: float | None, out: Output) -> None:
    """Wait until a commit is finished.

    Waits for the commit REF, or for every commit of the commit set ID, then shows it.
    Pending pipeline jobs run here first, even under --no-wait. Exits 10 if a commit waited
    for is the output of a job that did not succeed (or another job run meanwhile failed)."""
    if is_commit_id(ref):
        done = client.wait_commit_set(ref, timeout=timeout)
    else:
        done = [client.wait_commit(ref, timeout=timeout)]
    out.many(done, COMMIT_HEADERS, commit_row(out))
    outcome.require_commits_produced(client, done)


@verbs.squash.command("commit")
@click.argument("ref")
@pass_client
def squash_commit(client: Client, ref: str) -> None:
    """Fold a commit into its children.

    Removes the commit REF (or the commit set ID); its children keep their content and take
    its parent as theirs."""
    client.squash_commit(ref)


@verbs.delete.command("commit")
@click.argument("ref")
@pass_client
def delete_commit(client: Client, ref: str) -> None:
    """Delete a commit that has no children.

    Deletes the commit REF (or the commit set ID); branch heads on it move back to its
    parent; an open commit is aborted."""
    client.delete_commit(ref)
