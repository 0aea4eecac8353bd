"""Where a symlink in ``/pfs/out`` leads, and what the datum's output gets from it.

Pipelines often write their output as links to their inputs -- ``ln -s /pfs/images/a.png
/pfs/out/a.png`` -- to publish an input file under another name without copying it.
:class:`LinkResolver` decides what such a link stands for, trusting nothing user code
left behind (it has exited, but any path may be a symlink by now):

- **Following.** The link is followed one path component at a time, as the kernel would,
  but by this process: each symlink's text is mapped with
  :meth:`~loxo.execution.sandbox.Layout.to_host` (a sandboxed ``/pfs/...`` names the
  datum's scratch directory), ``..`` is taken from the directory reached so far (the
  physical parent), and at most ``MAX_SYMLINK_HOPS`` symlinks are followed. Only
  ``lstat`` and ``readlink`` are used, and only a symlink inside the datum's ``/pfs`` is
  followed: one met elsewhere (a host's) ends the resolution as "outside".
- **Where it ends** decides, by its exact physical path:

  - a regular file inside ``/pfs/out``: its content is uploaded under the link's name;
  - exactly where :func:`~loxo.execution.materialize.materialize` wrote one of this
    datum's :class:`~loxo.execution.task.InputFile`\\ s: the output entry is that file's
    size, hash and chunk refs -- stored **by reference**, not a byte read or uploaded. Its
    content is therefore the input's as committed, whatever user code did to the copy on
    disk (an ``empty_files`` input's file is empty);
  - a directory of this datum's inputs (an input's root, its matched directory, or a
    directory holding some of its files): every input file under it, under the link's
    name, by reference too -- as Pachyderm stores a link to a directory: its files;
  - anything else fails the attempt: a place outside ``/pfs/out`` and this datum's inputs
    (a host file, a directory of the host, another datum's or input's path), a dangling
    link, a loop, a directory of ``/pfs/out``, or a file user code added to an input.

Nothing outside ``/pfs/out`` is ever read: what comes from the inputs comes from their
refs, so no foreign byte can reach the output commit.
"""

from __future__ import annotations

import os
import stat
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from loxo.errors import LoxoError
from loxo.storage.fileset import FileEntry
from loxo.storage.hashing import EMPTY_HASH

from .materialize import local_path
from .sandbox import PFS, Layout
from .task import DatumInput, InputFile

MAX_SYMLINK_HOPS = 40


class OutputError(LoxoError):
    """The output directory holds something that cannot become a datum's output."""


class Resolved(NamedTuple):
    """What one symlink stands for: a file of ``/pfs/out`` to upload (``source``, ``size``)
    or entries of the inputs' files, by reference (``entries``, named as in the output)."""

    source: str = ""
    size: int = 0
    entries: Sequence[FileEntry] = ()


class LinkResolver:
    """Resolves the symlinks of one datum's ``/pfs/out`` (``real_pfs``: its ``/pfs`` on
    the host, resolved)."""

    def __init__(self, layout: Layout, real_pfs: str, inputs: Sequence[DatumInput]) -> None:
        self.layout, self.real_pfs, self.inputs = layout, real_pfs, inputs
        self.real_out = f"{real_pfs}/out"
        self._index: _InputIndex | None = None

    def resolve(self, name: str, path: str, shown: str) -> Resolved:
        """What the symlink at ``/pfs/out<name>`` (``shown`` as user code sees it) stands
        for, its output files named as under the PFS path ``path``."""
        end, st = self._follow(self.real_out + name, shown)
        if st is None:  # it ended with "..": a directory, or gone since
            try:
                st = os.lstat(end)
            except OSError:
                raise OutputError(f"symlink {shown} is dangling") from None
        mode = st.st_mode
        if end == self.real_out or _inside(end, self.real_out):
            if not stat.S_ISREG(mode):
                raise OutputError(
                    f"symlink {shown} must point to a regular file inside /pfs/out, or to a "
                    "file or directory of the datum's inputs"
                )
            return Resolved(end, st.st_size)
        index = self._inputs()
        if not index.holds(end):
            raise OutputError(
                f"symlink {shown} points outside /pfs/out and the datum's inputs "
                f"(to {self._view(end)}): copy what it needs instead"
            )
        if stat.S_ISREG(mode) and end in index.files:
            f = index.files[end]
            return Resolved(entries=(FileEntry(path, f.size, f.hash, f.refs),))
        if stat.S_ISDIR(mode) and end in index.dirs:
            return Resolved(entries=index.under(end, path))
        raise OutputError(
            f"symlink {shown} points to {self._view(end)}, which is not a file or directory "
            "of the datum's inputs (user code added or replaced it)"
        )

    def _follow(self, link: str, shown: str) -> tuple[str, os.stat_result | None]:
        """The physical path the symlink ``link`` leads to, and its ``lstat`` (None if
        the path ended with ``..``)."""
        current, hops = os.path.dirname(link), 0
        todo = deque([os.path.basename(link)])
        st: os.stat_result | None = None
        while todo:
            part = todo.popleft()
            if part in ("", "."):
                continue
            if part == "..":
                current, st = os.path.dirname(current), None
                continue
            path = f"{current.rstrip('/')}/{part}"
            try:
                st = os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                raise OutputError(f"symlink {shown} is dangling") from None
            except OSError as e:
                raise OutputError(f"symlink {shown} cannot be followed: {e.strerror}") from None
            if not stat.S_ISLNK(st.st_mode):
                current = path
                continue
            if not _inside(path, self.real_pfs):
                raise OutputError(
                    f"symlink {shown} points outside /pfs/out and the datum's inputs "
                    f"(through the host's symlink {path}): copy what it needs instead"
                )
            hops, st = hops + 1, None
            if hops > MAX_SYMLINK_HOPS:
                raise OutputError(f"symlink {shown} has too many levels of links")
            target = self._to_real(os.readlink(path))
            if _inside(target, self.real_pfs):  # resolved already: skip the host's part
                current, target = self.real_pfs, target[len(self.real_pfs) + 1 :]
            elif target.startswith("/"):
                current = "/"
            todo.extendleft(reversed(target.split("/")))
        return current, st

    def _to_real(self, text: str) -> str:
        """A symlink's text as user code meant it, with the datum's ``/pfs`` resolved."""
        target = self.layout.to_host(text)
        host = self.layout.host_pfs
        if target == host or target.startswith(host + "/"):
            return self.real_pfs + target[len(host) :]
        return target

    def _view(self, path: str) -> str:
        """A physical path as messages name it (``/pfs/...`` for the datum's)."""
        if path == self.real_pfs or _inside(path, self.real_pfs):
            return PFS + path[len(self.real_pfs) :]
        return path

    def _inputs(self) -> _InputIndex:
        if self._index is None:
            self._index = _InputIndex(self.real_pfs, self.inputs)
        return self._index


class _InputIndex:
    """Where this datum's input files and directories were materialised (physical
    paths), built when a link first leads out of ``/pfs/out``."""

    def __init__(self, real_pfs: str, inputs: Sequence[DatumInput]) -> None:
        pfs = Path(real_pfs)
        self.roots = {f"{real_pfs}/{i.name}" for i in inputs}
        self.files: dict[str, InputFile] = {}
        self.dirs: set[str] = set(self.roots)
        for inp in inputs:
            root = f"{real_pfs}/{inp.name}"
            for f in inp.files:  # as materialize writes them: a later one wins
                at = str(local_path(pfs, inp.name, f.path))
                self.files[at] = InputFile(f.path, 0, EMPTY_HASH, ()) if inp.empty_files else f
                parent = os.path.dirname(at)
                while parent != root and parent not in self.dirs:
                    self.dirs.add(parent)
                    parent = os.path.dirname(parent)
            matched = str(local_path(pfs, inp.name, inp.path))
            if matched not in self.files:
                self.dirs.add(matched)

    def holds(self, path: str) -> bool:
        """Whether ``path`` is one of the inputs' roots or below one."""
        return path in self.roots or any(_inside(path, root) for root in self.roots)

    def under(self, directory: str, name: str) -> list[FileEntry]:
        """The input files below ``directory``, named as below ``name``."""
        prefix = directory + "/"
        return sorted(
            FileEntry(name + at[len(directory) :], f.size, f.hash, f.refs)
            for at, f in self.files.items()
            if at.startswith(prefix)
        )


def _inside(path: str, directory: str) -> bool:
    return path.startswith(directory + "/")
