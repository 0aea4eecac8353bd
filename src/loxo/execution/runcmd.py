"""Run one attempt of a command: own process group, captured output, timeout, kill switch.

The command starts in a new session (so in its own process group, out of reach of the
terminal's Ctrl-C; in a worker inside its own sandbox, which has no terminal, in a new
process group of the worker's session), optionally as another user. (If the worker
itself dies, its executor kills the group; under the sandbox bwrap's
``--die-with-parent`` does too.) Given a
worker's long-lived sandbox (``session``), the command is started by its agent instead, and
killing it means killing every process of that sandbox. A worker that runs inside a
sandbox of its own (``contained``) starts the command itself and, once it has ended,
kills every other process of the sandbox (nothing else of its own runs there). Its stdout and
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
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .control import DatumControl, kill_group
from .logs import LogCollector
from .sandbox_agent import end_rest
from .sandbox_session import SandboxSession
from .spawn import spawn

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
    closed = _closed_on_the_way(path, user)
    if closed:
        raise CommandError(
            f"transform.user {user!r} cannot reach the datum's scratch directory "
            f"({closed} is closed to it); set LOXO_SCRATCH to a directory that "
            "user can traverse"
        )


def reachable(path: str, user: str) -> bool:
    """Whether ``user`` may traverse every directory down to ``path`` (which exists)."""
    try:
        return not _closed_on_the_way(path, user)
    except OSError:
        return False


def _closed_on_the_way(path: str, user: str) -> str:
    """The first directory on the way to ``path`` that ``user`` may not traverse ("": none)."""
    options = user_options(user)
    if not options:
        return ""
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
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return ""
        current = parent


def user_env(user: str) -> dict[str, str]:
    """HOME, USER and LOGNAME of ``user`` (empty when no user switch happens)."""
    if not user or not user_options(user):
        return {}
    pw = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    return {"HOME": pw.pw_dir, "USER": pw.pw_name, "LOGNAME": pw.pw_name}


class _Process(Protocol):
    """What :func:`run_command` needs of a started command (``Popen`` or the agent's)."""

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
    contained: bool = False,
) -> CommandOutcome:
    """Run one attempt of ``argv``; with ``session``, in that sandbox (``cwd`` as it sees
    it, ``user`` must be empty); ``contained``: this process is inside its own sandbox,
    where every process but itself belongs to the command."""
    start = time.monotonic()
    if session is None and cwd is not None and not os.path.isdir(cwd):
        raise CommandError(f"working directory {cwd!r} does not exist")
    options = user_options(user) if session is None else {}
    pipes = _Pipes(stdin, logs)
    proc: _Process
    exit_fd: int | None
    try:
        if session is not None:
            agent = session.start(argv, env, cwd or "/", pipes.child)
            proc, exit_fd, kill = agent, session.exit_fd(), agent.kill
            control.process_started(None, kill)
        else:
            # a worker in its own sandbox is a session without a terminal already: a new
            # process group is enough there (and cheaper: a session is also a scheduler
            # autogroup, made and freed per command)
            started = spawn(argv, env, pipes.child, cwd, options, new_session=not contained)
            proc, exit_fd = started, _pidfd(started.pid)
            kill = functools.partial(kill_group, started.pid)
            if contained:  # its group ID means nothing outside the sandbox: not reported
                control.process_started(None, kill)
            else:
                control.process_started(started.pid)
    except BaseException as e:
        pipes.close()
        if isinstance(e, OSError):
            raise CommandError(f"cannot run {argv[0]!r}: {e.strerror or e}") from e
        raise
    pipes.close_child()
    exited = False
    try:
        deadline = None if timeout is None else start + timeout
        exited = pipes.pump(proc, exit_fd, deadline)
    finally:
        # leader exited (or timed out): nothing of the group may outlive it (the agent
        # kills everything before it reports an exit, which ``exited`` says is waiting; in
        # a worker's own sandbox, everything dies once the leader is reaped)
        group_left = session is None and not (contained and exited)
        if group_left or not (exited or proc.poll() is not None):
            kill()
        if session is None and exit_fd is not None:
            os.close(exit_fd)
        if contained:  # the leader reaped, whatever else it left (in any group) dies
            control.process_finished()
            proc.wait()
            end_rest()
        # the agent answers once every process of the sandbox is dead, and closes its
        # copies of the pipes only after that: then they hold all there is, at once
        pipes.drain(wait=not (session is not None and exited and agent.answered()))
        control.process_finished()
        proc.wait()
    seconds = time.monotonic() - start
    if session is not None and agent.start_error:
        raise CommandError(f"cannot run {argv[0]!r}: {agent.start_error}")
    reason = control.take_reason()
    if reason:
        return CommandOutcome(False, reason, seconds)
    if not exited:
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


class _Pipes:
    """The command's stdin, stdout and stderr: our ends (plain descriptors, no file
    objects) and the child's, which :meth:`close_child` closes once it has them."""

    def __init__(self, stdin: bytes | None, logs: LogCollector) -> None:
        self.logs = logs
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        in_r, self.in_w = os.pipe() if stdin is not None else (-1, -1)
        self.child = (in_r, out_w, err_w)  # stdin -1: none (/dev/null)
        self.names = {out_r: "stdout", err_r: "stderr"}  # ours, open until end of file
        self.pending = memoryview(stdin or b"")

    def close_child(self) -> None:
        for fd in self.child:
            if fd >= 0:
                os.close(fd)
        self.child = (-1, -1, -1)

    def close(self) -> None:
        """Close every descriptor still open (recording unterminated last lines)."""
        self.close_child()
        self._close_stdin()
        for fd, name in self.names.items():
            os.close(fd)
            self.logs.close_stream(name)
        self.names = {}

    def pump(self, proc: _Process, exit_fd: int | None, deadline: float | None) -> bool:
        """Move bytes until the leader exits (``exit_fd`` readable, else polled): True;
        False if ``deadline`` passed first. (``select.poll``, not ``selectors``: this runs
        once per datum, and small datums are many.)"""
        poller = select.poll()
        for fd in self.names:
            poller.register(fd, select.POLLIN)
        if self.in_w >= 0:
            os.set_blocking(self.in_w, False)
            poller.register(self.in_w, select.POLLOUT)
        if exit_fd is not None:
            poller.register(exit_fd, select.POLLIN)
        try:
            while True:
                wait = None if exit_fd is not None else POLL_SECONDS
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    wait = left if wait is None else min(wait, left)
                exited = False
                for fd, _ in poller.poll(None if wait is None else wait * 1000):
                    if fd == exit_fd:
                        exited = True
                    elif fd == self.in_w:
                        if not self._feed():
                            poller.unregister(fd)
                    elif not self._read(fd):
                        poller.unregister(fd)
                if exited or (exit_fd is None and proc.poll() is not None):
                    return True
        finally:
            self._close_stdin()

    def drain(self, *, wait: bool = True) -> None:
        """Read what the group left in the pipes, up to end of file or ``DRAIN_SECONDS``
        (without ``wait``: only what they hold now); then close them."""
        try:
            poller = select.poll()
            for fd in self.names:
                poller.register(fd, select.POLLIN)
            end = time.monotonic() + (DRAIN_SECONDS if wait else 0.0)
            while self.names:
                left = max(0.0, end - time.monotonic())
                ready = poller.poll(left * 1000)
                if not ready and (not wait or left == 0.0):
                    return
                for fd, _ in ready:
                    if not self._read(fd):
                        poller.unregister(fd)
        finally:
            self.close()

    def _read(self, fd: int) -> bool:
        """Read what ``fd`` has into the logs; False (and closed) at end of file."""
        data = os.read(fd, 65536)
        name = self.names[fd]
        if data:
            self.logs.feed(name, data)
            return True
        os.close(fd)
        del self.names[fd]
        self.logs.close_stream(name)
        return False

    def _feed(self) -> bool:
        """Write more of the pending stdin; False (and closed) once all is written or the
        command stopped reading."""
        try:
            if self.pending:
                self.pending = self.pending[os.write(self.in_w, self.pending[:65536]) :]
        except BlockingIOError:
            return True
        except BrokenPipeError:
            self.pending = self.pending[len(self.pending) :]
        if self.pending:
            return True
        self._close_stdin()
        return False

    def _close_stdin(self) -> None:
        if self.in_w >= 0:
            os.close(self.in_w)
            self.in_w = -1


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None
