"""The exec agent inside a worker's long-lived sandbox (standard library only).

Run by :mod:`~loxo.execution.sandbox_session` as ``python -I -S sandbox_agent.py FD`` under
bubblewrap, as the only child of the sandbox's PID-namespace init. ``FD`` is a
``SOCK_SEQPACKET`` socket to the worker. One command at a time:

- the worker sends ``{"argv", "env", "unset", "cwd"}`` (JSON) with the command's stdin,
  stdout and stderr as ``SCM_RIGHTS`` file descriptors; the agent starts it in a new
  process group (not a new session: the sandbox is a session without a terminal already,
  and a session is also a scheduler autogroup, which the kernel would make and free per
  command), or answers ``{"error": text}`` at once if it could not start (no answer on
  success: one message each way per command). The command's environment is the previous
  command's (empty before the first) with the variables of ``env`` set and those named in
  ``unset`` removed: most of it is the same for every datum, and is sent once;
- ``{"kill": true}`` at any time kills the running command's processes;
- when the command's leader exits, the agent SIGKILLs **every other process of the
  sandbox** (``kill(-1)``: all but the namespace init and the agent itself) and waits until
  none is left, then answers ``{"exit": code}`` (negative: killed by that signal). So no
  process of a datum, in whatever group or session, outlives it to see the next datum's
  ``/pfs``. The agent closes its copies of the command's descriptors only after it has
  answered: once the worker has the answer, the pipes hold all the command wrote;
- end of file on the socket (the worker closed it or died): kill everything and exit.

The agent makes itself undumpable (``PR_SET_DUMPABLE`` 0) so user code running as the same
user cannot ptrace it. Messages from the agent are JSON (never pickle): the worker does not
trust what comes out of the sandbox.
"""

from __future__ import annotations

import array
import json
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

MAX_MESSAGE = 1 << 20
_FDS_SPACE = socket.CMSG_SPACE(3 * array.array("i").itemsize)


def undumpable() -> None:
    """``PR_SET_DUMPABLE`` 0: processes of the same user cannot ptrace this one nor open
    its ``/proc`` entries (its descriptors, memory); kept across ``fork``."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError, ImportError):
        pass


class _Channel:
    """The socket to the worker, read into one buffer (no allocation per message)."""

    def __init__(self, fd: int) -> None:
        self.sock = socket.socket(fileno=fd)
        self._buf = bytearray(MAX_MESSAGE)

    def recv(self) -> tuple[dict[str, Any] | None, list[int]]:
        fds = array.array("i")
        n, ancdata, _, _ = self.sock.recvmsg_into([self._buf], _FDS_SPACE, socket.MSG_CMSG_CLOEXEC)
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        if not n:
            return None, list(fds)
        return json.loads(self._buf[:n]), list(fds)

    def send(self, msg: dict[str, Any]) -> None:
        self.sock.send(json.dumps(msg).encode())

    def send_exit(self, code: int) -> None:
        self.sock.send(b'{"exit": %d}' % code)


def _others() -> list[int]:
    """Live processes of the sandbox other than its init and this agent."""
    me, found = os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (1, me):
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            found.append(int(name))
    return found


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


_subreaper = False  # see become_subreaper


def become_subreaper() -> None:
    """Make this process the reaper of its descendants' orphans (``PR_SET_CHILD_SUBREAPER``):
    whatever a command leaves running, in any group or session, stays a child of this
    process, so :func:`end_rest` can tell at one cheap call that nothing is left. For a
    worker inside its own sandbox, whose only children are its commands."""
    global _subreaper
    try:
        import ctypes

        _subreaper = ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError, ImportError):
        _subreaper = False


def _childless() -> bool:
    """Whether this process has no child at all (live or zombie)."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return False


def end_rest() -> None:
    """Once a command's leader is reaped, in a worker inside its own sandbox: kill every
    other process of the sandbox. As the subreaper (the usual case), having no child at
    all means there is none: one ``waitid`` instead of a ``kill(-1)``, which walks every
    task of the host under its task-list lock; else :func:`kill_all`, reaping until no
    child is left (orphans of the killed become its children in turn). Without the
    subreaper, :func:`kill_all` leaves the caller's children to their ``Popen`` objects."""
    if not _subreaper:
        kill_all(reap=False)
    elif not _childless():
        kill_all(gone=_childless)


def kill_all(*, reap: bool = True, gone: Callable[[], bool] | None = None) -> None:
    """SIGKILL every process of the sandbox but init and the caller; wait until ``gone()``
    (default: no live process but those two). ``reap=False`` leaves the caller's own
    children to whoever waits for them (a worker inside its sandbox, whose ``Popen``
    objects must reap their own)."""
    done = gone or (lambda: not _others())
    deadline = time.monotonic() + 10
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:  # not one left, not even a zombie: the usual case
            return
        if reap:
            _reap()
        if done() or time.monotonic() > deadline:
            return
        time.sleep(0.0005)


class _Commands:
    """Runs the worker's commands; keeps the environment the requests amend."""

    def __init__(self, channel: _Channel) -> None:
        self.channel = channel
        self.env: dict[str, str] = {}
        self.path = os.environ.get("PATH")

    def run(self, msg: dict[str, Any], fds: list[int]) -> bool:
        """Run one command to its end; False if the worker went away. The agent holds its
        copies of the command's stdout and stderr until it has answered, so the worker sees
        those pipes end only after the answer (and waits for one event, not three)."""
        try:
            try:
                self._amend_env(msg)
                if len(fds) != 3:
                    raise ValueError("a request without its three descriptors")
                pid = self._spawn(msg, fds)
            except (OSError, ValueError, TypeError, KeyError) as e:
                self.channel.send({"error": getattr(e, "strerror", None) or str(e)})
                return True
            os.close(fds.pop(0))  # stdin: the command alone reads it
            return self._wait(pid)
        finally:
            for fd in fds:
                os.close(fd)

    def _wait(self, pid: int) -> bool:
        """Until the command's leader exits, then kill the rest and answer with its exit."""
        pidfd = os.pidfd_open(pid)
        sock = self.channel.sock.fileno()
        try:
            while True:
                ready, _, _ = select.select([sock, pidfd], [], [])
                if pidfd in ready:
                    break
                request, extra = self.channel.recv()
                for fd in extra:
                    os.close(fd)
                if request is None:
                    kill_all()
                    return False
                if request.get("kill"):
                    kill_all()
        finally:
            os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        kill_all()
        self.channel.send_exit(code)
        return True

    def _amend_env(self, msg: dict[str, Any]) -> None:
        """The command's environment: the previous one with the request's changes."""
        changed, unset = msg.get("env"), msg.get("unset")
        if not isinstance(changed, dict) or not isinstance(unset, list):
            raise ValueError("a malformed request")
        self.env.update(changed)
        for name in unset:
            self.env.pop(name, None)
        path = self.env.get("PATH", os.defpath)
        if path != self.path:  # where posix_spawnp looks
            os.environ["PATH"] = self.path = path

    def _spawn(self, msg: dict[str, Any], fds: list[int]) -> int:
        """Start the command (``posix_spawnp``: no Python between fork and exec) in a new
        process group, with ``fds`` as its stdin, stdout and stderr; its pid."""
        argv, cwd = msg["argv"], msg["cwd"] or "/"
        if not argv or not all(isinstance(a, str) for a in argv):
            raise ValueError("a malformed request")
        try:
            os.chdir(cwd)  # the agent's own directory is the command's
        except OSError as e:
            raise ValueError(f"working directory {cwd!r}: {e.strerror}") from None
        return os.posix_spawnp(
            argv[0],
            argv,
            self.env,
            file_actions=[(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)],
            setpgroup=0,
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),  # as Popen's restore_signals
        )


def main(fd: int) -> None:
    undumpable()
    os.set_inheritable(fd, False)
    for std in range(3):  # the descriptors bwrap gave us must not reach commands either
        os.set_inheritable(std, False)
    channel = _Channel(fd)
    commands = _Commands(channel)
    channel.send({"ready": True})
    while True:
        msg, fds = channel.recv()
        if msg is None:
            kill_all()
            return
        if "argv" not in msg:  # a kill aimed at a command that already ended
            for fd in fds:
                os.close(fd)
            continue
        if not commands.run(msg, fds):
            return


if __name__ == "__main__":
    main(int(sys.argv[1]))
