"""Local workers inside their own sandbox: commands run with no agent in between, Python
sets in workers outside, scratch directories never left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loxo.execution import sandbox
from loxo.execution.local import LocalExecutor
from loxo.execution.sandbox_worker import OWNER, PREFIX
from loxo.execution.task import DatumState, Transform
from loxo.execution.workspace import Workspace, WorkspaceLost
from loxo.storage.local import LocalStore

from .builders import Datums, by_id, lines, live_processes_matching, wait_sandboxes_gone

PY = "tests.execution.pyfuncs"


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ok, why = sandbox.probe()
    if not ok:
        pytest.skip(f"no bubblewrap sandbox here: {why}")
    monkeypatch.setenv("LOXO_SANDBOX", "1")
    monkeypatch.setenv("LOXO_SCRATCH", str(tmp_path / "scratch"))
    return tmp_path / "scratch"


@pytest.fixture
def d(tmp_path: Path) -> Datums:
    return Datums(LocalStore(tmp_path / "store"), tmp_path)


@pytest.fixture
def one_worker(scratch: Path) -> Iterator[LocalExecutor]:
    with LocalExecutor(workers=1) as ex:
        yield ex
    wait_sandboxes_gone(scratch)
    assert list(scratch.iterdir()) == []  # every worker's scratch directory is gone


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def test_commands_run_in_a_worker_inside_its_sandbox(one_worker: LocalExecutor, d: Datums) -> None:
    # the command's parent is the worker itself (pid 2 of the sandbox's PID namespace: a
    # forked child of the interpreter bubblewrap starts as pid 1), and /pfs is the
    # worker's own
    t = Transform(
        cmd=("sh", "-c", 'echo "$PPID $(cat /proc/$PPID/comm)" > /pfs/out/$PACH_DATUM_ID')
    )
    rs = by_id(one_worker.run([d.set(t, [d.simple("d1"), d.simple("d2")])]))
    [pid] = one_worker.worker_pids()
    argv = cmdline(pid)
    assert os.path.basename(argv[0]) == "bwrap" and any(
        "sandbox_worker import boot" in a for a in argv
    )
    for datum in ("d1", "d2"):
        r = rs[datum]
        assert r.state == DatumState.SUCCESS, r.error
        assert d.output(r)[f"/{datum}"].split() == [b"2", b"python"]
        assert r.worker.endswith(f":{pid}")  # named by a pid that means something outside


def test_a_contained_command_leads_its_own_group_in_the_workers_session(
    one_worker: LocalExecutor, d: Datums
) -> None:
    # a group of its own, so the group dies with it; no session of its own, which the
    # sandbox (a session without a terminal) makes needless
    t = Transform(
        cmd=("sh", "-c", "cut -d' ' -f5,6 /proc/$$/stat > /pfs/out/ids; echo $$ >> /pfs/out/ids")
    )
    [r] = one_worker.run([d.set(t, [d.simple("d1")])])
    assert r.state == DatumState.SUCCESS, r.error
    (pgrp, sid), (pid,) = (line.split() for line in d.output(r)["/ids"].decode().splitlines())
    assert pgrp == pid
    assert sid == "0"  # led by bubblewrap, outside the sandbox's PID namespace


def test_what_a_command_leaves_running_is_the_workers_to_kill_and_reap(
    one_worker: LocalExecutor, d: Datums
) -> None:
    # an orphan of the command is adopted by the worker (its subreaper, pid 2), not by
    # bubblewrap's init, so "no child left" tells the worker nothing is; what is left is
    # killed and reaped: no zombie of an earlier datum lingers in the sandbox
    token = f"{time.time_ns() % 10**9}"
    leave = f"(setsid sleep 60.{token} > /dev/null 2>&1 < /dev/null &); sleep 0.2; "
    adopter = (
        f"for s in /proc/[0-9]*/cmdline; do if grep -q 60.{token} $s 2>/dev/null; then "
        'grep PPid "${s%/cmdline}/status" | cut -f2 > /pfs/out/ppid; fi; done; '
    )
    zombies = "cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z ' > /pfs/out/zombies; "
    t = Transform(cmd=("sh", "-c", leave + adopter + zombies + "true"))
    rs = by_id(one_worker.run([d.set(t, [d.simple(f"d{i}") for i in range(3)])]))
    for i in range(3):
        r = rs[f"d{i}"]
        assert r.state == DatumState.SUCCESS, r.error
        out = d.output(r)
        assert out["/ppid"] == b"2\n"  # the worker's pid in the sandbox
        assert out["/zombies"] == b"0\n"  # the earlier datums' daemons were reaped
    assert live_processes_matching(f"sleep 60.{token}") == []


def test_python_sets_and_command_sets_take_turns_in_one_slot(
    one_worker: LocalExecutor, d: Datums
) -> None:
    cmd = Transform(cmd=("sh", "-c", "echo $$ > /pfs/out/$PACH_DATUM_ID"))
    py = Transform(python=f"{PY}:whoami")
    [a] = one_worker.run([d.set(cmd, [d.simple("c1")])])
    [sandboxed] = one_worker.worker_pids()
    [b] = one_worker.run([d.set(py, [d.simple("p1")])])
    [outside] = one_worker.worker_pids()
    assert "bwrap" not in cmdline(outside)[0]
    [c] = one_worker.run([d.set(cmd, [d.simple("c2")])])
    assert all(r.state == DatumState.SUCCESS for r in (a, b, c)), [a.error, b.error, c.error]
    assert outside != sandboxed
    assert not Path(f"/proc/{sandboxed}").exists()  # retired to make room
    assert d.output(b)["/p1.txt"].split()[0] == str(outside).encode()  # its real pid


def test_a_datum_that_kills_its_worker_is_charged_and_the_rest_runs(
    one_worker: LocalExecutor, d: Datums
) -> None:
    t = Transform(
        cmd=("sh", "-c", '[ "$PACH_DATUM_ID" = bad ] && kill -9 $PPID; echo ok > /pfs/out/x')
    )
    tasks = [d.simple("good1"), d.simple("bad"), d.simple("good2")]
    rs = by_id(one_worker.run([d.set(t, tasks, datum_tries=2)]))
    assert {k: (r.state, r.attempts) for k, r in rs.items()} == {
        "good1": (DatumState.SUCCESS, 1),
        "bad": (DatumState.FAILED, 2),
        "good2": (DatumState.SUCCESS, 1),
    }
    assert rs["bad"].error == "worker process died (killed by signal SIGKILL)"
    assert "attempt 1 of 2 failed: worker process died (killed by signal SIGKILL)" in lines(
        rs["bad"], "system"
    )


def test_scratch_of_a_killed_parent_is_removed_by_the_next(scratch: Path, tmp_path: Path) -> None:
    # a parent killed outright leaves its worker's directory; the next parent's first
    # sandboxed worker removes it (and leaves other directories alone)
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path.cwd())!r})
        from loxo.execution.local import LocalExecutor
        from loxo.storage.local import LocalStore
        from tests.execution.builders import Datums, sh
        from pathlib import Path
        d = Datums(LocalStore(Path({str(tmp_path / "store")!r})), Path({str(tmp_path)!r}))
        ex = LocalExecutor(workers=1)
        list(ex.run([d.set(sh("true"), [d.simple("d1")])]))
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        [left] = [p for p in scratch.iterdir() if p.name.startswith(PREFIX)]
        assert (left / OWNER).read_text().split()[0] == str(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    end = time.monotonic() + 5  # its bwrap dies with it (--die-with-parent)
    while live_processes_matching(str(left)):
        assert time.monotonic() < end, "the sandboxed worker outlived its parent"
        time.sleep(0.05)
    assert left.exists()
    other = scratch / f"{PREFIX}not-a-sandboxed-one"
    other.mkdir()
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    with LocalExecutor(workers=1) as ex:
        [r] = ex.run([d.set(Transform(cmd=("true",)), [d.simple("d2")])])
        assert r.state == DatumState.SUCCESS
        assert not left.exists() and other.exists()


def test_a_bound_workspace_is_mended_in_place_or_lost(tmp_path: Path) -> None:
    pfs = tmp_path / "pfs"
    pfs.mkdir()
    ws = Workspace(bound=str(pfs))
    with ws.datum(["in"]) as root:
        assert root == tmp_path and sorted(os.listdir(pfs)) == ["in", "out"]
        locked = pfs / "out" / "locked"
        (locked / "deep").mkdir(parents=True)
        (locked / "deep" / "f").write_text("x")
        locked.chmod(0o500)  # user code made a directory the cleanup cannot enter
        pfs.chmod(0o700)
    with ws.datum(["other"]) as root:
        assert sorted(os.listdir(pfs)) == ["other", "out"] and not ws.lost
        assert os.listdir(pfs / "out") == []
    os.rmdir(pfs / "other")
    os.rmdir(pfs / "out")
    os.rmdir(pfs)  # gone for good (a worker inside cannot make another bind)
    with pytest.raises(WorkspaceLost), ws.datum(["in"]):
        pass
    assert ws.lost
    ws.close()  # a bound workspace is never removed by its worker
    assert tmp_path.exists()


def test_the_sandboxed_worker_is_replaced_when_its_pfs_is_lost(
    one_worker: LocalExecutor, d: Datums, scratch: Path
) -> None:
    # something outside the sandbox removes the worker's /pfs while a datum runs (user
    # code cannot: the host path is out of its sight): the datum fails, and the worker
    # ends (it cannot make another bind); the next datum runs in a new one
    [first] = one_worker.run([d.set(Transform(cmd=("true",)), [d.simple("d0")])])
    [pid] = one_worker.worker_pids()
    [host] = [p for p in scratch.iterdir() if p.name.startswith(PREFIX)]
    script = '[ "$PACH_DATUM_ID" = d1 ] && { : > /pfs/out/go; sleep 2; }; echo ok > /pfs/out/x'
    t = Transform(cmd=("sh", "-c", script))

    def remove() -> None:
        deadline = time.monotonic() + 30
        while not (host / "pfs" / "out" / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        subprocess.run(["rm", "-rf", str(host / "pfs")], check=True)

    remover = threading.Thread(target=remove)
    remover.start()
    rs = by_id(one_worker.run([d.set(t, [d.simple("d1"), d.simple("d2")], datum_tries=1)]))
    remover.join()
    assert first.state == DatumState.SUCCESS
    assert (rs["d1"].state, rs["d1"].attempts) == (DatumState.FAILED, 1)
    assert rs["d1"].error == "exit code 2"  # sh: cannot create /pfs/out/x
    assert rs["d2"].state == DatumState.SUCCESS, rs["d2"].error
    assert d.output(rs["d2"]) == {"/x": b"ok\n"}
    assert rs["d2"].worker != rs["d1"].worker and pid not in one_worker.worker_pids()
    assert not host.exists()  # removed by the parent once its worker ended
