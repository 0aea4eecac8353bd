"""The worker's reusable scratch directory and long-lived sandbox: datums stay isolated."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loxo.execution import sandbox
from loxo.execution.environment import remove_tree
from loxo.execution.local import LocalExecutor
from loxo.execution.output import INLINE_FILES, parse_root
from loxo.execution.runtime import run_datum
from loxo.execution.task import DatumState, Transform
from loxo.execution.workspace import Workspace
from loxo.storage.fileset import NodeRef
from loxo.storage.local import LocalStore

from .builders import Datums, by_id, lines, live_processes_matching, sh, wait_sandboxes_gone


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOXO_SCRATCH", str(tmp_path / "scratch"))
    return tmp_path / "scratch"


def test_workspace_empties_pfs_between_datums(scratch: Path) -> None:
    ws = Workspace()
    with ws.datum(["in"]) as root:
        pfs = root / "pfs"
        assert sorted(os.listdir(pfs)) == ["in", "out"]
        (pfs / "in" / "deep").mkdir()
        (pfs / "in" / "deep" / "f").write_text("secret")
        (pfs / "out" / "o").write_text("out")
        (pfs / "stray").write_text("x")
        os.symlink("/etc", pfs / "link")
    first = ws.generation
    with ws.datum(["left", "right"]) as again:
        assert again == root and ws.generation == first
        assert sorted(os.listdir(pfs)) == ["left", "out", "right"]
        assert all(os.listdir(pfs / n) == [] for n in ("left", "out", "right"))
    assert os.path.isdir("/etc")  # the symlink was removed, not followed
    ws.close()
    assert list(scratch.iterdir()) == []


def test_workspace_gives_kept_directories_back_their_mode(scratch: Path) -> None:
    ws = Workspace()
    with ws.datum(["in"]) as root:
        pfs = root / "pfs"
        mode = stat.S_IMODE((pfs / "out").stat().st_mode)
        (pfs / "out").chmod(0o500)
        (pfs / "in").chmod(0o700)
    with ws.datum(["in"]):
        assert {stat.S_IMODE((pfs / n).stat().st_mode) for n in ("in", "out")} == {mode}
    ws.close()


def test_removing_a_missing_tree_leaves_the_directory_holding_it_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    remove_tree(tmp_path / "gone")  # as when a workspace's directory was removed under it
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_workspace_replaced_when_user_code_moves_pfs(scratch: Path) -> None:
    ws = Workspace()
    with ws.datum(["in"]) as root:
        os.rename(root / "pfs", root / "moved")
        (root / "pfs").mkdir()
    with ws.datum(["in"]) as fresh:
        assert fresh != root and ws.generation == 2
    ws.close()
    assert list(scratch.iterdir()) == []


def test_large_outputs_get_a_fileset_small_ones_are_inline(tmp_path: Path) -> None:
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    many = INLINE_FILES + 4
    script = f"for i in $(seq {many}); do echo $i > /pfs/out/f$i; done; echo 1 > /pfs/out/x"
    with LocalExecutor(workers=1) as ex:
        rs = by_id(ex.run([d.set(sh(script), [d.simple("big")]),
                           d.set(sh("echo 1 > /pfs/out/x"), [d.simple("small")])]))  # fmt: skip
    assert isinstance(parse_root(rs["big"].output_root or []), NodeRef)
    assert isinstance(parse_root(rs["small"].output_root or []), tuple)
    assert len(d.output(rs["big"])) == many + 1
    assert d.output(rs["small"]) == {"/x": b"1\n"}


@pytest.fixture(params=["sandbox", "fallback"])
def one_worker(
    request: pytest.FixtureRequest, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalExecutor]:
    if request.param == "sandbox":
        ok, why = sandbox.probe()
        if not ok:
            pytest.skip(f"no bubblewrap sandbox here: {why}")
        monkeypatch.setenv("LOXO_SANDBOX", "1")
    else:
        monkeypatch.setenv("LOXO_SANDBOX", "0")
    with LocalExecutor(workers=1) as ex:
        yield ex
    wait_sandboxes_gone(scratch)


def test_a_datum_never_sees_the_previous_datums_files(
    one_worker: LocalExecutor, tmp_path: Path
) -> None:
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    t = sh(
        'ls -a "$LOXO_PFS" "$LOXO_PFS/in" "$LOXO_PFS/out"; '
        'echo $PACH_DATUM_ID > "$LOXO_PFS/left-$PACH_DATUM_ID"; '
        'echo $PACH_DATUM_ID > "$LOXO_PFS/in/left-$PACH_DATUM_ID"; '
        'echo $PACH_DATUM_ID > "$LOXO_PFS/out/$PACH_DATUM_ID"'
    )
    rs = by_id(one_worker.run([d.set(t, [d.simple(f"d{i}") for i in range(3)])]))
    for i in range(3):
        r = rs[f"d{i}"]
        assert r.state == DatumState.SUCCESS, r.error
        assert not any("left-" in x for x in lines(r, "stdout")), lines(r)
        assert d.output(r) == {f"/d{i}": f"d{i}\n".encode()}


def test_no_process_of_a_datum_outlives_it(one_worker: LocalExecutor, tmp_path: Path) -> None:
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    token = f"{time.time_ns() % 10**9}"
    # a daemon in a session of its own escapes the process group, not the sandbox
    t = sh(f"setsid sleep 60.{token} > /dev/null 2>&1 < /dev/null & echo x > /pfs/out/x")
    rs = by_id(one_worker.run([d.set(t, [d.simple("d1"), d.simple("d2")])]))
    assert all(r.state == DatumState.SUCCESS for r in rs.values())
    if os.environ["LOXO_SANDBOX"] == "1":
        assert live_processes_matching(f"sleep 60.{token}") == []
    else:  # the fallback only kills the process group: clean up the escaped daemons
        for pid in live_processes_matching(f"sleep 60.{token}"):
            os.kill(pid, 9)


def test_a_datum_that_kills_the_sandbox_agent_fails_and_the_next_one_runs(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, why = sandbox.probe()
    if not ok:
        pytest.skip(f"no bubblewrap sandbox here: {why}")
    monkeypatch.setenv("LOXO_SANDBOX", "1")
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    t = sh('if [ "$PACH_DATUM_ID" = bad ]; then kill -9 $PPID; sleep 5; fi; echo ok > /pfs/out/x')
    with LocalExecutor(workers=1) as ex:
        rs = by_id(ex.run([d.set(t, [d.simple("bad"), d.simple("good")], datum_tries=1)]))
    assert rs["bad"].state == DatumState.FAILED
    assert rs["good"].state == DatumState.SUCCESS, rs["good"].error
    assert d.output(rs["good"]) == {"/x": b"ok\n"}
    wait_sandboxes_gone(scratch)


def test_an_agents_command_leads_its_own_group_in_the_sandboxs_session(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as a Ray worker runs commands: through the exec agent of its long-lived sandbox. A
    # group of its own; no session of its own, which the sandbox (a session without a
    # terminal) makes needless
    ok, why = sandbox.probe()
    if not ok:
        pytest.skip(f"no bubblewrap sandbox here: {why}")
    monkeypatch.setenv("LOXO_SANDBOX", "1")
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    t = Transform(
        cmd=("sh", "-c", "cut -d' ' -f5,6 /proc/$$/stat > /pfs/out/ids; echo $$ >> /pfs/out/ids")
    )
    ts = d.set(t, [d.simple("d1")])
    ws = Workspace()
    try:
        r = run_datum(ts, ts.datums[0], workspace=ws)
    finally:
        ws.close()
    assert r.state == DatumState.SUCCESS, r.error
    (pgrp, sid), (pid,) = (line.split() for line in d.output(r)["/ids"].decode().splitlines())
    assert pgrp == pid
    assert sid == "0"  # led by bubblewrap, outside the sandbox's PID namespace


def test_small_outputs_of_a_result_group_share_a_pack(tmp_path: Path) -> None:
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    t = sh('cp "$in" /pfs/out/$PACH_DATUM_ID')
    tasks = [d.simple(f"d{i}", f"content {i}".encode()) for i in range(20)]
    with LocalExecutor(workers=1) as ex:
        rs = by_id(ex.run([d.set(t, tasks)]))
    keys = set()
    for i in range(20):
        r = rs[f"d{i}"]
        assert d.output(r) == {f"/d{i}": f"content {i}".encode()}
        root = parse_root(r.output_root or [])
        assert isinstance(root, tuple)
        keys |= {ref.key for e in root for ref in e.refs}
    assert len(keys) < 20  # results are grouped: fewer packs than datums


def test_workspace_never_follows_a_swapped_in_symlink(scratch: Path, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    (precious / "in").mkdir(parents=True)
    (precious / "in" / "keep").write_text("keep")
    (precious / "pfs").mkdir()
    (precious / "pfs" / "keep").write_text("keep")
    ws = Workspace()
    with ws.datum(["in"]) as root:
        os.rename(root / "pfs" / "in", root / "pfs" / "in-gone")
        os.symlink(precious / "in", root / "pfs" / "in")  # a kept directory swapped
    with ws.datum(["in"]) as root:
        os.rename(root, tmp_path / "moved-root")
        os.symlink(precious, root)  # the whole workspace swapped
    assert (precious / "in" / "keep").read_text() == "keep"
    assert (precious / "pfs" / "keep").read_text() == "keep"
    ws.close()
    assert (precious / "pfs" / "keep").read_text() == "keep"


def test_a_command_inherits_no_descriptor_of_its_worker(
    one_worker: LocalExecutor, tmp_path: Path
) -> None:
    # commands are started with posix_spawn, which closes only close-on-exec descriptors
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    [r] = one_worker.run([d.set(sh("ls /proc/$$/fd"), [d.simple("d1")])])
    assert r.state == DatumState.SUCCESS, r.error
    assert sorted(lines(r, "stdout")) == ["0", "1", "2"]
