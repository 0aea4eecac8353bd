"""Materialise a datum's inputs: ``<scratch>/pfs/<input name>/<original path>``.

Every :class:`~loxo.execution.task.InputFile` is written from its chunk refs through a
:class:`~loxo.storage.blobs.BlobReader`, which verifies each chunk's hash, so user code
never sees wrong bytes. ``empty_files`` inputs get empty files of the same names;
``lazy`` inputs are written like the others. The matched path itself always exists (a
directory datum whose directory holds no file still gets the directory). Input names and
paths are checked, so no task can write outside the scratch directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from loxo.errors import InvalidArgumentError
from loxo.pfs.paths import normalize_path
from loxo.storage.blobs import BlobReader
from loxo.storage.objectstore import ObjectStore

from .task import DatumInput


def input_dir(pfs: Path, name: str) -> Path:
    """``<pfs>/<name>``, refusing names that are not one plain path component."""
    if not name or name in (".", "..", "out") or "/" in name or "\0" in name:
        raise InvalidArgumentError(f"invalid input name {name!r} in a datum task")
    return pfs / name


def local_path(pfs: Path, name: str, path: str) -> Path:
    """Where the input file or directory ``path`` of input ``name`` appears."""
    canonical = normalize_path(path)
    root = input_dir(pfs, name)
    return root if canonical == "/" else root / canonical[1:]


def materialize(store: ObjectStore, inputs: Iterable[DatumInput], pfs: Path) -> int:
    """Write every input file under ``pfs``; return the number of content bytes read."""
    reader = BlobReader(store)
    total = 0
    for inp in inputs:
        for f in inp.files:
            dest = local_path(pfs, inp.name, f.path)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "wb") as out:
                if not inp.empty_files:
                    for chunk in reader.iter_chunks(f.refs):
                        out.write(chunk)
                        total += len(chunk)
        matched = local_path(pfs, inp.name, inp.path)
        if not os.path.lexists(matched):
            matched.mkdir(parents=True, exist_ok=True)
    return total
