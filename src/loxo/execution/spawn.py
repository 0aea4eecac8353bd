"""Starting a command: ``posix_spawn`` where it can, ``Popen`` where it must.

A worker starts one command per datum, and small datums are many: ``posix_spawn`` costs
about half of ``Popen``'s time in the worker (no Python between fork and exec, no pipe
to report exec errors, no descriptor sweep). It serves commands that run in the worker's
directory as its user; ``Popen`` the rest (``working_dir``, ``transform.user``). Either
way the command starts in a new session with the given stdin, stdout and stderr, its
program is looked up on the ``PATH`` of its own environment (remembered per ``PATH``, as
a shell's hash table does), and ``SIGPIPE`` and ``SIGXFSZ`` are back to their defaults.
``posix_spawn`` closes only close-on-exec descriptors: a worker marks every descriptor it
inherited so (:mod:`~loxo.execution.worker`).
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping
from typing import Any

__all__ = ["Spawned", "spawn"]


def spawn(
    argv: list[str],
    env: Mapping[str, str],
    fds: tuple[int, int, int],
    cwd: str | None,
    options: dict[str, Any],
    *,
    new_session: bool = True,
) -> Spawned | subprocess.Popen[bytes]:
    """Start ``argv`` in a new session (``new_session=False``: a new process group of this
    session) with ``fds`` as its stdin (-1: ``/dev/null``), stdout and stderr.
    ``posix_spawn`` where it can (no other directory, no other user): it costs half of
    ``Popen``'s time in this process, and small datums are many."""
    if cwd is None and not options:
        stdin = fds[0] if fds[0] >= 0 else _devnull()
        actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate((stdin, *fds[1:]))]
        group = {"setsid": True} if new_session else {"setpgroup": 0}
        search = env.get("PATH", os.defpath)
        for fresh in (False, True):  # a remembered program that is gone: look again, once
            path = argv[0] if "/" in argv[0] else _which(argv[0], search, fresh=fresh)
            if path is None:  # as Popen says it
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), argv[0])
            try:
                pid = os.posix_spawn(
                    path,
                    argv,
                    env,
                    file_actions=actions,
                    **group,
                    setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),  # as Popen's restore_signals
                )
            except (FileNotFoundError, PermissionError):
                if fresh or "/" in argv[0]:
                    raise
                continue
            return Spawned(pid)
    return subprocess.Popen(
        argv,
        stdin=fds[0] if fds[0] >= 0 else subprocess.DEVNULL,
        stdout=fds[1],
        stderr=fds[2],
        env=dict(env),
        cwd=cwd,
        start_new_session=new_session,
        process_group=None if new_session else 0,
        **options,
    )


class Spawned:
    """A command started by ``posix_spawn``: the parts of ``Popen`` used here."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


_found: dict[tuple[str, str], str] = {}  # (command, PATH) -> its executable


def _which(name: str, path: str, *, fresh: bool = False) -> str | None:
    """Where ``name`` is on ``path``, remembered as a shell's hash table does (searching
    ``PATH`` costs more than starting a small command); ``fresh``: search again (the
    remembered program could not be started)."""
    key = (name, path)
    found = None if fresh else _found.get(key)
    if found is None:
        found = shutil.which(name, path=path)
        if found is None:
            _found.pop(key, None)
        else:
            _found[key] = found
    return found


@functools.cache
def _devnull() -> int:
    return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
