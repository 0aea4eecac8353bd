"""The environment and scratch space of one datum.

Variables, later ones winning: the worker's own environment, the job's (``PACH_JOB_ID``,
``PPS_PIPELINE_NAME``, ...), the datum's (``PACH_DATUM_ID``, ``<input name>``,
``<input name>_COMMIT``, ...), ``transform.env``, and ``LOXO_PFS`` (the ``/pfs`` root as the
user code sees it). Without a sandbox, ``/pfs`` paths in the pipeline's variables are
rewritten to the scratch directory. Scratch directories live under ``$LOXO_SCRATCH`` (or
the system temp directory) and are always removed, whatever the datum left in them: at
the end of the datum, or, for a local worker's set (:class:`ScratchSpace`), emptied
between its datums and removed at the end of the set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .sandbox import Layout
from .task import DatumTask, TaskSet


def pipeline_env(ts: TaskSet, task: DatumTask, layout: Layout) -> dict[str, str]:
    """The variables loxo defines for this datum (without the worker's own)."""
    env = {k: layout.rewrite(v) for k, v in (*ts.env, *task.env, *ts.transform.env)}
    env["LOXO_PFS"] = layout.view_pfs
    return env


def process_env(pipeline: dict[str, str], layout: Layout, extra: dict[str, str]) -> dict[str, str]:
    """The full environment of a command: worker env + ``extra`` + pipeline variables."""
    env = {**os.environ, **extra, **pipeline}
    tmpdir = env.get("TMPDIR", "")
    if layout.sandboxed and tmpdir.startswith("/tmp/"):
        env["TMPDIR"] = "/tmp"  # the sandbox has a private, empty /tmp
    return env


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A fresh directory for one datum, holding an empty ``pfs/out``; removed with
    everything in it on exit."""
    with ScratchSpace() as space, space.datum() as path:
        yield path


class ScratchSpace:
    """Scratch directories for datums that run one after another (a worker's set).

    Each datum gets a directory holding nothing but an empty ``pfs/out``. Between datums
    the directory is emptied back to that skeleton and reused, which saves creating and
    removing three directories per datum; if the datum left anything unusual (a changed
    mode or owner, a symlink, something that cannot be removed) the whole directory goes
    and the next datum gets a new one. ``close()`` removes it. Only for callers whose
    datums cannot outlive their turn (a command's process group is killed; a local
    worker's Python call ends or the worker is killed): an abandoned call could write
    into the next datum's directory.
    """

    def __init__(self) -> None:
        self._path: Path | None = None
        self._stats: tuple[tuple[int, int, int], ...] = ()

    def __enter__(self) -> ScratchSpace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def datum(self) -> Iterator[Path]:
        path, self._path = self._path, None
        if path is None:
            parent = os.environ.get("LOXO_SCRATCH") or None
            if parent:
                os.makedirs(parent, exist_ok=True)
            path = Path(tempfile.mkdtemp(prefix="loxo-datum-", dir=parent))
            (path / "pfs" / "out").mkdir(parents=True)
            self._stats = _skeleton_stats(path)
        try:
            yield path
        finally:
            if _reset_skeleton(path, self._stats):
                self._path = path
            else:
                remove_tree(path)

    def close(self) -> None:
        path, self._path = self._path, None
        if path is not None:
            remove_tree(path)


def _skeleton_stats(path: Path) -> tuple[tuple[int, int, int], ...]:
    stats = (os.lstat(p) for p in (path, path / "pfs", path / "pfs" / "out"))
    return tuple((st.st_mode, st.st_uid, st.st_gid) for st in stats)


def _reset_skeleton(path: Path, stats: tuple[tuple[int, int, int], ...]) -> bool:
    """Empty ``path`` but for its empty ``pfs/out``; False if it is no longer as made."""
    try:
        for directory, keep in ((path, "pfs"), (path / "pfs", "out"), (path / "pfs" / "out", "")):
            with os.scandir(directory) as it:
                entries = [e for e in it if e.name != keep]
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    remove_tree(Path(e.path))
                else:
                    os.unlink(e.path)
        return _skeleton_stats(path) == stats
    except OSError:
        return False


def remove_tree(path: Path) -> None:
    """``rm -rf``, also through directories user code made read-only."""

    def retry(func: Callable[..., Any], p: str, *_: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(p), stat.S_IRWXU)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, stat.S_IRWXU)
            func(p)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=retry)
    shutil.rmtree(path, ignore_errors=True)


def reset_dir(path: Path, owner: tuple[int, int] | None = None) -> None:
    """Make ``path`` an empty directory (owned by ``owner`` = (uid, gid) when given)."""
    if path.exists() or path.is_symlink():
        if path.is_dir() and not path.is_symlink():
            remove_tree(path)
        else:
            path.unlink()
    path.mkdir(parents=True)
    if owner is not None:
        os.chown(path, *owner)
