"""``create|update|inspect|list|delete repo``."""

from __future__ import annotations

import click

from loxo.client import Client
from loxo.pfs.model import RepoInfo

from . import verbs
from .context import output_options, pass_client
from .output import NONE, Output, human_size


@verbs.create.command("repo")
@click.argument("name")
@click.option("-d", "--description", default="", help="What the repo holds.")
@pass_client
def create_repo(client: Client, name: str, description: str) -> None:
    """Create the repo NAME (letters, digits, '-' and '_')."""
    client.create_repo(name, description)


@verbs.update.command("repo")
@click.argument("name")
@click.option("-d", "--description", required=True, help="The new description.")
@pass_client
def update_repo(client: Client, name: str, description: str) -> None:
    """Replace the description of the repo NAME."""
    client.update_repo(name, description)


@verbs.inspect.command("repo")
@click.argument("name")
@output_options
@pass_client
def inspect_repo(client: Client, name: str, out: Output) -> None:
    """Show the repo NAME: type, description, size of master, branches."""
    out.one(
        client.inspect_repo(name),
        lambda r: [
            ("Name", r.name),
            ("Project", r.project),
            ("Type", r.type),
            ("Description", r.description),
            ("Created", out.when(r.created)),
            ("Size of master", human_size(r.size)),
            ("Branches", ", ".join(r.branches) or NONE),
        ],
    )


@verbs.list_.command("repo")
@click.option("--all", "all_types", is_flag=True, help="Include system repos, with their type.")
@output_options
@pass_client
def list_repo(client: Client, all_types: bool, out: Output) -> None:
    """List the repos, newest first."""

    def row(r: RepoInfo) -> list[str]:
        typ = [r.type] if all_types else []
        return [r.name, *typ, out.when(r.created), human_size(r.size), r.description]

    headers = ["NAME", *(["TYPE"] if all_types else []), "CREATED", "SIZE (MASTER)", "DESCRIPTION"]
    out.many(client.list_repo(all_types=all_types), headers, row)


@verbs.delete.command("repo")
@click.argument("name")
@click.option(
    "--force", is_flag=True, help="Delete even if other repos' commits were made from it."
)
@pass_client
def delete_repo(client: Client, name: str, force: bool) -> None:
    """Delete the repo NAME with its branches and commits.

    `loxo gc` then frees the space its data used."""
    client.delete_repo(name, force=force)
