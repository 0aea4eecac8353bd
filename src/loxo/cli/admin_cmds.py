"""``gc``, ``fsck`` and ``version``: looking after the store itself."""

from __future__ import annotations

import click

import loxo
from loxo.client import Client
from loxo.pfs.model import FsckProblem

from .context import output_options, pass_client
from .output import Output, human_size


@click.command("gc")
@output_options
@pass_client
def gc(client: Client, out: Output) -> None:
    """Free the space of data nothing needs any more.

    Deletes every stored object that no commit and no write in progress refers to."""
    out.one(
        client.gc(),
        lambda r: [
            ("Objects deleted", str(r.objects_deleted)),
            ("Space freed", human_size(r.bytes_freed)),
            ("Objects kept", str(r.objects_kept)),
            ("Chunks forgotten", str(r.chunks_forgotten)),
        ],
    )


@click.command("fsck")
@output_options
@pass_client
def fsck(client: Client, out: Output) -> None:
    """Verify the stored data of every commit.

    Reads back and checks every stored object a commit needs; lists each missing or
    corrupted one and exits 1 if there is any."""
    report = client.fsck()
    if out.format != "table":
        out.one(report, lambda r: [])
    elif report.ok:
        click.echo(
            f"ok: {report.objects_checked} fileset objects and {report.chunks_checked} chunks "
            "verified"
        )
    else:

        def row(p: FsckProblem) -> list[str]:
            return [p.problem, p.key, p.detail]

        out.many(report.problems, ["PROBLEM", "OBJECT", "DETAIL"], row)
    if not report.ok:
        raise click.exceptions.Exit(1)


@click.command("version")
def version() -> None:
    """Print the version of loxo."""
    click.echo(f"loxo {loxo.__version__}")


COMMANDS: tuple[click.Command, ...] = (gc, fsck, version)
