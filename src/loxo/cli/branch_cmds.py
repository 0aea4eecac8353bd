"""``create|inspect|list|delete branch``."""

from __future__ import annotations

import click

from loxo.client import Client
from loxo.pfs.model import BranchInfo

from . import verbs
from .context import drives, output_options, pass_client
from .output import NONE, Output
from .refs import branch_ref


@verbs.create.command("branch")
@click.argument("branch")
@click.option(
    "--head",
    metavar="REF",
    help="Point the branch at this commit: a branch, a commit ID or ancestry like master^.",
)
@drives
@pass_client
def create_branch(client: Client, branch: str, head: str | None) -> None:
    """Create the branch REPO@BRANCH, or move it to --head.

    Without --head, a new branch starts empty and an existing one keeps its head."""
    ref = branch_ref(branch)
    client.create_branch(ref.repo, ref.ref, head=head, project=ref.project)


@verbs.inspect.command("branch")
@click.argument("branch")
@output_options
@pass_client
def inspect_branch(client: Client, branch: str, out: Output) -> None:
    """Show the branch REPO@BRANCH and its head commit."""
    ref = branch_ref(branch)
    out.one(
        client.inspect_branch(ref.repo, ref.ref, project=ref.project),
        lambda b: [
            ("Branch", f"{b.repo}@{b.name}"),
            ("Head", b.head or NONE),
            ("Created", out.when(b.created)),
        ],
    )


@verbs.list_.command("branch")
@click.argument("repo")
@output_options
@pass_client
def list_branch(client: Client, repo: str, out: Output) -> None:
    """List the branches of REPO, newest first."""

    def row(b: BranchInfo) -> list[str]:
        return [b.name, b.head or NONE, out.when(b.created)]

    out.many(client.list_branch(repo), ["BRANCH", "HEAD", "CREATED"], row)


@verbs.delete.command("branch")
@click.argument("branch")
@pass_client
def delete_branch(client: Client, branch: str) -> None:
    """Delete the branch REPO@BRANCH; its commits stay, reachable by ID."""
    ref = branch_ref(branch)
    client.delete_branch(ref.repo, ref.ref, project=ref.project)
