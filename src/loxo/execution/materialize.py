"""Materialise a datum's inputs: ``<scratch>/pfs/<input name>/<original path>``.

Every :class:`~loxo.execution.task.InputFile` is written from its chunk refs through a
:class:`~loxo.storage.blobs.BlobReader`, which verifies each chunk's hash, so user code
never sees wrong bytes. ``empty_files`` inputs get empty files of the same names;
``lazy`` inputs are written like the others. The matched path itself always exists (a
directory datum whose directory holds no file still gets the directory). Input names and
paths are checked, so no task can write outside the scratch directory.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path

from loxo.errors import InvalidArgumentError
from loxo.pfs.paths import normalize_path
from loxo.storage.blobs import BlobReader
from loxo.storage.objectstore import ObjectStore

from .task import DatumInput

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def input_dir(pfs: Path, name: str) -> Path:
    """``<pfs>/<name>``, refusing names that are not one plain path component."""
    return _input_path(pfs, name)


def local_path(pfs: Path, name: str, path: str) -> Path:
    """Where the input file or directory ``path`` of input ``name`` appears."""
    canonical = normalize_path(path)
    root = _input_path(pfs, name)
    return root if canonical == "/" else root / canonical[1:]


@functools.lru_cache(maxsize=256)
def _input_path(pfs: Path, name: str) -> Path:
    """(Remembered: a warm worker's ``pfs`` is the same for every datum, and building a
    ``Path`` from a string costs more than joining one part to it.)"""
    _input_dir("", name)  # the name's check
    return pfs / name


def _input_dir(pfs: str, name: str) -> str:
    if not name or name in (".", "..", "out") or "/" in name or "\0" in name:
        raise InvalidArgumentError(f"invalid input name {name!r} in a datum task")
    return f"{pfs}/{name}"


def _local_path(pfs: str, name: str, path: str) -> str:
    canonical = normalize_path(path)
    root = _input_dir(pfs, name)
    return root if canonical == "/" else root + canonical


def materialize(
    store: ObjectStore,
    inputs: Iterable[DatumInput],
    pfs: Path | str,
    *,
    made: Iterable[str] = (),
) -> int:
    """Write every input file under ``pfs``; return the number of content bytes read.
    ``made`` names directories known to exist (a workspace's input directories). (Plain
    strings and descriptors, not ``Path`` nor file objects: this runs for every datum, and
    most datums are small.)"""
    reader = BlobReader(store)
    total = 0
    root = str(pfs)
    known = set(made)  # directories known to exist, and the files written
    for inp in inputs:
        for f in inp.files:
            dest = _local_path(root, inp.name, f.path)
            parent = dest.rpartition("/")[0]
            if parent not in known:
                os.makedirs(parent, exist_ok=True)
                known.add(parent)
            fd = os.open(dest, _CREATE, 0o666)
            try:
                if not inp.empty_files:
                    for chunk in reader.iter_chunks(f.refs):
                        view = memoryview(chunk)
                        while view:
                            view = view[os.write(fd, view) :]
                        total += len(chunk)
            finally:
                os.close(fd)
            known.add(dest)
        matched = _local_path(root, inp.name, inp.path)
        if matched not in known and not os.path.lexists(matched):
            os.makedirs(matched, exist_ok=True)
    return total
