"""A real two-node Ray cluster on loopback, for the tests and benchmarks.

:class:`RayCluster` starts ``python tests/raycluster.py`` as a child process, which builds
the cluster with :class:`ray.cluster_utils.Cluster` (Ray's documented way to test
multi-node behaviour on one machine: each node is a real, separate raylet with its own
object store and worker pool) and prints its address once every node has joined. The
cluster then lives until :meth:`RayCluster.stop`, or until the parent goes away however
that happens: the child waits for end-of-file on its stdin, a pipe only the parent holds,
and Ray's processes die with the child (kernel fate-sharing).

What keeps it from touching anything else on the machine:

- every node binds ``127.0.0.1`` only, on ports picked free (GCS, dashboard agent,
  metrics, Ray client); Ray's temp dir (sessions, sockets, logs, spilled objects) is a
  private directory under ``/tmp``, removed at the end;
- ``RAY_AUTH_MODE=token`` with a random ``RAY_AUTH_TOKEN``: only processes given that token
  (this one, its children, the cluster's own) can talk to the cluster; usage stats are off;
- :meth:`stop` closes the child's stdin (the child shuts its nodes down), then kills by
  pid whatever it recorded as the child's descendants that is still alive: never
  ``ray stop``, which would end every Ray process of the machine.

Ray maps a loopback address to the machine's outward IP when a driver connects
(``services.resolve_ip_for_localhost``); ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` keeps
127.0.0.1, and :meth:`driver_env` sets it with the token for this process and its children
(``loxo`` CLI runs, benchmark drivers). ``python tests/raycluster.py --nodes 2 --cpus 8``
runs a cluster by hand (address on stdout; Enter or Ctrl-D stops it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import pytest

AUTH_MODE = "token"  # Ray 2.60 accepts "token" and "disabled"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client_available() -> bool:
    """Whether Ray Client (``ray://``, the ``ray[client]`` extra: grpcio) is installed."""
    try:
        import grpc  # noqa: F401
    except ImportError:
        return False
    return True


class RayCluster:
    """``with RayCluster() as c: c.address`` is ``127.0.0.1:<port>``, a head and a node."""

    def __init__(
        self,
        *,
        nodes: int = 2,
        cpus: int = 2,
        ray_client: bool | None = None,
        startup_timeout: float = 90.0,
    ) -> None:
        self.temp_dir = tempfile.mkdtemp(prefix="loxo-ray-", dir="/tmp")  # sockets: short path
        self.token = secrets.token_hex(16)
        self.nodes = nodes
        ray_client = client_available() if ray_client is None else ray_client
        argv = [sys.executable, __file__, "--nodes", str(nodes), "--cpus", str(cpus)]
        if ray_client:
            argv.append("--ray-client")
        env = {
            **os.environ,
            **self.driver_env(),
            "RAY_TMPDIR": self.temp_dir,
            "RAY_USAGE_STATS_ENABLED": "0",
            "PYTHONUNBUFFERED": "1",
        }
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=os.getcwd()
        )
        assert self._proc.stdout is not None
        line = _readline(self._proc.stdout, startup_timeout).decode()
        if not line.startswith("address "):
            self.stop()
            raise RuntimeError(f"the Ray cluster did not start: {line!r}")
        _, self.address, client_port = line.split()
        self.client_address = f"ray://127.0.0.1:{client_port}" if client_port != "-" else None
        self._descendants: set[int] = set()

    def driver_env(self) -> dict[str, str]:
        """What a driver process needs to connect (besides the address)."""
        return {
            "RAY_AUTH_MODE": AUTH_MODE,
            "RAY_AUTH_TOKEN": self.token,
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        }

    def kill_node(self) -> str:
        """Kill every process of the newest worker node (a node crash); its node ID."""
        return self._command("kill-node", "killed")

    def add_node(self) -> str:
        """Start one more worker node; its node ID."""
        return self._command("add-node", "added")

    def _command(self, command: str, answer: str) -> str:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._descendants |= _descendants(self._proc.pid)
        self._proc.stdin.write(command.encode() + b"\n")
        self._proc.stdin.flush()
        line = _readline(self._proc.stdout, 60).decode().split()
        if line[:1] != [answer]:
            raise RuntimeError(f"the Ray cluster did not {command}: {line!r}")
        return line[1]

    def pids(self) -> set[int]:
        """The child and every live process below it (raylets, agents, Ray workers)."""
        return {self._proc.pid, *_descendants(self._proc.pid)}

    def stop(self) -> None:
        """Shut the nodes down; kill, by pid, anything of ours still alive."""
        if self._proc.poll() is None:
            self._descendants |= _descendants(self._proc.pid)
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # the child's cue to shut the cluster down
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for pid in self._descendants:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> RayCluster:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextlib.contextmanager
def connected(cluster: RayCluster) -> Iterator[Any]:
    """This process as a driver of ``cluster`` (namespace ``loxo``), with the driver
    environment set for it and its children; disconnects and restores at the end."""
    import ray

    with pytest.MonkeyPatch.context() as mp:
        for name, value in cluster.driver_env().items():
            mp.setenv(name, value)
        _refresh_ray_config(mp)
        ray.init(address=cluster.address, namespace="loxo", log_to_driver=False)
        try:
            yield ray
        finally:
            ray.shutdown()
            mp.undo()
            _refresh_ray_config(None)


def _refresh_ray_config(mp: pytest.MonkeyPatch | None) -> None:
    """Make an already imported Ray see the environment set since (auth mode and token,
    loopback addresses); Ray's own tests do the same (``authentication_test_utils``)."""
    from ray._private import ray_constants
    from ray._raylet import AuthenticationTokenLoader, Config

    if mp is not None:
        mp.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """A two-node Ray cluster (2 CPUs per node) for the test session, this process
    connected to it as a driver."""
    pytest.importorskip("ray")
    with RayCluster(nodes=2, cpus=2) as cluster, connected(cluster):
        yield cluster


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _readline(stream: Any, timeout: float) -> bytes:
    """A line from ``stream``, or b"" after ``timeout`` seconds."""
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return got[0] if got else b""


# --- the child ---------------------------------------------------------------------------


def serve(nodes: int, cpus: int, ray_client: bool) -> None:
    from ray.cluster_utils import Cluster

    global _answers
    _answers = os.fdopen(os.dup(1), "w")  # our answers; anything else printed goes to stderr
    os.dup2(2, 1)

    temp_dir = os.path.join(os.environ["RAY_TMPDIR"], "ray")
    os.makedirs(temp_dir, exist_ok=True)

    def node_args() -> dict[str, Any]:
        return {
            "node_ip_address": "127.0.0.1",
            "num_cpus": cpus,
            "temp_dir": temp_dir,
            "include_dashboard": False,
            "dashboard_port": free_port(),
            "dashboard_agent_listen_port": free_port(),
            "metrics_export_port": free_port(),
            "object_store_memory": 100 << 20,
        }

    head = {**node_args(), "gcs_server_port": free_port()}
    client_port = free_port() if ray_client else None
    if client_port is not None:
        head["ray_client_server_port"] = client_port
    cluster = Cluster(initialize_head=True, head_node_args=head)
    workers = [cluster.add_node(**node_args()) for _ in range(nodes - 1)]
    cluster.wait_for_nodes()
    say(f"address {cluster.address} {client_port or '-'}")
    try:
        for line in sys.stdin:  # until end-of-file: the parent stopped us, or went away
            if line.strip() == "kill-node" and workers:  # the newest worker node dies, hard
                node = workers.pop()
                cluster.remove_node(node, allow_graceful=False)
                say(f"killed {node.node_id}")
            elif line.strip() == "add-node":
                workers.append(cluster.add_node(**node_args()))
                say(f"added {workers[-1].node_id}")
    except KeyboardInterrupt:
        pass
    cluster.shutdown()


_answers = sys.stdout


def say(line: str) -> None:
    _answers.write(line + "\n")
    _answers.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=2, help="logical CPUs per node")
    parser.add_argument("--ray-client", action="store_true", help="serve ray:// on the head")
    args = parser.parse_args()
    if "RAY_TMPDIR" not in os.environ:  # run by hand: be a parent of ourselves
        with RayCluster(nodes=args.nodes, cpus=args.cpus, ray_client=args.ray_client) as c:
            env = " ".join(f"{k}={v}" for k, v in c.driver_env().items())
            print(f"address {c.address} (client {c.client_address}); drivers need: {env}")
            with contextlib.suppress(KeyboardInterrupt):
                sys.stdin.read()
        return
    serve(args.nodes, args.cpus, args.ray_client)


if __name__ == "__main__":
    main()
