"""The environment and scratch space of one datum.

Variables, later ones winning: the worker's own environment, the job's (``PACH_JOB_ID``,
``PPS_PIPELINE_NAME``, ...), the datum's (``PACH_DATUM_ID``, ``<input name>``,
``<input name>_COMMIT``, ...), ``transform.env``, and ``LOXO_PFS`` (the ``/pfs`` root as the
user code sees it). Without a sandbox, ``/pfs`` paths in the pipeline's variables are
rewritten to the scratch directory. Scratch directories live under ``$LOXO_SCRATCH`` (or
the system temp directory) and are always removed, whatever the datum left in them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .sandbox import Layout
from .task import DatumTask, TaskSet


def pipeline_env(ts: TaskSet, task: DatumTask, layout: Layout) -> dict[str, str]:
    """The variables loxo defines for this datum (without the worker's own)."""
    env = {k: layout.rewrite(v) for k, v in (*ts.env, *task.env, *ts.transform.env)}
    env["LOXO_PFS"] = layout.view_pfs
    return env


def process_env(
    pipeline: dict[str, str],
    layout: Layout,
    extra: dict[str, str],
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The full environment of a command: worker env (``environ``, by default
    ``os.environ``) + ``extra`` + pipeline variables."""
    env = {**(os.environ if environ is None else environ), **extra, **pipeline}
    tmpdir = env.get("TMPDIR", "")
    if layout.sandboxed and tmpdir.startswith("/tmp/"):
        env["TMPDIR"] = "/tmp"  # the sandbox has a private, empty /tmp
    return env


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A fresh directory for one datum, removed with everything in it on exit."""
    parent = os.environ.get("LOXO_SCRATCH") or None
    if parent:
        os.makedirs(parent, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="loxo-datum-", dir=parent))
    try:
        yield path
    finally:
        remove_tree(path)


def remove_tree(path: Path) -> None:
    """``rm -rf``, also through directories user code made read-only (inside ``path``:
    the directory holding ``path`` is never touched, and a missing ``path`` is no error)."""
    top = os.fspath(path)

    def retry(func: Callable[..., Any], p: str, *_: object) -> None:
        with contextlib.suppress(OSError):
            if os.fspath(p) != top:
                os.chmod(os.path.dirname(p), stat.S_IRWXU)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, stat.S_IRWXU)
            func(p)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=retry)
    shutil.rmtree(path, ignore_errors=True)


def empty_dir(path: str, owner: tuple[int, int] | None = None) -> None:
    """Make the directory ``path`` empty, in place (the same inode: a sandbox may have it
    mounted), owned by ``owner`` = (uid, gid) when given, with a plain ``mkdir``'s mode;
    anything but a directory there is replaced by a new one."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        os.mkdir(path)
    else:
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(path, 0o777 & ~umask)  # user code may have closed it
        with os.scandir(path) as it:
            entries = [(e.path, e.is_dir(follow_symlinks=False)) for e in it]
        for inner, is_dir in entries:
            if is_dir:
                remove_tree(Path(inner))
            else:
                os.unlink(inner)
    if owner is not None:
        os.chown(path, *owner)
