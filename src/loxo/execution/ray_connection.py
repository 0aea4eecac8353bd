"""The driver process's connection to Ray, shared by its Ray executors.

The first executor to need Ray calls ``ray.init`` (unless this process is connected
already), after checking that the address answers at all, so that a wrong address fails
in seconds with a hint instead of Ray's minutes of retries; the last one to close shuts
Ray down, if this module connected it. The executors of a process share one mailbox
actor (:mod:`~loxo.execution.ray_board`), started on the driver's node where Ray allows
it and replaced if it dies with its node.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import weakref
from typing import TYPE_CHECKING, Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from loxo.errors import PreconditionError

from . import ray_board

if TYPE_CHECKING:
    from .ray_executor import RayExecutor

__all__ = [
    "ADDRESS_ENV",
    "acquire",
    "check_reachable",
    "code_paths",
    "first_line",
    "release",
    "shared_board",
]

ADDRESS_ENV = "LOXO_RAY_ADDRESS"
CLIENT_TRIES = 3  # connections through Ray Client, when its server fails to start


_users: weakref.WeakSet[RayExecutor] = weakref.WeakSet()
_connected_here = False  # this module called ray.init (and so may call ray.shutdown)
_connection_lock = threading.Lock()
_board: Any = None  # the mailbox actor of this process's executors (keys are per run)


def shared_board(dead: Any = None) -> Any:
    """The process's mailbox actor, started on this driver's node (so that it shares the
    driver's fate) where Ray allows it; a new one if ``dead`` is the current one."""
    global _board
    with _connection_lock:
        if _board is None or (dead is not None and dead is _board):
            options: dict[str, Any] = {"num_cpus": 0, "max_restarts": 0}
            with contextlib.suppress(Exception):  # e.g. through Ray Client: anywhere will do
                node = ray.get_runtime_context().get_node_id()
                options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node, soft=True)
            _board = ray.remote(ray_board.Board).options(**options).remote()
        return _board


def acquire(executor: RayExecutor) -> None:
    global _board, _connected_here
    with _connection_lock:
        _users.add(executor)
        if ray.is_initialized():
            return
        _board = None  # a board from an earlier connection is gone with it
        address = executor.address
        check_reachable(address, executor.connect_timeout)
        for attempt in range(1, CLIENT_TRIES + 1):
            try:
                ray.init(
                    address=address,
                    namespace=executor.namespace,
                    ignore_reinit_error=True,
                    runtime_env=executor.runtime_env,
                )
                break
            except (ConnectionError, RuntimeError, ValueError) as e:
                # Ray Client's proxy sometimes loses the race to start this driver's
                # server ("Initialization failure from server"); a new connection works
                if attempt < CLIENT_TRIES and "Initialization failure" in str(e):
                    with contextlib.suppress(Exception):
                        ray.shutdown()
                    continue
                raise PreconditionError(
                    f"cannot connect to the Ray cluster at {address!r}: {first_line(e)}"
                ) from e
        _connected_here = True


def release(executor: RayExecutor, *, shutdown: bool) -> None:
    global _board, _connected_here
    with _connection_lock:
        _users.discard(executor)
        if shutdown and _connected_here and not _users:
            ray.shutdown()
            _connected_here = False
            _board = None


def check_reachable(address: str | None, timeout: float) -> None:
    """Fail in seconds, with the address, where ``ray.init`` would retry for minutes."""
    if address in (None, "", "auto", "local"):
        return
    assert address is not None
    hostport = address.removeprefix("ray://").rsplit("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        return  # let Ray judge the address
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout).close()
    except OSError as e:
        raise PreconditionError(
            f"cannot reach the Ray cluster at {address!r} ({e.strerror or e}); start it, or "
            f"set {ADDRESS_ENV} to its address (host:6379, or ray://host:10001)"
        ) from e


def first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def code_paths() -> list[str]:
    """This process's ``sys.path`` entries outside the Python installation (project and
    ``PYTHONPATH`` directories: where ``transform.python`` modules are found)."""
    installed = {os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths: list[str] = []
    for entry in sys.path:
        path = os.path.abspath(entry or os.getcwd())
        inside = any(path == p or path.startswith(p + os.sep) for p in installed)
        if not inside and "-packages" not in path and path not in paths:
            paths.append(path)
    return paths
