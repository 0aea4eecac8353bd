"""``get|list|glob|inspect|diff file``: reads from any commit (branch, ID or ancestry).

``get file`` streams: to stdout (or ``-o FILE``) chunk by chunk, a tree into ``-o DIR``
(``-r``), or a tar stream (``--tar``). Every file written to disk (``-o FILE``, each file of
``-r -o DIR``) appears only once complete and verified (:mod:`loxo.pfs.download`): a read
that fails part-way leaves neither a partial file nor a temporary one.
"""

from __future__ import annotations

import os
import posixpath
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import click

from loxo.client import Client
from loxo.pfs.download import atomic_output
from loxo.pfs.model import DiffEntry, FileInfo, FileType

from . import verbs
from .context import output_options, pass_client
from .output import NONE, Output, human_size
from .progress import progress
from .refs import require_path, split_path

FILE_HEADERS = ["NAME", "TYPE", "SIZE"]


def _file_row(f: FileInfo) -> list[str]:
    name = f.path + "/" if f.type == FileType.DIR and f.path != "/" else f.path
    return [name, str(f.type), human_size(f.size)]


@contextmanager
def _output(dest: str | None, name: str) -> Iterator[BinaryIO]:
    """stdout, or a temporary file beside ``dest`` renamed onto it on success; a ``dest``
    that is a directory receives the file as ``name``."""
    if dest is None:
        stdout = sys.stdout.buffer
        yield stdout
        stdout.flush()
        return
    target = Path(dest)
    if target.is_dir():
        target = target / name
    with atomic_output(target) as f:
        yield f


@verbs.get.command("file")
@click.argument("source", metavar="REPO@REF:/PATH")
@click.option(
    "-o",
    "--output",
    "dest",
    type=click.Path(),
    help="Write to this file (with -r: into this directory) instead of stdout.",
)
@click.option("-r", "--recursive", is_flag=True, help="Get a directory as a tree into -o DIR.")
@click.option("--tar", is_flag=True, help="Get a file or directory as a tar stream.")
@pass_client
def get_file(client: Client, source: str, dest: str | None, recursive: bool, tar: bool) -> None:
    """Read a file from a commit, to stdout by default."""
    name = posixpath.basename(split_path(source)[1] or "") or "out"
    if tar:
        with _output(dest, name + ".tar") as out:
            client.get_file_tar(source, None, out)
    elif recursive:
        if dest is None:
            raise click.UsageError("-r writes a tree: name the directory with -o DIR, or use --tar")
        if os.path.exists(dest) and not os.path.isdir(dest):
            raise click.BadParameter(f"{dest!r} is not a directory", param_hint="-o")
        with progress("download") as cb:
            client.get_file_to_dir(source, None, dest, progress=cb)
    else:
        chunks = client.iter_file(source)
        with progress("download") as cb, _output(dest, name) as out:
            for chunk in chunks:
                out.write(chunk)
                if cb is not None:
                    cb(len(chunk))


@verbs.list_.command("file")
@click.argument("source", metavar="REPO@REF[:/PATH]")
@output_options
@pass_client
def list_file(client: Client, source: str, out: Output) -> None:
    """List a directory, one level deep.

    The root by default; a path naming a file shows that file."""
    out.many(client.list_file(source), FILE_HEADERS, _file_row)


@verbs.glob.command("file")
@click.argument("pattern", metavar="REPO@REF:PATTERN")
@output_options
@pass_client
def glob_file(client: Client, pattern: str, out: Output) -> None:
    """List the files and directories matching a pattern.

    For example 'images@master:/*/*.png'; '**' crosses directories."""
    ref, glob = require_path(pattern, "pattern")
    out.many(client.glob_file(ref, glob), FILE_HEADERS, _file_row)


@verbs.inspect.command("file")
@click.argument("source", metavar="REPO@REF:/PATH")
@output_options
@pass_client
def inspect_file(client: Client, source: str, out: Output) -> None:
    """Show a file or directory: type, size and content hash."""

    def size(n: int) -> str:
        return human_size(n) + (f" ({n} bytes)" if n >= 1024 else "")

    out.one(
        client.inspect_file(source),
        lambda f: [
            ("Path", f.path),
            ("Type", str(f.type)),
            ("Size", size(f.size)),
            ("Hash", f.hash),
            ("Commit", f.commit or NONE),
        ],
    )


def _diff_row(d: DiffEntry) -> list[str]:
    def size(f: FileInfo | None) -> str:
        return NONE if f is None else human_size(f.size)

    return [str(d.change), d.path, size(d.old), size(d.new)]


@verbs.diff.command("file")
@click.argument("new", metavar="NEW_REF[:/PATH]")
@click.argument("old", metavar="[OLD_REF]", required=False)
@output_options
@pass_client
def diff_file(client: Client, new: str, old: str | None, out: Output) -> None:
    """List the files added, deleted and changed.

    Compares NEW_REF with OLD_REF (by default its parent commit), under PATH if given."""
    out.many(client.diff_file(new, old), ["CHANGE", "PATH", "OLD SIZE", "NEW SIZE"], _diff_row)
