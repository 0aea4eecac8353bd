"""The inline and local executors against the shared contract, plus local-only behaviour."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loxo.errors import InvalidArgumentError
from loxo.execution.executor import ExecutorClosed
from loxo.execution.inline import InlineExecutor
from loxo.execution.local import LocalExecutor
from loxo.execution.pool import mp_context, start_worker
from loxo.execution.task import DatumState, Transform
from loxo.storage.memory import MemoryStore

from .builders import (
    Background,
    Datums,
    by_id,
    lines,
    live_processes_matching,
    sh,
    wait_for,
    wait_glob,
    wait_no_descendants,
)
from .contract import PY, ExecutorContract


class TestInlineExecutor(ExecutorContract):
    @pytest.fixture
    def executor(self) -> Iterator[InlineExecutor]:
        with InlineExecutor() as ex:
            yield ex


class TestLocalExecutor(ExecutorContract):
    @pytest.fixture
    def executor(self) -> Iterator[LocalExecutor]:
        with LocalExecutor(workers=3) as ex:
            yield ex
        wait_no_descendants()

    def test_sets_run_in_parallel(self, executor: LocalExecutor, d: Datums) -> None:
        warm = [d.set(sh("true"), [d.simple(f"w{i}")]) for i in range(2)]
        assert len(list(executor.run(warm, parallelism=2))) == 2
        assert len(executor.worker_pids()) == 2
        sleep = [d.set(sh("sleep 0.5"), [d.simple(f"s{i}")]) for i in range(2)]
        start = time.monotonic()
        assert len(list(executor.run(sleep, parallelism=2))) == 2
        assert time.monotonic() - start < 0.9
        start = time.monotonic()
        assert len(list(executor.run(sleep, parallelism=1))) == 2
        assert time.monotonic() - start >= 1.0

    def test_killed_worker_is_replaced_and_its_set_retried(
        self, executor: LocalExecutor, d: Datums, tmp_path: Path
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
        victim = int(wait_for(tmp_path / "pid-d1"))
        os.kill(victim, signal.SIGKILL)
        run.join(15)
        rs = by_id(run.results)  # exactly one result per datum
        assert set(rs) == {"d0", "d1", "d2"}
        assert all(r.state == DatumState.SUCCESS for r in rs.values())
        assert rs["d1"].attempts == 2
        assert any(
            "worker process died (killed by signal SIGKILL)" in x.line for x in rs["d1"].logs
        )
        assert d.output(rs["d1"])["/d1"].decode() != str(victim)
        assert victim not in executor.worker_pids()

    @pytest.mark.parametrize("layout", ["fallback", "sandbox"], indirect=True)
    def test_worker_death_under_a_command_charges_its_datum_and_kills_its_group(
        self,
        executor: LocalExecutor,
        d: Datums,
        tmp_path: Path,
        layout: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # which datum runs, and its command's process group, the parent reads from the
        # worker's shared-memory slot: no message tells it (a worker inside its sandbox
        # records no group: everything in the sandbox dies with it)
        # (the sandbox shows the working directory read-only: the test's flag is seen there)
        script = (
            'if [ "$PACH_DATUM_ID" = d1 ] && [ ! -e "$FLAG" ]; then '
            "sleep 30 & echo $! > /pfs/out/sleeper; wait; fi; echo ok > /pfs/out/$PACH_DATUM_ID"
        )
        monkeypatch.chdir(tmp_path)
        env = (("FLAG", str(tmp_path / "flag")),)
        tasks = [d.simple("d0"), d.simple("d1"), d.simple("d2")]
        run = Background(executor, [d.set(sh(script, env=env), tasks, datum_tries=2)])
        wait_glob(tmp_path / "scratch", "*/pfs/out/sleeper")
        [found] = (tmp_path / "scratch").glob("*/pfs/out/sleeper")
        sleeper = int(wait_for(found))
        (tmp_path / "flag").touch()
        [worker] = executor.worker_pids()
        os.kill(worker, signal.SIGKILL)
        run.join(15)
        rs = by_id(run.results)
        assert {k: (r.state, r.attempts) for k, r in rs.items()} == {
            "d0": (DatumState.SUCCESS, 1),
            "d1": (DatumState.SUCCESS, 2),
            "d2": (DatumState.SUCCESS, 1),
        }
        assert "attempt 1 of 2 failed: worker process died (killed by signal SIGKILL)" in lines(
            rs["d1"], "system"
        )
        end = time.monotonic() + 5  # the command's group died with its worker
        while sleeper in live_processes_matching("sleep 30"):
            assert time.monotonic() < end, "the command's process group outlived its worker"
            time.sleep(0.02)

    def test_a_datum_that_always_kills_its_worker_fails(
        self, executor: LocalExecutor, d: Datums
    ) -> None:
        t = Transform(python=f"{PY}:die")
        [r] = executor.run([d.set(t, [d.simple("d1")], datum_tries=2)])
        assert (r.state, r.attempts) == (DatumState.FAILED, 2)
        assert r.error == "worker process died (killed by signal SIGKILL)"

    def test_a_worker_is_free_for_its_next_set_before_its_results_are_in(self, d: Datums) -> None:
        # the real worker protocol: "idle" once every datum of a set has run (the parent
        # sends the next set then), while the set's results are made durable; they follow,
        # then the set's "done", and only then the next set's results
        w = start_worker(mp_context(None))
        seen: list[str] = []

        def until(kind: str) -> None:
            while True:
                assert w.conn.poll(30), f"no {kind!r} from the worker (after {seen})"
                msg = w.conn.recv()
                if msg[0] == "results":
                    seen.extend(r.datum_id for r in msg[1])
                elif msg[0] in ("idle", "done"):
                    seen.append(msg[0])
                if msg[0] == kind:
                    return

        t = sh("echo $PACH_DATUM_ID > /pfs/out/$PACH_DATUM_ID")
        try:
            until("ready")
            w.conn.send(("set", 0, d.set(t, [d.simple("a1"), d.simple("a2")]), {}))
            until("idle")
            w.conn.send(("set", 1, d.set(t, [d.simple("b1")]), {}))
            until("done")
            until("done")
        finally:
            w.conn.send(("stop",))
            w.proc.join(10)
        first_done = seen.index("done")
        assert seen.index("idle") < first_done
        assert sorted(x for x in seen[:first_done] if x != "idle") == ["a1", "a2"]
        assert [x for x in seen[first_done + 1 :] if x != "idle"] == ["b1", "done"]
        assert seen.count("idle") == 2
        assert w.proc.exitcode == 0

    def test_a_worker_dying_as_its_next_set_starts_loses_no_result_of_the_last(
        self, d: Datums, tmp_path: Path
    ) -> None:
        # the worker takes set 2 as soon as set 1's datums have run and dies at once in it,
        # most often before set 1's results are in: those come again (from a rerun), once
        t = Transform(python=f"{PY}:die_once", env=(("MARKER", str(tmp_path / "m")),))
        first = d.set(t, [d.simple(f"a{i}") for i in range(3)])
        second = d.set(t, [d.simple("die"), d.simple("b")], datum_tries=2)
        with LocalExecutor(workers=1) as ex:
            results = list(ex.run([first, second], parallelism=1))
        rs = by_id(results)
        assert len(results) == 5
        assert {k: (r.state, r.attempts) for k, r in rs.items()} == {
            "a0": (DatumState.SUCCESS, 1),
            "a1": (DatumState.SUCCESS, 1),
            "a2": (DatumState.SUCCESS, 1),
            "die": (DatumState.SUCCESS, 2),
            "b": (DatumState.SUCCESS, 1),
        }
        assert all(d.output(r) == {f"/{k}": k.encode()} for k, r in rs.items())

    def test_the_last_set_of_a_run_is_shared_by_the_workers_that_are_free(
        self, executor: LocalExecutor, d: Datums
    ) -> None:
        # every set submitted: the last one queued goes out in shares (1 / parallelism of
        # what is left), so both workers end with it instead of one running it all
        slow = [d.set(sh("sleep 0.4"), [d.simple(f"s{i}")]) for i in range(2)]
        tail = d.set(sh("sleep 0.02; echo $PACH_DATUM_ID > /pfs/out/x"), [
            d.simple(f"t{i:02d}") for i in range(20)
        ])  # fmt: skip
        results = list(executor.run([*slow, tail], parallelism=2))
        rs = by_id(results)
        assert len(results) == 22 and all(r.state == DatumState.SUCCESS for r in results)
        assert all(d.output(rs[f"t{i:02d}"]) == {"/x": f"t{i:02d}\n".encode()} for i in range(20))
        assert len({rs[f"t{i:02d}"].worker for i in range(20)}) == 2

    def test_close_leaves_no_process_behind(self, d: Datums, tmp_path: Path) -> None:
        ex = LocalExecutor(workers=2)
        t = sh("touch /pfs/out/started; sleep 30")
        run = Background(ex, [d.set(t, [d.simple("d1")]), d.set(sh("true"), [d.simple("d2")])], 2)
        wait_glob(tmp_path / "scratch", "*/pfs/out/started")
        pids = ex.worker_pids()
        ex.close()
        with pytest.raises(ExecutorClosed):
            run.join(5)
        wait_no_descendants()
        assert all(not Path(f"/proc/{p}").exists() for p in pids)
        with pytest.raises(ExecutorClosed):
            list(ex.run([d.set(sh("true"), [d.simple("d3")])]))
        ex.close()  # idempotent

    def test_memory_store_rejected(self, executor: LocalExecutor, d: Datums) -> None:
        ts = d.set(sh("true"), [d.simple("d1")])
        ts = type(ts)(**{**ts.__dict__, "store_url": MemoryStore("x").url})
        with pytest.raises(InvalidArgumentError, match="in-process store"):
            list(executor.run([ts]))

    def test_no_fork_start_method(self) -> None:
        with pytest.raises(InvalidArgumentError, match="fork"):
            LocalExecutor(start_method="fork")

    def test_python_output_is_captured_at_the_fd_level(
        self, executor: LocalExecutor, d: Datums
    ) -> None:
        [r] = executor.run([d.set(Transform(python=f"{PY}:fd_output"), [d.simple("d1")])])
        assert r.state == DatumState.SUCCESS, r.error
        assert lines(r, "stdout") == ["raw stdout", "from a child process"]
        assert lines(r, "stderr") == ["raw stderr"]

    def test_python_output_without_newline_stays_with_its_datum(
        self, executor: LocalExecutor, d: Datums
    ) -> None:
        t = Transform(python=f"{PY}:unterminated")
        tasks = [d.simple("a"), d.simple("quiet"), d.simple("b")]
        rs = by_id(executor.run([d.set(t, tasks)]))
        assert lines(rs["a"], "stdout") == ["half a line from a"]
        assert lines(rs["quiet"], "stdout") == []
        assert lines(rs["b"], "stdout") == ["half a line from b"]
