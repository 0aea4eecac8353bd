"""The Ray executor on a real two-node Ray cluster on loopback (:mod:`tests.raycluster`).

One cluster serves the whole module (a head and a second node, 2 CPUs each, token
authentication, private temp dir); this process is its driver. The executor passes the
shared contract, then what only a cluster shows: datums spread over both nodes, a worker
process or a whole node killed mid-datum, resources Ray must honour or refuse at once,
and pipelines run end to end through the client and the ``loxo`` CLI.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray")

import loxo
from loxo.execution.ray_executor import RayExecutor
from loxo.execution.task import DatumResult, DatumState, Transform
from loxo.pps.model import JobState
from loxo.storage.registry import open_store
from tests.raycluster import RayCluster, free_port, ray_cluster
from tests.s3server import S3Server

from .builders import Background, Datums, by_id, lines, live_processes_matching, sh, wait_for
from .contract import PY, ExecutorContract

__all__ = ["ray_cluster"]  # the fixture, for pytest

FORWARD = ("LOXO_SANDBOX", "LOXO_SCRATCH")  # the contract pins these per test
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _require_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    from loxo.execution import sandbox

    ok, why = sandbox.probe()
    if not ok:
        pytest.skip(f"no bubblewrap sandbox here: {why}")
    monkeypatch.setenv("LOXO_SANDBOX", "1")


def nodes_of(results: Iterable[DatumResult]) -> set[str]:
    """The node-ID prefixes in the results' ``worker`` labels (``<node>/<host>:<pid>``)."""
    return {r.worker.split("/", 1)[0] for r in results}


def head_node_id() -> str:
    import ray

    return next(n["NodeID"] for n in ray.nodes() if "node:__internal_head__" in n["Resources"])


class TestRayExecutor(ExecutorContract):
    @pytest.fixture
    def executor(self, ray_cluster: RayCluster) -> Iterator[RayExecutor]:
        with RayExecutor(ray_cluster.address, forward_env=FORWARD) as ex:
            yield ex

    # --- placement -----------------------------------------------------------------------

    def test_datums_run_on_both_nodes(self, executor: RayExecutor, d: Datums) -> None:
        sets = [d.set(sh("sleep 0.4"), [d.simple(f"d{i}")]) for i in range(8)]
        results = list(executor.run(sets, parallelism=4))  # 4 CPUs: 2 per node
        assert len(results) == 8 and all(r.state == DatumState.SUCCESS for r in results)
        assert nodes_of(results) == {n[:12] for n in executor.node_ids()}

    def test_cpu_request_is_a_ray_resource(self, executor: RayExecutor, d: Datums) -> None:
        # each node has 2 CPUs: two sets asking for 2 run at once only on different nodes
        t = sh("sleep 0.5")
        sets = [d.set(t, [d.simple(f"d{i}")], resources=(("cpu", 2.0),)) for i in range(2)]
        results = list(executor.run(sets, parallelism=2))
        assert len(nodes_of(results)) == 2
        [a, b] = results
        assert a.started < b.finished and b.started < a.finished  # they overlapped

    # --- a warm worker's workspace ------------------------------------------------------

    def test_a_worker_keeps_one_sandbox_and_each_datum_sees_its_own_pfs(
        self, executor: RayExecutor, d: Datums, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LOXO_SANDBOX", "1")
        t = sh(
            "cut -d' ' -f22 /proc/1/stat > /pfs/out/init; ls -A /pfs > /pfs/out/ls; "
            'cp /pfs/in/a.txt /pfs/out/a; touch "/pfs/litter-$PACH_DATUM_ID"; sleep 60 &'
        )
        sets = [d.set(t, [d.simple(f"s{s}d{i}", b"%d" % i) for i in range(4)]) for s in range(2)]
        rs = by_id(executor.run(sets, parallelism=1))
        assert all(r.state == DatumState.SUCCESS for r in rs.values()), rs
        outputs = {k: d.output(r) for k, r in rs.items()}
        for k, out in outputs.items():  # no other datum's files, nor what it left running
            assert out["/ls"] == b"in\nout\n" and out["/a"] == k[-1].encode(), out
        by_worker: dict[str, set[bytes]] = {}
        for k, r in rs.items():
            by_worker.setdefault(r.worker, set()).add(outputs[k]["/init"])
        assert all(len(inits) == 1 for inits in by_worker.values()), by_worker  # one sandbox
        assert len(by_worker) < len(rs)  # warm workers took several datums

    # --- resources no node has -----------------------------------------------------------

    @pytest.mark.parametrize(
        ("resources", "message"),
        [
            ((("gpu", 64.0),), "they ask for gpu=64; the largest of its 2 live node(s) has gpu=0"),
            ((("memory", 2.0**50),), "they ask for memory=1.05e+06GiB"),
            ((("cpu", 3.0),), "the largest of its 2 live node(s) has cpu=2"),
        ],
    )
    def test_a_request_no_node_can_meet_fails_at_once(
        self, executor: RayExecutor, d: Datums, resources: tuple, message: str
    ) -> None:
        ts = d.set(sh("true"), [d.simple("d1"), d.simple("d2")], resources=resources)
        start = time.monotonic()
        rs = by_id(executor.run([ts, d.set(sh("true"), [d.simple("ok")])], parallelism=2))
        assert time.monotonic() - start < 10
        assert rs["ok"].state == DatumState.SUCCESS
        for datum in ("d1", "d2"):
            r = rs[datum]
            assert (r.state, r.attempts) == (DatumState.FAILED, 0)
            assert r.error.startswith("no node of the Ray cluster can ever run these datums")
            assert message in r.error and "add a Ray node" in r.error
            assert lines(r, "system") == [r.error]

    # --- slots ---------------------------------------------------------------------------

    def test_one_warm_slot_runs_set_after_set_and_run_after_run(
        self, executor: RayExecutor, d: Datums
    ) -> None:
        t = sh("cp /pfs/in/a.txt /pfs/out/$PACH_DATUM_ID")
        sets = [d.set(t, [d.simple(f"d{i}")]) for i in range(6)]
        first = list(executor.run(sets[:3], parallelism=1))
        second = list(executor.run(sets[3:], parallelism=1))
        assert all(r.state == DatumState.SUCCESS for r in first + second)
        assert len({r.worker for r in first + second}) == 1  # one process: <node>/<host>:<pid>

    def test_a_set_queued_behind_a_slow_one_moves_to_an_idle_slot(
        self, executor: RayExecutor, d: Datums
    ) -> None:
        # slots A and B; the second quick set waits on A's board behind the slow one until
        # B runs out of work and takes it over
        slow = d.set(sh("sleep 6"), [d.simple("slow")])
        quick = [d.set(sh("true"), [d.simple(f"q{i}")]) for i in range(3)]
        rs = by_id(executor.run([slow, *quick], parallelism=2))
        assert all(r.state == DatumState.SUCCESS for r in rs.values()), rs
        assert all(rs[f"q{i}"].finished < rs["slow"].finished for i in range(3)), rs

    def test_cancelling_a_set_queued_behind_another_spares_the_running_one(
        self, executor: RayExecutor, d: Datums, tmp_path: Path
    ) -> None:
        # "a" runs long enough that its slot cannot be done with it (and take "b") before
        # the cancel reaches the board, even on a loaded machine
        # (the sandbox lets commands write only /pfs/out: their markers are seen there)
        running = d.set(sh("touch /pfs/out/a-started; sleep 6"), [d.simple("a")], "job-a")
        queued = d.set(sh("touch /pfs/out/b-ran; sleep 6"), [d.simple("b")], "job-b")
        run = Background(executor, [running, queued], parallelism=1)
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob("scratch/*/pfs/out/a-started")):
            assert time.monotonic() < deadline, "a never started"
            time.sleep(0.02)
        executor.cancel("job-b")
        end = time.monotonic() + 30
        while not run.results and time.monotonic() < end:  # until "a" is done
            assert not list(tmp_path.glob("scratch/*/pfs/out/b-ran")), "b ran"
            time.sleep(0.02)
        run.join(30)
        rs = by_id(run.results)
        assert set(rs) == {"a"} and rs["a"].state == DatumState.SUCCESS, rs
        assert rs["a"].attempts == 1

    # --- workers and nodes dying ---------------------------------------------------------

    def test_killed_worker_is_replaced_and_its_set_retried(
        self, executor: RayExecutor, d: Datums, tmp_path: Path
    ) -> None:
        t = Transform(
            python=f"{PY}:once_slow",
            env=(("MARKER", str(tmp_path / "m")), ("PIDFILE", str(tmp_path / "pid"))),
        )
        # d0 finishes, d1 is running when its worker dies, d2 has not started
        (tmp_path / "m-d0").touch()
        (tmp_path / "m-d2").touch()
        ts = d.set(t, [d.simple("d0"), d.simple("d1"), d.simple("d2")], datum_tries=3)
        run = Background(executor, [ts])
        victim = int(wait_for(tmp_path / "pid-d1", timeout=30))
        os.kill(victim, signal.SIGKILL)
        run.join(30)
        rs = by_id(run.results)  # exactly one result per datum
        assert set(rs) == {"d0", "d1", "d2"}
        assert all(r.state == DatumState.SUCCESS for r in rs.values()), rs
        assert rs["d1"].attempts == 2
        assert "attempt 1 of 3 failed: the Ray worker died (WorkerCrashedError)" in lines(
            rs["d1"], "system"
        )
        assert d.output(rs["d1"])["/d1"].decode() != str(victim)

    def test_a_worker_dying_with_the_next_set_in_hand_costs_that_set_nothing(
        self, executor: RayExecutor, d: Datums, tmp_path: Path
    ) -> None:
        # one slot: "a" runs when its worker dies; "b", which the slot took while "a" ran,
        # never started: it runs in another worker, on its first attempt
        t = Transform(
            python=f"{PY}:once_slow",
            env=(("MARKER", str(tmp_path / "m")), ("PIDFILE", str(tmp_path / "pid"))),
        )
        (tmp_path / "m-b").touch()  # "b" finishes at once
        sets = [d.set(t, [d.simple(x)], datum_tries=3) for x in ("a", "b")]
        run = Background(executor, sets, parallelism=1)
        victim = int(wait_for(tmp_path / "pid-a", timeout=30))
        time.sleep(1.0)  # the slot's thread has long taken "b" from the board
        os.kill(victim, signal.SIGKILL)
        run.join(30)
        rs = by_id(run.results)
        assert set(rs) == {"a", "b"} and all(r.state == DatumState.SUCCESS for r in rs.values())
        assert rs["a"].attempts == 2
        assert rs["b"].attempts == 1 and lines(rs["b"], "system") == [], rs["b"]
        assert not rs["b"].worker.endswith(f":{victim}")

    def test_a_killed_worker_leaves_no_command_behind(
        self, executor: RayExecutor, d: Datums, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LOXO_SANDBOX", "0")  # no bwrap --die-with-parent to help
        token = f"{time.time_ns() % 10**9}"
        pidfile = tmp_path / "worker-pid"
        t = sh(
            f"if [ -e {tmp_path}/again ]; then echo ok > /pfs/out/x; "
            f"else touch {tmp_path}/again; echo $PPID > {pidfile}; sleep 60.{token}; fi"
        )
        run = Background(executor, [d.set(t, [d.simple("d1")], datum_tries=2)])
        victim = int(wait_for(pidfile, timeout=30))
        end = time.monotonic() + 10
        while not live_processes_matching(f"sleep 60.{token}") and time.monotonic() < end:
            time.sleep(0.02)
        os.kill(victim, signal.SIGKILL)  # the Ray worker; its command lives on, orphaned
        run.join(30)
        [r] = run.results
        assert (r.state, r.attempts) == (DatumState.SUCCESS, 2), (r.error, r.logs)
        end = time.monotonic() + 10  # the reaper task on the worker's node kills the group
        while live_processes_matching(f"sleep 60.{token}") and time.monotonic() < end:
            time.sleep(0.05)
        assert live_processes_matching(f"sleep 60.{token}") == []

    def test_commands_run_in_a_local_worker_inside_its_sandbox(
        self, executor: RayExecutor, d: Datums, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # as in a local executor: the command's parent is the contained worker (pid 2,
        # after bubblewrap's init), not the exec agent of a sandbox of the Ray worker's
        _require_sandbox(monkeypatch)
        t = sh("echo $PPID > /pfs/out/ppid; tr '\\0' ' ' < /proc/$PPID/cmdline > /pfs/out/cmd")
        rs = list(executor.run([d.set(t, [d.simple(f"d{i}") for i in range(3)])]))
        assert all(r.state == DatumState.SUCCESS for r in rs), rs
        for r in rs:
            out = d.output(r)
            assert out["/ppid"] == b"2\n"
            assert b"loxo.execution.sandbox_worker" in out["/cmd"], out["/cmd"]

    def test_a_command_that_kills_its_contained_worker_costs_its_datum_an_attempt(
        self, executor: RayExecutor, d: Datums, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # the Ray worker ends with its contained worker: its driver charges the datum that
        # ran, and runs the rest of the set again
        _require_sandbox(monkeypatch)
        # the first attempt of d1 marks its /pfs/out and kills its worker; the test then
        # leaves a flag where the sandbox shows it (a directory on the pipeline's PATH)
        flags = tmp_path / "flags"
        flags.mkdir()
        script = (
            f'if [ "$PACH_DATUM_ID" = d1 ] && [ ! -e {flags}/spare ]; then '
            "touch /pfs/out/killing; sleep 0.5; kill -9 $PPID; sleep 5; fi; "
            "echo $PACH_DATUM_ID > /pfs/out/x"
        )
        tasks = [d.simple(f"d{i}") for i in range(3)]
        path = f"{flags}:{os.environ['PATH']}"
        run = Background(executor, [d.set(sh(script, env=(("PATH", path),)), tasks, datum_tries=2)])
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("scratch/*/pfs/out/killing")):
            assert time.monotonic() < deadline, "d1 never started"
            time.sleep(0.01)
        (flags / "spare").touch()
        run.join(60)
        rs = by_id(run.results)
        assert {k: (r.state, r.attempts) for k, r in rs.items()} == {
            "d0": (DatumState.SUCCESS, 1),
            "d1": (DatumState.SUCCESS, 2),
            "d2": (DatumState.SUCCESS, 1),
        }
        assert any("the Ray worker died" in x.line for x in rs["d1"].logs), rs["d1"].logs
        assert all(d.output(r) == {"/x": f"{k}\n".encode()} for k, r in rs.items())

    def test_a_datum_that_always_kills_its_worker_fails(
        self, executor: RayExecutor, d: Datums
    ) -> None:
        [r] = executor.run([d.set(Transform(python=f"{PY}:die"), [d.simple("d1")], datum_tries=2)])
        assert (r.state, r.attempts) == (DatumState.FAILED, 2)
        assert r.error == "the Ray worker died (WorkerCrashedError)"

    def test_a_python_call_that_ends_its_worker_at_once_costs_its_datum_only(
        self, executor: RayExecutor, d: Datums
    ) -> None:
        # the worker exits before its attempt report can be out: the attempt record it
        # left on its node tells the driver which datum and attempt died with it
        t = Transform(python=f"{PY}:exit_on_victim", env=(("VICTIM", "b"),))
        ts = d.set(t, [d.simple(x) for x in ("a", "b", "c", "e")], datum_tries=2)
        start = time.monotonic()
        rs = by_id(executor.run([ts]))
        assert time.monotonic() - start < 60
        assert set(rs) == {"a", "b", "c", "e"}
        assert (rs["b"].state, rs["b"].attempts) == (DatumState.FAILED, 2), rs["b"]
        assert rs["b"].error == "the Ray worker died (WorkerCrashedError)"
        assert lines(rs["b"], "system")[-1] == (
            "attempt 2 of 2 failed: the Ray worker died (WorkerCrashedError)"
        )
        for x in ("a", "c", "e"):
            assert (rs[x].state, rs[x].attempts) == (DatumState.SUCCESS, 1), rs[x]
            assert d.output(rs[x]) == {f"/{x}": b"ok"}

    def test_a_node_dying_mid_set(
        self, executor: RayExecutor, d: Datums, ray_cluster: RayCluster, tmp_path: Path
    ) -> None:
        """Kill the second node while it runs datums: its sets finish on the head, every
        datum has one result and the outputs are a clean run's. (A node joins again.)"""
        head = head_node_id()
        t = sh('echo "$PACH_DATUM_ID" > /pfs/out/$PACH_DATUM_ID; sleep 1')
        sets = [d.set(t, [d.simple(f"s{s}d{i}") for i in range(2)]) for s in range(4)]
        run = Background(executor, sets, parallelism=4)
        end = time.monotonic() + 30  # (each running datum's output is seen in its /pfs/out)
        started: set[str] = set()
        while len(started) < 4 and time.monotonic() < end:
            started |= {p.name for p in tmp_path.glob("scratch/*/pfs/out/s*")}
            time.sleep(0.01)
        killed = ray_cluster.kill_node()
        try:
            run.join(60)
        finally:
            ray_cluster.add_node()
        rs = by_id(run.results)
        assert set(rs) == {f"s{s}d{i}" for s in range(4) for i in range(2)}
        assert all(r.state == DatumState.SUCCESS for r in rs.values()), rs
        assert {r.datum_id: d.output(r) for r in rs.values()} == {
            k: {f"/{k}": f"{k}\n".encode()} for k in rs
        }
        retried = [r for r in rs.values() if r.attempts > 1]
        assert retried, "no datum was running on the killed node"
        assert all(r.worker.startswith(head[:12]) for r in retried)
        assert killed[:12] not in nodes_of(retried)


# --- end to end ----------------------------------------------------------------------------


AWS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE")
AWS += ("AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED")


def test_workers_read_and_write_s3_directly(
    ray_cluster: RayCluster, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    """Inputs on a real S3 server on loopback; Ray workers (given the credentials with
    ``forward_env``, as a cluster's pods would have them) fetch them and write their outputs
    there themselves; the driver reads the outputs back from S3."""
    store = open_store(f"s3://{s3_bucket}/ray?endpoint={s3_server.endpoint}")
    d = Datums(store, tmp_path)  # type: ignore[arg-type]
    python = d.set(
        Transform(python=f"{PY}:copy"),
        [d.task(f"p{i}", d.input("in", "/d", {"/d/x": b"X%d" % i})) for i in range(3)],
    )
    command = d.set(sh('tr a-z A-Z < "$in" > /pfs/out/up'), [d.simple(f"c{i}") for i in range(3)])
    with RayExecutor(ray_cluster.address, forward_env=AWS) as ex:
        rs = by_id(ex.run([python, command], parallelism=2))
    assert all(r.state == DatumState.SUCCESS for r in rs.values()), rs
    for i in range(3):
        assert d.output(rs[f"p{i}"]) == {"/in/x": b"X%d" % i}
        assert d.output(rs[f"c{i}"]) == {"/up": b"HELLO\n"}
        assert rs[f"c{i}"].download_bytes == 6 and rs[f"c{i}"].upload_bytes == 6


UPPER = 'set -e; for f in /pfs/words/*; do tr a-z A-Z < "$f" > "/pfs/out/${f##*/}"; done; sleep 0.3'


def test_pipeline_through_the_client(
    ray_cluster: RayCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOXO_EXECUTOR", "ray")
    monkeypatch.setenv("LOXO_RAY_ADDRESS", ray_cluster.address)
    with loxo.Client(tmp_path / "home") as c:
        c.create_repo("words")
        spec = {
            "pipeline": {"name": "upper"},
            "input": {"pfs": {"repo": "words", "glob": "/*"}},
            "transform": {"cmd": ["sh", "-c", UPPER]},
            "parallelism_spec": {"constant": 4},
        }
        c.create_pipeline(json.dumps(spec))
        words = {f"/w{i}": f"word {i}\n" for i in range(12)}
        with c.modify_file("words@master") as mf:
            for path, text in words.items():
                mf.put_file(path, text.encode())
        c.drive()
        [job] = c.list_job("upper")
        assert (job.state, job.data_processed) == (JobState.SUCCESS, 12), job.reason
        out = {e.path: c.get_file("upper@master", e.path) for e in c.walk_files("upper@master")}
        assert out == {p: t.upper().encode() for p, t in words.items()}
        workers = {d.worker.split("/", 1)[0] for d in c.list_datum("upper", job.id)}
        assert len(workers) == 2  # both nodes took part


def test_example_through_the_cli(ray_cluster: RayCluster, tmp_path: Path) -> None:
    """``examples/python-transform`` as a user runs it, each ``loxo`` command its own Ray
    driver connecting through ``LOXO_RAY_ADDRESS``; a ``transform.python`` module found
    through the driver's ``PYTHONPATH``."""
    home = tmp_path / "home"
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("LOXO_NO_WAIT", "LOXO_EXECUTOR")},
        **ray_cluster.driver_env(),
        "LOXO_HOME": str(home),
        "LOXO_EXECUTOR": "ray",
        "LOXO_RAY_ADDRESS": ray_cluster.address,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    r = subprocess.run(
        ["bash", str(EXAMPLES / "python-transform" / "run.sh")],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert r.returncode == 0, f"run.sh failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    readings = tmp_path / "csv"
    make_csv = str(EXAMPLES / "python-transform" / "make_csv.py")
    for extra in ((), ("--extra",)):
        subprocess.run([sys.executable, make_csv, str(readings), *extra], check=True)
    with loxo.Client(home) as c:
        jobs = c.list_job("stats")[::-1]
        assert [(j.state, j.data_processed, j.data_skipped) for j in jobs] == [
            (JobState.SUCCESS, 5, 0), (JobState.SUCCESS, 1, 5), (JobState.SUCCESS, 1, 6)
        ]  # fmt: skip
        outputs = {e.path: c.get_file("stats@master", e.path) for e in c.walk_files("stats@master")}
        assert sorted(outputs) == sorted(f"/{p.stem}.json" for p in readings.iterdir())
        for path in readings.iterdir():
            rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
            got = json.loads(outputs[f"/{path.stem}.json"])
            values = [float(row[1]) for row in rows]
            assert got["temperature"]["mean"] == round(statistics.fmean(values), 2)
        datums = [d for j in jobs for d in c.list_datum("stats", j.id) if d.state == "SUCCESS"]
        assert all(d.worker.count("/") == 1 for d in datums)  # <node>/<host>:<pid>


def test_ray_client_address(ray_cluster: RayCluster, tmp_path: Path) -> None:
    """A driver connecting with ``ray://``: the same executor through Ray Client."""
    assert ray_cluster.client_address is not None
    script = f"""
import sys
from loxo.execution.ray_executor import RayExecutor
from loxo.execution.task import DatumState
from loxo.storage.local import LocalStore
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from tests.execution.builders import Datums, sh
d = Datums(LocalStore({str(tmp_path / "store")!r}), None)
sets = [d.set(sh("echo $PACH_DATUM_ID > /pfs/out/x"), [d.simple(f"d{{i}}")]) for i in range(4)]
with RayExecutor({ray_cluster.client_address!r}) as ex:
    rs = list(ex.run(sets, parallelism=2))
assert sorted(r.datum_id for r in rs) == ["d0", "d1", "d2", "d3"], rs
assert all(r.state == DatumState.SUCCESS for r in rs), rs
assert all(d.output(r) == {{"/x": r.datum_id.encode() + b"\\n"}} for r in rs)
print("ok")
"""
    env = {**os.environ, **ray_cluster.driver_env()}
    r = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout + r.stderr


def test_an_unreachable_address_fails_in_seconds(tmp_path: Path) -> None:
    script = """
from loxo.errors import PreconditionError
from loxo.execution.ray_executor import RayExecutor
from loxo.execution.task import DatumTask, TaskSet, Transform
t = Transform(cmd=("true",))
ts = TaskSet("j", "p", "default", "c", t, "file:///nowhere", (DatumTask("d", ()),))
try:
    list(RayExecutor().run([ts]))
except PreconditionError as e:
    print(e)
"""
    env = {**os.environ, "LOXO_RAY_ADDRESS": f"127.0.0.1:{free_port()}"}
    start = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - start < 20
    assert r.stdout.startswith(
        f"cannot reach the Ray cluster at '{env['LOXO_RAY_ADDRESS']}' (Connection refused)"
    ), r.stdout + r.stderr
    assert "set LOXO_RAY_ADDRESS to its address" in r.stdout


# --- resources, without a cluster ----------------------------------------------------------


def test_resources_map_to_ray_options() -> None:
    from loxo.execution.ray_resources import demand, task_options

    options = task_options((("cpu", 2.0), ("disk", 1e9), ("gpu", 1.0), ("memory", 2.0**30)))
    assert options == {"num_cpus": 2.0, "num_gpus": 1.0, "memory": 1 << 30}
    assert demand(options) == {"cpu": 2.0, "memory": 2.0**30, "gpu": 1.0}
    assert demand(task_options(())) == {"cpu": 1.0}  # Ray's default for a task
    assert demand(task_options((("cpu", 0.0),))) == {}


def test_unsatisfiable_names_what_no_node_has() -> None:
    from loxo.execution.ray_resources import unsatisfiable

    nodes = [
        {"Alive": True, "Resources": {"CPU": 8.0, "memory": 2.0**34}},
        {"Alive": True, "Resources": {"CPU": 2.0, "GPU": 1.0, "memory": 2.0**33}},
        {"Alive": False, "Resources": {"CPU": 64.0, "GPU": 8.0}},  # dead nodes do not count
    ]
    assert unsatisfiable({"cpu": 8.0}, nodes) is None
    assert unsatisfiable({"cpu": 2.0, "gpu": 1.0}, nodes) is None
    why = unsatisfiable({"cpu": 1.0, "gpu": 2.0}, nodes)
    assert (
        why is not None and "they ask for gpu=2; the largest of its 2 live node(s) has gpu=1" in why
    )
    why = unsatisfiable({"cpu": 4.0, "gpu": 1.0}, nodes)
    assert why is not None and why.startswith("no single node of the Ray cluster has cpu=4, gpu=1")
    assert "cpu=8, gpu=0; cpu=2, gpu=1" in why
    assert unsatisfiable({"cpu": 1.0}, []) == (
        "the Ray cluster has no live node to run datums asking for cpu=1"
    )


# --- a Ray worker's workspace, without a cluster -------------------------------------------


def test_workspaces_of_dead_workers_are_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from loxo.execution import ray_workspace

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    records = ray_workspace.records_dir()
    records.mkdir(mode=0o700)
    dead = subprocess.Popen(["true"])
    dead.wait()
    mine, alien, live = (
        tmp_path / "loxo-worker-dead",
        tmp_path / "not-ours",
        tmp_path / "loxo-worker-live",
    )
    for directory in (mine, alien, live):
        (directory / "pfs").mkdir(parents=True)
    (records / f"{dead.pid}.workspace").write_text(f"1 {mine}")
    (records / f"{dead.pid + 1}.workspace").write_text(f"1 {alien}")  # gone too, not ours
    me = os.getpid()
    (records / f"{me}.workspace").write_text(f"{ray_workspace.start_time(me)} {live}")
    ray_workspace._sweep()
    assert not mine.exists() and alien.exists() and live.exists()
    assert sorted(p.name for p in records.iterdir()) == [f"{me}.workspace"]


def test_the_board_keeps_a_slots_sets_in_the_order_they_were_handed_out() -> None:
    """Ray may run an async actor's calls out of the order one caller made them: the
    board sorts what is put with an order, ahead of the rest (kept in arrival order)."""
    import asyncio

    from loxo.execution.ray_board import Board

    async def scenario() -> list[list[object]]:
        board = Board()
        await board.put("slot", ("set", "k2"), 2)  # arrived first, handed out second
        await board.put("slot", ("stop",))
        await board.put("slot", ("set", "k1"), 1)
        await board.put_all("slot", [("late",)])
        first = await board.take("slot", 0, 0.0, 1)
        assert await board.retract("slot", "k2")
        return [first, await board.take("slot", 0)]

    assert asyncio.run(scenario()) == [[("set", "k1")], [("stop",), ("late",)]]


def test_a_slot_gives_its_next_set_back_only_until_it_starts_it(ray_cluster: RayCluster) -> None:
    """:class:`~loxo.execution.ray_next.NextSet` on a real board: the next set is taken
    ahead; asked back before it starts (held, or still on its way) it is given back with a
    ``withdrawn`` report; once started it is not; idle, the slot ends with no take left
    outstanding (a set handed to it then stays on the board)."""
    import ray

    from loxo.execution.ray_board import Board
    from loxo.execution.ray_next import NextSet

    board = ray.remote(Board).options(num_cpus=0).remote()

    def hand(slot: str, key: str, order: int) -> None:
        ray.get(board.put.remote(slot, ("set", key, None, {}, "reports", {}, []), order))

    def reports() -> list[object]:
        return list(ray.get(board.take.remote("reports", 10.0, 0.2)))

    slot = NextSet(board, "slot", idle=30.0)
    hand("slot", "k1", 1)
    hand("slot", "k2", 2)
    item = slot.take()  # k1 runs; meanwhile the slot's thread takes k2
    assert item is not None and item[1] == "k1"
    slot.give_back("k1")  # started: not given back
    slot.give_back("k2")  # held (or on its way): given back
    assert reports() == [("k2", "withdrawn")]
    slot.give_back("k3")  # asked back before it even reached the board
    hand("slot", "k3", 3)
    hand("slot", "k4", 4)
    item = slot.take()
    assert item is not None and item[1] == "k4"
    assert reports() == [("k3", "withdrawn")]
    ray.get(board.put.remote("slot", ("stop",)))
    assert slot.take() is None

    idle = NextSet(board, "idle", idle=0.5)
    start = time.monotonic()
    assert idle.take() is None and time.monotonic() - start >= 0.5
    hand("idle", "k5", 5)
    time.sleep(0.5)
    assert [x[1] for x in ray.get(board.take.remote("idle", 0))] == ["k5"]
    ray.kill(board)
