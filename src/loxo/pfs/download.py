"""Writing files read from a commit onto the local filesystem, all or nothing.

A downloaded file never appears half-written: its bytes go to a temporary file in its target
directory (``.NAME.XXXXXXXX``, hidden, same filesystem), which is renamed onto the target only
once every chunk has been read and verified. A failure part-way (a corrupt chunk, a broken
stream, a full disk) removes the temporary file and leaves the target as it was, absent or
with its previous content. Files of a tree completed before the failure stay: each of them
is whole.

OS errors become :class:`~loxo.errors.StorageError` naming the target; every other error
(a :class:`~loxo.errors.CorruptObject`, a broken server stream) passes through unchanged.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from loxo.errors import StorageError

Progress = Callable[[int], None]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# a finished file gets the mode open() would give it (mkstemp's temporary file is 0600)
FILE_MODE = 0o666 & ~_umask()


def _cannot_write(target: Path, err: OSError) -> StorageError:
    return StorageError(f"cannot write {str(target)!r}: {err.strerror or err}")


@contextmanager
def atomic_output(target: Path, *, parents: bool = False) -> Iterator[BinaryIO]:
    """A file object whose bytes appear at ``target`` when the block ends without error, and
    nowhere if it raises; ``parents`` creates the missing directories above ``target``."""
    try:
        if parents:
            target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as err:
        raise _cannot_write(target, err) from err
    done = False
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            os.fchmod(f.fileno(), FILE_MODE)
        os.replace(tmp, target)
        done = True
    except OSError as err:
        raise _cannot_write(target, err) from err
    finally:
        if not done:
            with suppress(OSError):
                os.unlink(tmp)


def write_file(target: Path, chunks: Iterable[bytes], progress: Progress | None = None) -> int:
    """Write ``chunks`` to ``target`` all or nothing (see :func:`atomic_output`), creating
    its missing directories; the bytes written."""
    n = 0
    with atomic_output(target, parents=True) as f:
        for chunk in chunks:
            f.write(chunk)
            n += len(chunk)
            if progress is not None:
                progress(len(chunk))
    return n
