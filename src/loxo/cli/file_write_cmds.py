"""``put|copy|delete file``: writes to a branch, each one commit (or into its open commit).

``put file`` picks exactly one write of a :class:`~loxo.pfs.files_write.ModifyFile` session
from its options: stdin (no ``-f`` or ``-f -``), a local file, a local tree (``-r``), a tar
stream (``--untar``) or a URL (``file://``, ``http(s)://``).
"""

from __future__ import annotations

import os
import posixpath
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

import click

from loxo.client import Client
from loxo.errors import InvalidArgumentError
from loxo.pfs.files_write import ModifyFile

from . import verbs
from .context import drives, message_option, pass_client
from .progress import progress
from .refs import require_path, split_path

Write = Callable[[ModifyFile], object]  # one call on the session
Total = Callable[[], int | None]  # the bytes to upload, for a progress bar


@verbs.put.command("file")
@click.argument("target", metavar="REPO@BRANCH[:/PATH]")
@click.option(
    "-f",
    "--file",
    "source",
    default="-",
    metavar="FILE|URL|-",
    help="What to upload: a local file or directory, a file:// or http(s):// URL, "
    "or '-' for stdin (the default).",
)
@click.option(
    "-r", "--recursive", is_flag=True, help="Upload the directory -f DIR as a tree under PATH."
)
@click.option("-a", "--append", is_flag=True, help="Append to the file instead of replacing it.")
@click.option("--untar", is_flag=True, help="Expand the tar stream (or tar file) under PATH.")
@message_option("A description of the commit this write makes.")
@drives
@pass_client
def put_file(
    client: Client,
    target: str,
    source: str,
    recursive: bool,
    append: bool,
    untar: bool,
    description: str | None,
) -> None:
    """Write a file, a tree (-r) or a tar's contents (--untar).

    Writes into REPO@BRANCH at PATH, as a new commit or into the branch's open commit. PATH
    defaults to '/' for trees and tars, and to '/<name of the source>' for a file; a
    PATH ending in '/' receives the file under its own name."""
    if untar and (recursive or append):
        raise click.UsageError("--untar cannot be combined with -r or --append")
    ref, path = split_path(target)
    total: Total | None = None
    if source == "-":
        write = _from_stdin(path, untar, recursive, append)
    elif "://" in source:
        write = _from_url(source, path, untar, recursive, append)
    else:
        write, total = _from_local(Path(source), path, untar, recursive, append)
    with (
        progress("upload", total) as cb,
        client.modify_file(ref, description=description or "", progress=cb) as mf,
    ):
        write(mf)


def _file_path(path: str | None, name: str) -> str:
    """Where a single file goes: PATH, PATH/<name> for a PATH ending in '/', or /<name>."""
    if path is None or path.endswith("/"):
        if not name:
            raise click.UsageError("name the destination: REPO@BRANCH:/PATH")
        return (path or "/") + name
    return path


def _from_stdin(path: str | None, untar: bool, recursive: bool, append: bool) -> Write:
    if recursive:
        raise click.UsageError("-r uploads a directory: name it with -f DIR")
    stdin: BinaryIO = sys.stdin.buffer
    if untar:
        return lambda mf: mf.put_tar(path or "/", stdin)
    if path is None:
        raise click.UsageError("reading stdin: name the destination, REPO@BRANCH:/PATH")
    return lambda mf: mf.put_file(path, stdin, append=append)


def _from_url(url: str, path: str | None, untar: bool, recursive: bool, append: bool) -> Write:
    dest = (path or "/") if untar or recursive else _file_path(path, _url_name(url))
    return lambda mf: mf.put_url(dest, url, untar=untar, append=append)


def _url_name(url: str) -> str:
    try:
        return posixpath.basename(urlparse(url).path.rstrip("/"))
    except ValueError as err:  # "Invalid IPv6 URL"
        raise InvalidArgumentError(f"invalid URL {url!r}: {err}") from err


def _from_local(
    local: Path, path: str | None, untar: bool, recursive: bool, append: bool
) -> tuple[Write, Total]:
    if untar:
        return lambda mf: _put_tar_file(mf, path or "/", local), lambda: _size(local)
    if recursive and local.is_dir():
        return lambda mf: mf.put_dir(path or "/", local, append=append), lambda: _tree_size(local)
    dest = _file_path(path, local.name)
    return lambda mf: mf.put_file_path(dest, local, append=append), lambda: _size(local)


def _put_tar_file(mf: ModifyFile, dest: str, local: Path) -> int:
    # put_url opens the file and turns OS errors into loxo errors; it takes the path as is
    return mf.put_url(dest, "file://" + str(local.absolute()), untar=True)


def _size(local: Path) -> int | None:
    try:
        return local.stat().st_size
    except OSError:
        return None


def _tree_size(root: Path) -> int:
    return sum(_size(Path(d) / f) or 0 for d, _, files in os.walk(root) for f in files)


@verbs.copy.command("file")
@click.argument("source", metavar="SRC_REPO@REF:/PATH")
@click.argument("target", metavar="DST_REPO@BRANCH:/PATH")
@drives
@pass_client
def copy_file(client: Client, source: str, target: str) -> None:
    """Copy a file or a directory, by reference.

    No bytes move: the copy shares the stored content of the source."""
    ref, path = require_path(target, "path")
    client.copy_file(source, ref, path)


@verbs.delete.command("file")
@click.argument("target", metavar="REPO@BRANCH:/PATH")
@drives
@pass_client
def delete_file(client: Client, target: str) -> None:
    """Delete a file, or a directory with everything under it."""
    ref, path = require_path(target, "path")
    client.delete_file(ref, path)
