"""Run one attempt of a command: own process group, captured output, timeout, kill switch.

The command starts in a new session (so in its own process group, out of reach of the
terminal's Ctrl-C), optionally as another user. (If the worker itself dies, its executor
kills the group; under the sandbox bwrap's ``--die-with-parent`` does too.) Given a
worker's long-lived sandbox (``session``), the command is started by its agent instead, and
killing it means killing every process of that sandbox. Its stdout and
stderr are read line by line into the datum's :class:`~loxo.execution.logs.LogCollector`
while stdin is fed; a timeout, or a kill through the
:class:`~loxo.execution.control.DatumControl`, kills the whole process group. When the
command itself exits, whatever it left running in its group is killed too: a datum's
processes never outlive the datum.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import select
import signal
import stat
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any, Protocol

from .control import DatumControl, kill_group
from .logs import LogCollector
from .sandbox_session import SandboxSession

POLL_SECONDS = 0.05  # exit polling where pidfds are missing
DRAIN_SECONDS = 1.0  # how long to wait for pipes held open by escaped processes


@dataclass(frozen=True)
class CommandOutcome:
    ok: bool
    error: str  # "" when ok, else "exit code 3", "timed out after 2s", "killed by signal SIGTERM"
    seconds: float


class CommandError(Exception):
    """The command could not be started as asked (bad user, missing executable)."""


def user_options(user: str) -> dict[str, Any]:
    """Popen options that run the command as ``user`` (name or uid)."""
    if not user:
        return {}
    try:
        pw = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except KeyError:
        raise CommandError(f"transform.user {user!r} does not exist on this worker") from None
    if pw.pw_uid == os.geteuid():
        return {}
    if os.geteuid() != 0:
        raise CommandError(
            f"transform.user {user!r} needs the worker to run as root; "
            f"it runs as uid {os.geteuid()}"
        )
    return {
        "user": pw.pw_uid,
        "group": pw.pw_gid,
        "extra_groups": os.getgrouplist(pw.pw_name, pw.pw_gid),
    }


def check_reachable(path: str, user: str) -> None:
    """Fail unless ``user`` may traverse every directory down to ``path``."""
    options = user_options(user)
    if not options:
        return
    uid, groups = options["user"], {options["group"], *options["extra_groups"]}
    current = os.path.abspath(path)
    while True:
        st = os.stat(current)
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            raise CommandError(
                f"transform.user {user!r} cannot reach the datum's scratch directory "
                f"({current} is closed to it); set LOXO_SCRATCH to a directory that "
                "user can traverse"
            )
        parent = os.path.dirname(current)
        if parent == current:
            return
        current = parent


def user_env(user: str) -> dict[str, str]:
    """HOME, USER and LOGNAME of ``user`` (empty when no user switch happens)."""
    if not user or not user_options(user):
        return {}
    pw = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    return {"HOME": pw.pw_dir, "USER": pw.pw_name, "LOGNAME": pw.pw_name}


class _Process(Protocol):
    """What :func:`run_command` needs of a started command."""

    stdin: IO[bytes] | None
    stdout: IO[bytes] | None
    stderr: IO[bytes] | None
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self) -> int: ...


def run_command(
    argv: list[str],
    *,
    stdin: bytes | None,
    env: Mapping[str, str],
    cwd: str | None,
    user: str,
    timeout: float | None,
    accept: tuple[int, ...] = (),
    logs: LogCollector,
    control: DatumControl,
    session: SandboxSession | None = None,
) -> CommandOutcome:
    """Run one attempt of ``argv``; with ``session``, in that sandbox (``cwd`` as it sees
    it, ``user`` must be empty)."""
    start = time.monotonic()
    proc: _Process
    exit_fd: int | None
    if session is not None:
        try:
            agent = session.start(argv, env, cwd or "/", stdin=stdin is not None)
        except OSError as e:
            raise CommandError(f"cannot run {argv[0]!r}: {e.strerror or e}") from e
        proc, exit_fd, kill = agent, agent.exit_fd(), agent.kill
        control.process_started(None, kill)
    else:
        if cwd is not None and not os.path.isdir(cwd):
            raise CommandError(f"working directory {cwd!r} does not exist")
        try:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
                **user_options(user),
            )
        except OSError as e:
            raise CommandError(f"cannot run {argv[0]!r}: {e.strerror or e}") from e
        proc, exit_fd, kill = popen, _pidfd(popen.pid), functools.partial(kill_group, popen.pid)
        control.process_started(popen.pid)
    timed_out = False
    try:
        deadline = None if timeout is None else start + timeout
        timed_out = _pump(proc, exit_fd, stdin, logs, deadline)
    finally:
        # leader exited (or timed out): nothing of the group may outlive it (the agent
        # kills everything before it reports an exit)
        if session is None or proc.poll() is None:
            kill()
        if session is None and exit_fd is not None:
            os.close(exit_fd)
        _drain(proc, logs)
        control.process_finished()
        proc.wait()
    seconds = time.monotonic() - start
    if session is not None and agent.start_error:
        raise CommandError(f"cannot run {argv[0]!r}: {agent.start_error}")
    reason = control.take_reason()
    if reason:
        return CommandOutcome(False, reason, seconds)
    if timed_out:
        return CommandOutcome(False, f"timed out after {timeout:g}s", seconds)
    code = proc.wait()
    if code == 0 or code in accept:
        return CommandOutcome(True, "", seconds)
    return CommandOutcome(False, describe_exit(code), seconds)


def describe_exit(code: int) -> str:
    if code == 0:
        return ""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by signal {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _pump(
    proc: _Process,
    exit_fd: int | None,
    stdin: bytes | None,
    logs: LogCollector,
    deadline: float | None,
) -> bool:
    """Move bytes until the leader exits (``exit_fd`` readable, else polled); True if
    ``deadline`` passed first. (``select.poll``, not ``selectors``: this runs once per
    datum, and small datums are many.)"""
    assert proc.stdout is not None and proc.stderr is not None
    poller = select.poll()
    names = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}
    for fd in names:
        poller.register(fd, select.POLLIN)
    pending = memoryview(stdin or b"")
    in_fd = -1
    if proc.stdin is not None:
        in_fd = proc.stdin.fileno()
        os.set_blocking(in_fd, False)
        poller.register(in_fd, select.POLLOUT)
    if exit_fd is not None:
        poller.register(exit_fd, select.POLLIN)
    try:
        while True:
            wait = None if exit_fd is not None else POLL_SECONDS
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return True
                wait = left if wait is None else min(wait, left)
            for fd, _ in poller.poll(None if wait is None else wait * 1000):
                if fd == exit_fd:
                    return False
                if fd == in_fd:
                    pending = _feed(proc, pending)
                    if not pending:
                        poller.unregister(in_fd)
                elif not _read_into(fd, names[fd], logs):
                    poller.unregister(fd)
            if exit_fd is None and proc.poll() is not None:
                return False
    finally:
        if proc.stdin is not None and not proc.stdin.closed:
            with contextlib.suppress(OSError):
                proc.stdin.close()


def _read_into(fd: int, stream: str, logs: LogCollector) -> bool:
    """Read what ``fd`` has into ``logs``; False at end of file."""
    data = os.read(fd, 65536)
    if data:
        logs.feed(stream, data)
        return True
    return False


def _feed(proc: _Process, pending: memoryview) -> memoryview:
    """Write more of ``pending`` to the command's stdin; closes it when all is written
    (or the command stopped reading)."""
    assert proc.stdin is not None
    try:
        if pending:
            pending = pending[os.write(proc.stdin.fileno(), pending[:65536]) :]
    except BlockingIOError:
        return pending
    except BrokenPipeError:
        pending = pending[len(pending) :]
    if not pending:
        proc.stdin.close()
    return pending


def _drain(proc: _Process, logs: LogCollector) -> None:
    """Read what the group left in the pipes, up to EOF or ``DRAIN_SECONDS``."""
    streams = {"stdout": proc.stdout, "stderr": proc.stderr}
    poller = select.poll()
    names = {f.fileno(): name for name, f in streams.items() if f is not None}
    for fd in names:
        poller.register(fd, select.POLLIN)
    end = time.monotonic() + DRAIN_SECONDS
    try:
        while names and (left := end - time.monotonic()) > 0:
            for fd, _ in poller.poll(left * 1000):
                if not _read_into(fd, names[fd], logs):
                    poller.unregister(fd)
                    del names[fd]
    finally:
        for name, f in streams.items():
            logs.close_stream(name)
            if f is not None:
                f.close()


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None
