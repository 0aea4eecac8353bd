"""The sandbox contains user code: it reads the host, writes only ``/pfs/out`` and a private
``/tmp``, and never sees the loxo home, the object store nor other scratch directories.

One hostile datum tries every escape it can think of, on each way a command runs (in a
local worker inside its own sandbox, in a sandbox of its own per command, through the
exec agent of a long-lived sandbox, as another user) and as a Python transform: each
attempt that works inside the sandbox is a breach it reports in ``/pfs/out/breaches``;
what it may do (write its private ``/tmp``) must leave the host unchanged. Afterwards
the host, the store and the input repo are checked too.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from loxo.execution import sandbox
from loxo.execution.local import LocalExecutor
from loxo.execution.runtime import run_datum
from loxo.execution.task import DatumResult, DatumState, TaskSet, Transform
from loxo.execution.workspace import Workspace
from loxo.storage.blobs import BlobReader
from loxo.storage.local import LocalStore

from .builders import Datums

PY = "tests.execution.pyfuncs"
SECRET = b"another datum's secret\n"
INPUT = b"the input, intact\n"

# name|command: each one is a breach if it succeeds (sh -c, from the datum's directory)
ATTACKS = r"""
dotdot-out|echo evil > /pfs/out/../evil
dotdot-root|echo evil > /pfs/out/../../evil
etc|echo evil > /etc/loxo-evil-$ID
root|echo evil > /loxo-evil-$ID
cwd-new|echo evil > "$CWD/evil"
cwd-append|echo evil >> "$CWD/project.txt"
home-list|ls "$HOME_DIR" >/dev/null
home-new|echo evil > "$HOME_DIR/evil"
home-db|echo evil >> "$HOME_DIR/loxo.db"
home-db-truncate|: > "$HOME_DIR/loxo.db"
store-list|ls "$STORE" >/dev/null
store-new|echo evil > "$STORE/evil"
scratch-list|ls "$SCRATCH" >/dev/null
scratch-read|cat "$FOREIGN/pfs/in/secret.txt"
scratch-write|echo evil > "$FOREIGN/pfs/in/secret.txt"
input-write|echo evil > /pfs/in/a.txt
input-append|echo evil >> /pfs/in/a.txt
input-truncate|: > /pfs/in/a.txt
input-chmod|chmod 777 /pfs/in/a.txt
input-remove|rm /pfs/in/a.txt
input-new|echo evil > /pfs/in/new.txt
input-hardlink|ln /pfs/in/a.txt /pfs/out/hard
pfs-new|echo evil > /pfs/evil
remount|mount -o remount,rw /pfs/in
"""

# breaches through other processes' descriptors, working directories and roots
PROC = r"""
for f in /proc/[0-9]*/fd/* /proc/[0-9]*/cwd /proc/[0-9]*/root; do
  case "$f" in /proc/$$/*|/proc/self/*) continue;; esac
  if [ -d "$f" ] && ls "$f" >/dev/null 2>&1; then
    for t in "$f/in/a.txt" "$f/loxo-evil-$ID"; do
      if [ -e "$t" ] && (echo evil >> "$t") 2>/dev/null; then
        echo "proc $t" >> /pfs/out/breaches
      fi
    done
    if (echo evil > "$f/loxo-evil-$ID") 2>/dev/null; then echo "proc $f" >> /pfs/out/breaches; fi
  fi
done
"""

SCRIPT = (
    "while IFS='|' read -r name cmd; do\n"
    '  [ -n "$name" ] || continue\n'
    '  if (eval "$cmd") >/dev/null 2>&1; then echo "$name" >> /pfs/out/breaches; fi\n'
    "done <<'EOF'\n" + ATTACKS + "EOF\n" + PROC + "echo evil > /tmp/loxo-evil-$ID\n"
    "cat /pfs/in/a.txt > /pfs/out/input-after\n"
    "echo done > /pfs/out/done\n"
).replace("/pfs/", "$LOXO_PFS/")  # (a Python transform outside a sandbox sees it elsewhere)


class Host:
    """What the hostile datum must leave alone: the home, the store, another worker's
    scratch directory, a host /tmp file, the project in the working directory."""

    def __init__(self, tmp: Path, scratch: Path) -> None:
        self.id = uuid.uuid4().hex
        self.cwd = tmp  # pytest's tmp_path, under /tmp: the caller's working directory
        self.home = tmp / "home"
        self.home.mkdir()
        (self.home / "loxo.db").write_bytes(b"the database\n")
        self.store = LocalStore(tmp / "objects")  # a local store outside the home
        self.scratch = scratch  # $LOXO_SCRATCH
        self.foreign = self.scratch / "loxo-worker-foreign"
        (self.foreign / "pfs" / "in").mkdir(parents=True)
        (self.foreign / "pfs" / "in" / "secret.txt").write_bytes(SECRET)
        (tmp / "project.txt").write_bytes(b"the project\n")
        self.host_tmp = Path(f"/tmp/loxo-host-{self.id}")
        self.host_tmp.write_bytes(b"host tmp\n")
        self.d = Datums(self.store, tmp)

    def env(self) -> tuple[tuple[str, str], ...]:
        return (
            ("ID", self.id), ("CWD", str(self.cwd)), ("HOME_DIR", str(self.home)),
            ("STORE", str(self.store.root)), ("SCRATCH", str(self.scratch)),
            ("FOREIGN", str(self.foreign)),
        )  # fmt: skip

    def set(self, transform: Transform) -> TaskSet:
        task = self.d.task("d1", self.d.input("in", "/", {"/a.txt": INPUT}))
        return self.d.set(transform, [task], datum_tries=1)

    def check(self, result: DatumResult) -> None:
        """The datum ran, no attack worked, and nothing outside its output changed."""
        assert result.state == DatumState.SUCCESS, (result.error, result.logs)
        out = self.d.output(result)
        assert out.pop("/breaches", b"").decode().split() == []
        assert out.pop("/done") == b"done\n"
        assert out.pop("/input-after") == INPUT
        assert out == {}  # nothing foreign got into the output
        assert sorted(p.name for p in self.home.iterdir()) == ["loxo.db"]
        assert (self.home / "loxo.db").read_bytes() == b"the database\n"
        assert not (self.store.root / "evil").exists()
        assert (self.foreign / "pfs" / "in" / "secret.txt").read_bytes() == SECRET
        assert (self.cwd / "project.txt").read_bytes() == b"the project\n"
        assert not (self.cwd / "evil").exists()
        assert self.host_tmp.read_bytes() == b"host tmp\n"
        for path in (f"/tmp/loxo-evil-{self.id}", f"/etc/loxo-evil-{self.id}", "/loxo-evil"):
            assert not os.path.exists(path), path
        # the input repo's content: still in the store, byte for byte
        task = self.set(Transform()).datums[0]
        [f] = task.inputs[0].files
        assert b"".join(BlobReader(self.store).iter_chunks(f.refs)) == INPUT


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    ok, why = sandbox.probe()
    if not ok:
        pytest.skip(f"no bubblewrap sandbox here: {why}")
    h = Host(tmp_path, tmp_path / "scratch")  # in sight of the working directory
    yield from _hosting(h, monkeypatch)


def _hosting(h: Host, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    monkeypatch.setenv("LOXO_SANDBOX", "1")
    monkeypatch.setenv("LOXO_SCRATCH", str(h.scratch))
    monkeypatch.setenv("LOXO_HOME", str(h.home))  # (the driver names it in its sets too)
    monkeypatch.chdir(h.cwd)
    try:
        yield h
    finally:
        h.host_tmp.unlink()


def hostile() -> Transform:
    return Transform(cmd=("sh", "-c", SCRIPT))


def run_local(h: Host, transform: Transform) -> DatumResult:
    with LocalExecutor(workers=1) as ex:
        [result] = ex.run([h.set(transform)])
    return result


def test_a_command_in_a_worker_inside_its_sandbox_is_contained(host: Host) -> None:
    t = hostile()
    host.check(run_local(host, Transform(cmd=t.cmd, env=host.env())))


def test_a_command_in_a_sandbox_of_its_own_is_contained(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOXO_SANDBOX_AGENT", "0")  # one sandbox per command
    host.check(run_local(host, Transform(cmd=hostile().cmd, env=host.env())))


def test_a_command_through_the_sandbox_agent_is_contained(host: Host) -> None:
    workspace = Workspace()  # a Ray worker's: one long-lived sandbox with its exec agent
    try:
        ts = host.set(Transform(cmd=hostile().cmd, env=host.env()))
        result = run_datum(ts, ts.datums[0], workspace=workspace)
    finally:
        workspace.close()
    host.check(result)


@pytest.fixture
def other_user_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    """Scratch directories where another user can reach them (``/tmp/...``, 0755)."""
    ok, why = sandbox.probe()
    if not ok:
        pytest.skip(f"no bubblewrap sandbox here: {why}")
    if os.geteuid() != 0:
        pytest.skip("switching users needs root")
    scratch = Path(tempfile.mkdtemp(prefix="loxo-test-scratch-"))
    os.chmod(scratch, 0o755)
    try:
        yield from _hosting(Host(tmp_path, scratch), monkeypatch)
    finally:
        shutil.rmtree(scratch)


def test_a_command_as_another_user_is_contained(other_user_host: Host) -> None:
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' here")
    t = Transform(cmd=hostile().cmd, env=other_user_host.env(), user=str(nobody.pw_uid))
    other_user_host.check(run_local(other_user_host, t))


@pytest.mark.parametrize("agent", ["1", "0"])
def test_what_a_pipeline_runs_from_under_tmp_stays_in_sight_read_only(
    host: Host, monkeypatch: pytest.MonkeyPatch, agent: str
) -> None:
    # a program on the pipeline's PATH and its working directory, both under the host's
    # /tmp (which the sandbox replaces): shown again, read-only
    monkeypatch.setenv("LOXO_SANDBOX_AGENT", agent)
    tools = Path(tempfile.mkdtemp(prefix="loxo-test-tools-"))
    try:
        (tools / "bin").mkdir()
        (tools / "bin" / "loxo-tool").write_text("#!/bin/sh\ncat data > /pfs/out/x\n")
        (tools / "bin" / "loxo-tool").chmod(0o755)
        (tools / "wd").mkdir()
        (tools / "wd" / "data").write_text("from the host\n")
        script = "loxo-tool; if touch evil 2>/dev/null; then echo breach > /pfs/out/y; fi"
        t = Transform(
            cmd=("sh", "-c", script),
            env=(("PATH", f"{tools}/bin:{os.environ['PATH']}"),),
            working_dir=str(tools / "wd"),
        )
        r = run_local(host, t)
        assert r.state == DatumState.SUCCESS, (r.error, r.logs)
        assert host.d.output(r) == {"/x": b"from the host\n"}
        assert not (tools / "wd" / "evil").exists()
    finally:
        shutil.rmtree(tools)
