"""The executor contract: behaviour every :class:`Executor` must share.

A pytest mixin. An executor's test class inherits :class:`ExecutorContract` and provides an
``executor`` fixture returning a fresh executor (closed by the fixture afterwards); every
test here then runs against it, over a real local object store. Tests marked with
``BOTH_LAYOUTS`` run twice: in the bubblewrap sandbox (skipped where bwrap does not work)
and in the fallback layout (``LOXO_SANDBOX=0``), so pipelines behave the same in both.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from loxo.execution import sandbox
from loxo.execution.executor import Executor
from loxo.execution.task import DatumState, Transform
from loxo.storage.blobs import PACK_PREFIX
from loxo.storage.local import LocalStore

from .builders import (
    Background,
    Datums,
    by_id,
    lines,
    live_processes_matching,
    sh,
    wait_for,
    wait_glob,
)

BOTH_LAYOUTS = pytest.mark.parametrize("layout", ["sandbox", "fallback"], indirect=True)
PY = "tests.execution.pyfuncs"


class ExecutorContract:
    """Subclasses provide an ``executor`` fixture."""

    @pytest.fixture(autouse=True)
    def layout(self, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
        """Pins the sandbox mode before the executor (and its workers) start."""
        mode = getattr(request, "param", "default")
        if mode == "sandbox":
            ok, why = sandbox.probe()
            if not ok:
                pytest.skip(f"no bubblewrap sandbox here: {why}")
            monkeypatch.setenv("LOXO_SANDBOX", "1")
        elif mode == "fallback":
            monkeypatch.setenv("LOXO_SANDBOX", "0")
        else:
            monkeypatch.delenv("LOXO_SANDBOX", raising=False)
        monkeypatch.setenv("LOXO_SCRATCH", str(request.getfixturevalue("tmp_path") / "scratch"))
        return str(mode)

    @pytest.fixture
    def d(self, tmp_path: Path) -> Datums:
        return Datums(LocalStore(tmp_path / "store"), tmp_path)

    # --- commands ------------------------------------------------------------------------

    @BOTH_LAYOUTS
    def test_command_copies_input_to_output(self, executor: Executor, d: Datums) -> None:
        ts = d.set(Transform(cmd=("cp", "/pfs/in/a.txt", "/pfs/out/b.txt")), [d.simple("d1")])
        [r] = executor.run([ts])
        assert (r.state, r.error, r.attempts) == (DatumState.SUCCESS, "", 1)
        assert d.output(r) == {"/b.txt": b"hello\n"}
        assert (r.output_files, r.upload_bytes, r.download_bytes) == (1, 6, 6)
        assert r.job_id == "job1" and r.worker and r.started <= r.finished

    @BOTH_LAYOUTS
    def test_environment(self, executor: Executor, d: Datums, layout: str) -> None:
        ts = d.set(
            sh('env > /pfs/out/env; cat "$in" > /pfs/out/via-var', env=(("FOO", "bar"),)),
            [d.simple("d1")],
        )
        [r] = executor.run([ts])
        assert r.state == DatumState.SUCCESS, r.error
        out = d.output(r)
        env = dict(x.split("=", 1) for x in out["/env"].decode().splitlines() if "=" in x)
        assert env["PACH_DATUM_ID"] == "d1"
        assert env["PACH_JOB_ID"] == "job1"
        assert env["PPS_PIPELINE_NAME"] == "pipe"
        assert env["FOO"] == "bar"
        assert env["in_COMMIT"] == "c0ffee"
        if layout == "sandbox":
            assert env["LOXO_PFS"] == "/pfs"
            assert env["in"] == "/pfs/in/a.txt"
        else:
            assert env["LOXO_PFS"].endswith("/pfs") and env["LOXO_PFS"] != "/pfs"
            assert env["in"] == env["LOXO_PFS"] + "/in/a.txt"
        assert out["/via-var"] == b"hello\n"

    @BOTH_LAYOUTS
    def test_stdin(self, executor: Executor, d: Datums) -> None:
        t = Transform(cmd=("sh",), stdin=("cat /pfs/in/a.txt > /pfs/out/a", "echo fed"))
        [r] = executor.run([d.set(t, [d.simple("d1")])])
        assert r.state == DatumState.SUCCESS, r.error
        assert d.output(r) == {"/a": b"hello\n"}
        assert lines(r, "stdout") == ["fed"]

    def test_output_and_logs_of_each_attempt(self, executor: Executor, d: Datums) -> None:
        t = sh("echo out-$PACH_DATUM_ID; echo err >&2; echo partial > /pfs/out/x; exit 3")
        [r] = executor.run([d.set(t, [d.simple("d1")], datum_tries=3)])
        assert (r.state, r.attempts, r.error) == (DatumState.FAILED, 3, "exit code 3")
        assert lines(r, "stdout") == ["out-d1"] * 3
        assert lines(r, "stderr") == ["err"] * 3
        assert [x for x in lines(r, "system") if "failed" in x] == [
            f"attempt {n} of 3 failed: exit code 3" for n in (1, 2, 3)
        ]
        assert r.output_root is None and d.output(r) == {}

    @BOTH_LAYOUTS
    def test_output_larger_than_a_pipe_is_all_logged(
        self, executor: Executor, d: Datums, layout: str
    ) -> None:
        t = sh("seq 30000; printf 'last, unterminated' >&2")  # 169 kB on stdout
        [r] = executor.run([d.set(t, [d.simple("d1")])])
        assert r.state == DatumState.SUCCESS, r.error
        assert lines(r, "stdout") == [str(i) for i in range(1, 30001)]
        assert lines(r, "stderr") == ["last, unterminated"]

    def test_accept_return_code(self, executor: Executor, d: Datums) -> None:
        t = sh("echo x > /pfs/out/x; exit 3", accept_return_code=(3,))
        [r] = executor.run([d.set(t, [d.simple("d1")])])
        assert (r.state, r.attempts) == (DatumState.SUCCESS, 1)
        assert d.output(r) == {"/x": b"x\n"}

    def test_err_cmd_recovers(self, executor: Executor, d: Datums) -> None:
        recovering = sh("echo x > /pfs/out/x; exit 1", err_cmd=("sh",), err_stdin=("exit 0",))
        failing = sh("exit 1", err_cmd=("sh", "-c", "exit 2"))
        rs = by_id(
            executor.run(
                [
                    d.set(recovering, [d.simple("ok")], datum_tries=2),
                    d.set(failing, [d.simple("bad")], datum_tries=1),
                ]
            )
        )
        assert (rs["ok"].state, rs["ok"].attempts) == (DatumState.RECOVERED, 2)
        assert rs["ok"].output_root is None
        assert (rs["bad"].state, rs["bad"].error) == (DatumState.FAILED, "exit code 1")
        assert "err_cmd failed: exit code 2" in lines(rs["bad"], "system")

    @BOTH_LAYOUTS
    def test_timeout_kills_the_process_group(self, executor: Executor, d: Datums) -> None:
        token = f"{time.time_ns() % 10**9}"  # a unique argument to find the grandchild by
        t = sh(f"sleep 100.{token} & echo started; wait")
        start = time.monotonic()
        [r] = executor.run([d.set(t, [d.simple("d1")], datum_tries=1, datum_timeout=0.5)])
        assert time.monotonic() - start < 5
        assert (r.state, r.error) == (DatumState.FAILED, "timed out after 0.5s")
        assert lines(r, "stdout") == ["started"]
        assert live_processes_matching(f"sleep 100.{token}") == []

    def test_missing_program(self, executor: Executor, d: Datums) -> None:
        t = Transform(cmd=("no-such-program-loxo",))
        [r] = executor.run([d.set(t, [d.simple("d1")], datum_tries=1)])
        assert r.state == DatumState.FAILED
        assert "no-such-program-loxo" in r.error + " ".join(lines(r))

    @BOTH_LAYOUTS
    def test_the_pipelines_path_finds_its_programs(
        self, executor: Executor, d: Datums, tmp_path: Path
    ) -> None:
        # looked up on transform.env's PATH, as the command's own environment says,
        # datum after datum (the lookup is remembered per PATH)
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        (bin_dir / "loxo-hello").write_text('#!/bin/sh\necho hello > "$LOXO_PFS/out/$1"\n')
        (bin_dir / "loxo-hello").chmod(0o755)
        path = f"{bin_dir}:{os.environ['PATH']}"
        t = Transform(cmd=("loxo-hello", "x"), env=(("PATH", path),))
        rs = by_id(executor.run([d.set(t, [d.simple("d1"), d.simple("d2")])]))
        assert all(r.state == DatumState.SUCCESS for r in rs.values()), rs
        assert all(d.output(r) == {"/x": b"hello\n"} for r in rs.values())
        [r] = executor.run([d.set(Transform(cmd=("loxo-hello", "x")), [d.simple("d3")])])
        assert r.state == DatumState.FAILED and "loxo-hello" in r.error + " ".join(lines(r))

    def test_a_remembered_program_that_is_gone_is_looked_up_again(
        self, executor: Executor, d: Datums, tmp_path: Path
    ) -> None:
        dirs = [tmp_path / "bin1", tmp_path / "bin2"]
        for bin_dir in dirs:
            bin_dir.mkdir()
            script = bin_dir / "loxo-where"
            script.write_text(f'#!/bin/sh\necho {bin_dir.name} > "$LOXO_PFS/out/where"\n')
            script.chmod(0o755)
        path = ":".join([*map(str, dirs), os.environ["PATH"]])
        t = Transform(cmd=("loxo-where",), env=(("PATH", path),))
        [first] = executor.run([d.set(t, [d.simple("d1")])])
        (dirs[0] / "loxo-where").unlink()
        [second] = executor.run([d.set(t, [d.simple("d2")])])
        assert [first.state, second.state] == [DatumState.SUCCESS] * 2, [first, second]
        assert [d.output(r)["/where"] for r in (first, second)] == [b"bin1\n", b"bin2\n"]

    @BOTH_LAYOUTS
    def test_working_dir(self, executor: Executor, d: Datums) -> None:
        t = sh("pwd > /pfs/out/pwd; cat a.txt > /pfs/out/a", working_dir="/pfs/in")
        [r] = executor.run([d.set(t, [d.simple("d1")])])
        assert r.state == DatumState.SUCCESS, r.error
        out = d.output(r)
        assert out["/pwd"].decode().strip().endswith("/pfs/in")
        assert out["/a"] == b"hello\n"

    @BOTH_LAYOUTS
    def test_sandboxed_pfs(self, executor: Executor, d: Datums, layout: str) -> None:
        t = sh("ls /pfs; cat /pfs/in/a.txt > /pfs/out/a; echo $LOXO_PFS")
        [r] = executor.run([d.set(t, [d.simple("d1")])])
        assert r.state == DatumState.SUCCESS, r.error
        assert d.output(r) == {"/a": b"hello\n"}
        *listing, pfs = lines(r, "stdout")
        assert listing == ["in", "out"]
        assert (pfs == "/pfs") == (layout == "sandbox")

    @BOTH_LAYOUTS
    @pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
    def test_user(self, executor: Executor, d: Datums, monkeypatch: pytest.MonkeyPatch) -> None:
        scratch = tempfile.mkdtemp(prefix="loxo-test-")  # pytest's tmp_path is private
        os.chmod(scratch, 0o755)
        monkeypatch.setenv("LOXO_SCRATCH", scratch)
        t = sh("id -u > /pfs/out/uid; cat /pfs/in/a.txt > /pfs/out/a", user="nobody")
        [r] = executor.run([d.set(t, [d.simple("d1")])])
        assert r.state == DatumState.SUCCESS, (r.error, r.logs)
        assert d.output(r) == {"/uid": b"65534\n", "/a": b"hello\n"}
        shutil.rmtree(scratch)

    # --- inputs and outputs --------------------------------------------------------------

    @BOTH_LAYOUTS
    def test_directory_datum_materialises_the_subtree(self, executor: Executor, d: Datums) -> None:
        files = {"/dir/a": b"A", "/dir/sub/b": b"B", "/dir/sub/deeper/c": b"C"}
        task = d.task("d1", d.input("in", "/dir", files))
        [r] = executor.run([d.set(sh('cp -r "$in" /pfs/out/copy'), [task])])
        assert r.state == DatumState.SUCCESS, r.error
        assert d.output(r) == {"/copy/a": b"A", "/copy/sub/b": b"B", "/copy/sub/deeper/c": b"C"}

    def test_empty_files(self, executor: Executor, d: Datums) -> None:
        task = d.task("d1", d.input("in", "/a.txt", {"/a.txt": b"content"}, empty_files=True))
        [r] = executor.run([d.set(sh('wc -c < "$in" > /pfs/out/size'), [task])])
        assert r.state == DatumState.SUCCESS, r.error
        assert d.output(r)["/size"].strip() == b"0"
        assert r.download_bytes == 0

    def test_two_inputs(self, executor: Executor, d: Datums) -> None:
        task = d.task(
            "d1",
            d.input("left", "/l.txt", {"/l.txt": b"L"}),
            d.input("right", "/r/x.txt", {"/r/x.txt": b"R"}),
        )
        [r] = executor.run([d.set(sh('cat "$left" "$right" > /pfs/out/both'), [task])])
        assert d.output(r) == {"/both": b"LR"}

    @BOTH_LAYOUTS
    def test_symlink_out_of_the_output_fails(self, executor: Executor, d: Datums) -> None:
        t = sh("echo x > /pfs/out/ok; ln -s /etc/hostname /pfs/out/x")
        [r] = executor.run([d.set(t, [d.simple("d1")], datum_tries=1)])
        assert r.state == DatumState.FAILED
        assert r.error == (
            "symlink /pfs/out/x points outside /pfs/out and the datum's inputs "
            "(to /etc/hostname): copy what it needs instead"
        )

    @BOTH_LAYOUTS
    def test_symlinks_to_the_inputs_are_stored_by_reference(
        self, executor: Executor, d: Datums
    ) -> None:
        """The zero-copy idiom ``ln -s /pfs/<input>/path /pfs/out/path``: the output's
        entries are the inputs' own (size, hash, chunk refs); nothing is uploaded."""
        big = os.urandom(3 << 20)
        task = d.task(
            "d1",
            d.input("in", "/a.bin", {"/a.bin": big}),
            d.input("dir", "/d", {"/d/x": b"X", "/d/y/z": b"Z"}),
        )
        before = {o.key for o in d.store.list(PACK_PREFIX)}
        t = sh(
            "ln -s /pfs/in/a.bin /pfs/out/abs; mkdir /pfs/out/sub; "
            'ln -s ../../in/a.bin /pfs/out/sub/rel; ln -s abs /pfs/out/chain; ln -s "$dir" '
            "/pfs/out/tree; ln -s /pfs/dir/d/y/z /pfs/out/z"
        )
        [r] = executor.run([d.set(t, [task], datum_tries=1)])
        assert r.state == DatumState.SUCCESS, r.error
        assert d.output(r) == {
            "/abs": big,
            "/chain": big,
            "/sub/rel": big,
            "/tree/x": b"X",
            "/tree/y/z": b"Z",
            "/z": b"Z",
        }
        entries = d.entries(r)
        [a], [x, z] = task.inputs[0].files, task.inputs[1].files
        for path, f in [("/abs", a), ("/chain", a), ("/sub/rel", a), ("/tree/x", x), ("/z", z)]:
            assert (entries[path].hash, entries[path].refs) == (f.hash, f.refs), path
        assert (r.output_files, r.upload_bytes) == (6, 0)
        assert {o.key for o in d.store.list(PACK_PREFIX)} == before  # no byte copied

    @BOTH_LAYOUTS
    @pytest.mark.parametrize(
        ("script", "error"),
        [
            ("ln -s /etc/passwd /pfs/out/x", "points outside /pfs/out and the datum's inputs"),
            ("ln -s /etc /pfs/out/x", "points outside /pfs/out and the datum's inputs (to /etc)"),
            ("ln -s /pfs /pfs/out/x", "points outside /pfs/out and the datum's inputs (to /pfs)"),
            (f"ln -s {'../' * 30}etc/passwd /pfs/out/x", "(to /etc/passwd)"),
            ("ln -s /etc/passwd /pfs/out/p; ln -s p /pfs/out/x", "points outside"),
            ("ln -s /pfs/in/nothing /pfs/out/x", "is dangling"),
            ("ln -s x /pfs/out/x", "has too many levels of links"),
            (  # inputs may be read-only: then the link is dangling
                "echo a > /pfs/in/new || true; ln -s /pfs/in/new /pfs/out/x",
                ("(user code added or replaced", "is dangling"),
            ),
            ("mkdir /pfs/out/d; ln -s d /pfs/out/x", "must point to a regular file inside"),
            (  # dangling where the worker's sandbox hides the host file
                "ln -s $HOST_FILE /pfs/out/x",
                ("points outside /pfs/out and the datum's inputs", "is dangling"),
            ),
        ],
    )
    def test_symlinks_to_anything_else_fail(
        self, executor: Executor, d: Datums, script: str, error: str | tuple[str, ...]
    ) -> None:
        host_file = d.tmp / "host-secret"
        host_file.write_text("not for the output")
        t = sh(script, env=(("HOST_FILE", str(host_file)),))
        [r] = executor.run([d.set(t, [d.simple("d1")], datum_tries=1)])
        assert r.state == DatumState.FAILED
        expected = (error,) if isinstance(error, str) else error
        assert r.error.startswith("symlink /pfs/out/"), r.error
        assert any(e in r.error for e in expected), r.error
        assert r.output_root is None

    @BOTH_LAYOUTS
    def test_symlink_inside_the_output_is_copied(self, executor: Executor, d: Datums) -> None:
        t = sh("echo x > /pfs/out/real; ln -s real /pfs/out/rel; ln -s /pfs/out/real /pfs/out/abs")
        [r] = executor.run([d.set(t, [d.simple("d1")], datum_tries=1)])
        assert r.state == DatumState.SUCCESS, r.error
        assert d.output(r) == {"/abs": b"x\n", "/real": b"x\n", "/rel": b"x\n"}

    # --- Python functions ----------------------------------------------------------------

    def test_python_function(self, executor: Executor, d: Datums) -> None:
        task = d.task(
            "d1",
            d.input("in", "/a.txt", {"/a.txt": b"A"}),
            d.input("dir", "/d", {"/d/x": b"X", "/d/y/z": b"Z"}),
        )
        [r] = executor.run([d.set(Transform(python=f"{PY}:copy"), [task])])
        assert r.state == DatumState.SUCCESS, (r.error, r.logs)
        assert d.output(r) == {"/a.txt": b"A", "/dir/x": b"X", "/dir/y/z": b"Z"}
        assert lines(r, "stdout") == ["copying in from in/a.txt", "copying dir from dir/d"]
        assert lines(r, "stderr") == ["done"]

    def test_python_symlinks_to_the_inputs(self, executor: Executor, d: Datums) -> None:
        task = d.task(
            "d1",
            d.input("in", "/a.txt", {"/a.txt": b"A"}),
            d.input("dir", "/d", {"/d/x": b"X"}),
        )
        [r] = executor.run([d.set(Transform(python=f"{PY}:link"), [task])])
        assert r.state == DatumState.SUCCESS, (r.error, r.logs)
        assert d.output(r) == {"/in": b"A", "/dir/x": b"X", "/rel": b"A"}
        assert d.entries(r)["/in"].refs == task.inputs[0].files[0].refs
        assert r.upload_bytes == 0
        [r] = executor.run([d.set(Transform(python=f"{PY}:link_host"), [task], datum_tries=1)])
        assert r.state == DatumState.FAILED
        assert r.error.startswith("symlink /pfs/out/passwd points outside /pfs/out and the")

    def test_python_environment(self, executor: Executor, d: Datums) -> None:
        t = Transform(python=f"{PY}:env", env=(("FOO", "bar"),))
        [r] = executor.run([d.set(t, [d.simple("d1")])])
        env = dict(x.split("=", 1) for x in d.output(r)["/env"].decode().splitlines())
        assert env["PACH_DATUM_ID"] == "d1" and env["FOO"] == "bar"
        assert env["LOXO_PFS"] == env["pfs"]
        assert env["in"] == env["pfs"] + "/in/a.txt"

    def test_python_exception(self, executor: Executor, d: Datums) -> None:
        t = Transform(python=f"{PY}:fail")
        [r] = executor.run([d.set(t, [d.simple("d1")], datum_tries=2)])
        assert (r.state, r.attempts) == (DatumState.FAILED, 2)
        assert r.error == "ValueError: boom in d1"
        assert lines(r, "stdout") == ["failing d1"] * 2
        stderr = lines(r, "stderr")
        assert stderr.count("Traceback (most recent call last):") == 2
        assert stderr[-1] == "ValueError: boom in d1"

    def test_python_import_error(self, executor: Executor, d: Datums) -> None:
        t = Transform(python="tests.execution.no_such_module:fn")
        [r] = executor.run([d.set(t, [d.simple("d1")], datum_tries=1)])
        assert r.state == DatumState.FAILED
        assert "No module named 'tests.execution.no_such_module'" in r.error

    def test_python_workers_stay_warm(self, executor: Executor, d: Datums) -> None:
        t = Transform(python=f"{PY}:whoami")
        sets = [d.set(t, [d.simple(f"s{s}d{i}") for i in range(4)]) for s in range(3)]
        results = list(executor.run(sets, parallelism=2))
        assert len(results) == 12
        seen: dict[str, set[str]] = {}
        for r in results:
            assert r.state == DatumState.SUCCESS, r.error
            pid, imports = d.output(r)[f"/{r.datum_id}.txt"].decode().split()
            seen.setdefault(pid, set()).add(imports)
            assert r.worker.endswith(f":{pid}")
        assert all(v == {"1"} for v in seen.values()), seen  # one import per worker process

    def test_python_timeout(self, executor: Executor, d: Datums) -> None:
        t = Transform(python=f"{PY}:sleepy")
        start = time.monotonic()
        ts = d.set(t, [d.simple("slow"), d.simple("fast")], datum_tries=1, datum_timeout=0.5)
        rs = by_id(executor.run([ts]))
        assert time.monotonic() - start < 5
        assert (rs["slow"].state, rs["slow"].error) == (DatumState.FAILED, "timed out after 0.5s")
        assert rs["fast"].state == DatumState.SUCCESS
        assert d.output(rs["fast"]) == {"/fast": b"awake"}

    # --- many datums, streaming ----------------------------------------------------------

    def test_many_datums(self, executor: Executor, d: Datums) -> None:
        t = sh('cp "$in" /pfs/out/$PACH_DATUM_ID')
        sets = [
            d.set(t, [d.simple(f"s{s}-{i}", f"{s}/{i}".encode()) for i in range(8)])
            for s in range(4)
        ]
        rs = by_id(executor.run(sets, parallelism=2))
        assert len(rs) == 32
        for s in range(4):
            for i in range(8):
                r = rs[f"s{s}-{i}"]
                assert d.output(r) == {f"/s{s}-{i}": f"{s}/{i}".encode()}

    def test_results_stream_as_datums_finish(self, executor: Executor, d: Datums) -> None:
        t = sh('if [ "$PACH_DATUM_ID" = slow ]; then sleep 1; fi')
        times = {}
        start = time.monotonic()
        for r in executor.run([d.set(t, [d.simple("quick"), d.simple("slow")])]):
            times[r.datum_id] = time.monotonic() - start
        assert times["slow"] - times["quick"] >= 0.7, times

    def test_empty_run(self, executor: Executor, d: Datums) -> None:
        assert list(executor.run([])) == []
        assert list(executor.run([d.set(sh("true"), [])])) == []

    # --- control -------------------------------------------------------------------------

    def test_restart_datum(self, executor: Executor, d: Datums, tmp_path: Path) -> None:
        # the sandbox hides the host's /tmp and shows /pfs/in read-only: the command
        # leaves its marker in /pfs/out, and the test, outside, one in the datum's input
        t = sh(
            "if [ -e /pfs/in/again ]; then echo again > /pfs/out/x; "
            "else echo first; touch /pfs/out/started; sleep 30; fi"
        )
        run = Background(executor, [d.set(t, [d.simple("d1")], datum_tries=2)])
        wait_glob(tmp_path / "scratch", "*/pfs/out/started")
        for started in (tmp_path / "scratch").glob("*/pfs/out/started"):
            (started.parent.parent / "in" / "again").touch()
        assert not executor.restart_datum("job1", "other")
        assert executor.restart_datum("job1", "d1")
        assert run.join(10) < 10
        [r] = run.results
        assert (r.state, r.attempts) == (DatumState.SUCCESS, 2)
        assert d.output(r) == {"/x": b"again\n"}
        assert "attempt 1 of 2 failed: restarted by request" in lines(r, "system")

    def test_restart_python_datum(self, executor: Executor, d: Datums, tmp_path: Path) -> None:
        t = Transform(
            python=f"{PY}:once_slow",
            env=(("MARKER", str(tmp_path / "m")), ("PIDFILE", str(tmp_path / "pid"))),
        )
        run = Background(executor, [d.set(t, [d.simple("d1")], datum_tries=2)])
        wait_for(tmp_path / "pid-d1")
        assert executor.restart_datum("job1", "d1")
        run.join(10)
        [r] = run.results
        assert (r.state, r.attempts) == (DatumState.SUCCESS, 2), (r.error, r.logs)

    def test_cancel_stops_the_job(self, executor: Executor, d: Datums, tmp_path: Path) -> None:
        token = f"{time.time_ns() % 10**9}"
        t = sh(f"touch /pfs/out/started; sleep 30.{token}")
        sets = [d.set(t, [d.simple(f"s{s}-{i}") for i in range(3)]) for s in range(3)]
        run = Background(executor, sets, parallelism=2)
        wait_glob(tmp_path / "scratch", "*/pfs/out/started")
        executor.cancel("job1")
        assert run.join(5) < 8
        assert run.results == []
        end = time.monotonic() + 3
        while live_processes_matching(f"sleep 30.{token}") and time.monotonic() < end:
            time.sleep(0.05)
        assert live_processes_matching(f"sleep 30.{token}") == []
        # the executor still works afterwards, even for the same job ID
        [r] = executor.run([d.set(sh("echo x > /pfs/out/x"), [d.simple("d1")])])
        assert r.state == DatumState.SUCCESS

    def test_cancel_python_job(self, executor: Executor, d: Datums, tmp_path: Path) -> None:
        t = Transform(
            python=f"{PY}:once_slow",
            env=(("MARKER", str(tmp_path / "m")), ("PIDFILE", str(tmp_path / "pid"))),
        )
        run = Background(executor, [d.set(t, [d.simple("d1"), d.simple("d2")])])
        wait_for(tmp_path / "pid-d1")
        executor.cancel("job1")
        run.join(5)
        assert run.results == []

    def test_cancel_other_job_untouched(self, executor: Executor, d: Datums) -> None:
        executor.cancel("no-such-job")
        assert not executor.restart_datum("no-such-job", "d1")
        [r] = executor.run([d.set(sh("true"), [d.simple("d1")])])
        assert r.state == DatumState.SUCCESS
