"""The exec agent inside a worker's long-lived sandbox (standard library only).

Run by :mod:`~loxo.execution.sandbox_session` as ``python -I -S sandbox_agent.py FD`` under
bubblewrap, as the only child of the sandbox's PID-namespace init. ``FD`` is a
``SOCK_SEQPACKET`` socket to the worker. One command at a time:

- the worker sends ``{"argv", "env", "cwd"}`` (JSON) with the command's stdin, stdout and
  stderr as ``SCM_RIGHTS`` file descriptors; the agent starts it in a new session, or
  answers ``{"error": text}`` at once if it could not start (no answer on success: one
  message each way per command);
- ``{"kill": true}`` at any time kills the running command's processes;
- when the command's leader exits, the agent SIGKILLs **every other process of the
  sandbox** (``kill(-1)``: all but the namespace init and the agent itself) and waits until
  none is left, then answers ``{"exit": code}`` (negative: killed by that signal). So no
  process of a datum, in whatever group or session, outlives it to see the next datum's
  ``/pfs``;
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
from typing import Any

MAX_MESSAGE = 1 << 20


def _undumpable() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError, ImportError):
        pass


def _recv(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    fds = array.array("i")
    space = socket.CMSG_SPACE(3 * fds.itemsize)
    data, ancdata, _, _ = sock.recvmsg(MAX_MESSAGE, space, socket.MSG_CMSG_CLOEXEC)
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    if not data:
        return None, list(fds)
    return json.loads(data), list(fds)


def _send(sock: socket.socket, msg: dict[str, Any]) -> None:
    sock.send(json.dumps(msg).encode())


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


def kill_all() -> None:
    """SIGKILL every process of the sandbox but init and the agent; wait until gone."""
    deadline = time.monotonic() + 10
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:  # not one left, not even a zombie: the usual case
            return
        _reap()
        if not _others() or time.monotonic() > deadline:
            return
        time.sleep(0.0005)


def _spawn(msg: dict[str, Any], fds: list[int]) -> int:
    """Start the command (``posix_spawnp``: no Python between fork and exec) in a new
    session, with ``fds`` as its stdin, stdout and stderr; its pid."""
    argv, env, cwd = msg["argv"], msg["env"], msg["cwd"] or "/"
    if not argv or not all(isinstance(a, str) for a in argv) or not isinstance(env, dict):
        raise ValueError("a malformed request")
    try:
        os.chdir(cwd)  # the agent's own directory is the command's
    except OSError as e:
        raise ValueError(f"working directory {cwd!r}: {e.strerror}") from None
    os.environ["PATH"] = env.get("PATH", os.defpath)  # where posix_spawnp looks
    actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds[:3])]
    return os.posix_spawnp(
        argv[0],
        argv,
        env,
        file_actions=actions,
        setsid=True,
        setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),  # as Popen's restore_signals
    )


def _run(sock: socket.socket, msg: dict[str, Any], fds: list[int]) -> bool:
    """Run one command to its end; False if the worker went away."""
    try:
        if len(fds) != 3:
            raise ValueError("a request without its three descriptors")
        pid = _spawn(msg, fds)
    except (OSError, ValueError, TypeError, KeyError) as e:
        _send(sock, {"error": getattr(e, "strerror", None) or str(e)})
        return True
    finally:
        for fd in fds:
            os.close(fd)
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            ready, _, _ = select.select([sock.fileno(), pidfd], [], [])
            if pidfd in ready:
                break
            request, extra = _recv(sock)
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
    _send(sock, {"exit": code})
    return True


def main(fd: int) -> None:
    _undumpable()
    os.set_inheritable(fd, False)
    for std in range(3):  # the descriptors bwrap gave us must not reach commands either
        os.set_inheritable(std, False)
    sock = socket.socket(fileno=fd)
    _send(sock, {"ready": True})
    while True:
        msg, fds = _recv(sock)
        if msg is None:
            kill_all()
            return
        if "argv" not in msg:  # a kill aimed at a command that already ended
            for fd in fds:
                os.close(fd)
            continue
        if not _run(sock, msg, fds):
            return


if __name__ == "__main__":
    main(int(sys.argv[1]))
