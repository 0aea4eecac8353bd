"""Leases heartbeat while held and expire only when their holder stops heartbeating; a job
taken over from a driver that stopped is fenced: the stale driver never writes again.

Real SQLite, real ``loxo`` CLI processes, real SIGSTOP / SIGCONT; short TTLs and injected
clocks instead of waiting out a TTL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import loxo
from loxo.pfs.db import Database
from loxo.pfs.leases import LeaseLost, lease, live_leases, oldest_live_lease

LOXO = str(Path(sys.executable).parent / "loxo")
SLOW_COPY = ["sh", "-c", 'echo "ran $PACH_DATUM_ID"; sleep 0.4; cp /pfs/in/* /pfs/out/']
FILES = {f"/f{i:02d}": f"content {i}\n".encode() for i in range(8)}


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def wait_for(check: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_heartbeating_lease_outlives_any_age(tmp_path: Path) -> None:
    clock = FakeClock(1_000_000.0)
    db, reader = Database(tmp_path / "m.db"), Database(tmp_path / "m.db")
    with lease(db, ttl=0.3, clock=clock) as held:
        for _ in range(3):  # two hours pass, in steps; the holder keeps beating
            clock.now += 3600.0
            wait_for(
                lambda: (
                    reader.one("SELECT heartbeat FROM leases WHERE id = ?", (held.id,))[0]
                    == clock.now
                ),
                "a heartbeat",
            )
            assert held.id in live_leases(reader, clock.now)
        assert oldest_live_lease(reader, clock.now) == 1_000_000.0
        held.confirm()
    assert live_leases(reader, clock.now) == {}  # released
    db.close()
    reader.close()


HOLDER = textwrap.dedent("""
    import sys
    from loxo.pfs.db import Database
    from loxo.pfs.leases import LeaseLost, lease
    with lease(Database(sys.argv[1]), ttl=1.0) as held:
        print(held.id, flush=True)
        sys.stdin.readline()
        try:
            held.confirm()
            print("alive", flush=True)
        except LeaseLost as err:
            print("lost", err, flush=True)
""")


def test_a_stopped_holder_expires_after_its_ttl_and_finds_out(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "m.db")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        try:
            lease_id = proc.stdout.readline().strip()
            assert lease_id in live_leases(db, time.time())
            os.kill(proc.pid, signal.SIGSTOP)  # alive, but no longer heartbeating
            assert lease_id in live_leases(db, time.time() + 0.5)  # within its TTL
            assert live_leases(db, time.time() + 1.5) == {}  # past it: dead, and removed
            assert oldest_live_lease(db, time.time()) is None  # GC no longer waits for it
            os.kill(proc.pid, signal.SIGCONT)
            proc.stdin.write("\n")
            proc.stdin.flush()
            assert proc.stdout.readline().startswith("lost writer lease")
        finally:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
    db.close()


def test_a_put_whose_lease_expired_commits_nothing(tmp_path: Path) -> None:
    with loxo.Client(tmp_path / "home") as c:
        c.create_repo("r")
        with pytest.raises(LeaseLost), c.modify_file("r@master") as mf:
            mf.put_file("/a", b"a")
            # the session was paused past its TTL: a collection removed its lease
            live_leases(c.service.db, time.time() + 3600)
        assert c.list_commit("r") == []


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "LOXO_HOME": str(home), **extra}
    env.pop("LOXO_NO_WAIT", None)
    env.pop("LOXO_ADDRESS", None)
    return env


@contextmanager
def job_in_cli(tmp_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A ``put file`` CLI (own process group) running the copy job over FILES."""
    src = tmp_path / "src"
    src.mkdir()
    for path, data in FILES.items():
        (src / path.lstrip("/")).write_bytes(data)
    spec = tmp_path / "copy.json"
    spec.write_text(json.dumps({
        "pipeline": {"name": "copy"}, "transform": {"cmd": SLOW_COPY},
        "datum_set_spec": {"number": 1}, "input": {"pfs": {"repo": "in", "glob": "/*"}},
    }))  # fmt: skip
    for args in (["create", "repo", "in"], ["create", "pipeline", "-f", str(spec)]):
        subprocess.run([LOXO, *args], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [LOXO, "put", "file", "-r", "in@master:/", "-f", str(src)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        yield proc
    finally:
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def successes(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT COUNT(*) FROM datums WHERE state = 'SUCCESS'").fetchone()[0])


def output(c: loxo.Client) -> dict[str, bytes]:
    return {e.path: c.get_file("copy@master", e.path) for e in c.walk_files("copy@master")}


def ran_lines(c: loxo.Client, job_id: str) -> list[str]:
    lines = [r.line for _, r in c.get_logs(pipeline="copy", job_id=job_id)]
    return [line for line in lines if line.startswith("ran ")]


def test_a_long_job_keeps_its_lease_and_is_never_run_twice(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with job_in_cli(tmp_path, cli_env(home, LOXO_LEASE_TTL="0.6")) as proc:
        db = sqlite3.connect(home / "loxo.db", timeout=30)
        wait_for(lambda: successes(db) >= 1, "the job's first datum")
        (driver,) = db.execute("SELECT driver FROM jobs").fetchone()
        (beat,) = db.execute("SELECT heartbeat FROM leases WHERE id = ?", (driver,)).fetchone()
        time.sleep(0.8)  # longer than the TTL: only a heartbeat keeps the lease alive
        (again,) = db.execute("SELECT heartbeat FROM leases WHERE id = ?", (driver,)).fetchone()
        assert again > beat, "the driver's lease was not refreshed"
        with loxo.Client(home) as other:  # another process looks for work meanwhile
            assert other.service.drive() == [], "the running job was claimed twice"
        assert proc.wait(60) == 0
    with loxo.Client(home) as c:
        (job,) = c.list_job("copy")
        assert job.state == "SUCCESS"
        assert len(ran_lines(c, job.id)) == len(FILES)


@contextmanager
def stopped(proc: subprocess.Popen[bytes], db_path: Path) -> Iterator[None]:
    """``proc`` (its main process only) stopped by SIGSTOP, at a moment it holds no write
    lock on the database."""
    probe = sqlite3.connect(db_path, timeout=0.3, isolation_level=None)
    while True:
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            break
        except sqlite3.OperationalError:  # stopped inside a transaction: let it finish
            os.kill(proc.pid, signal.SIGCONT)
            time.sleep(0.05)
    probe.close()
    try:
        yield
    finally:
        os.kill(proc.pid, signal.SIGCONT)


def test_a_job_taken_over_from_a_stopped_driver_is_fenced(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with job_in_cli(tmp_path, cli_env(home, LOXO_LEASE_TTL="1")) as proc:
        db = sqlite3.connect(home / "loxo.db", timeout=30)
        wait_for(lambda: successes(db) >= 2, "the job's first datums")
        with stopped(proc, home / "loxo.db"), loxo.Client(home) as other:
            # the stopped driver's last heartbeat is older than its TTL on this clock
            other.service.clock = lambda: time.time() + 5
            assert len(other.service.drive()) == 1, "the stale job was not taken over"
            (job,) = other.list_job("copy")
            assert job.state == "SUCCESS", job.reason
            assert db.execute("SELECT fence FROM jobs").fetchone()[0] == 2
            rows = db.execute("SELECT * FROM datums ORDER BY datum_id").fetchall()
            logs = db.execute("SELECT COUNT(*) FROM logs").fetchone()[0]
        # the stale driver resumes: its results are refused, it stops the job and exits
        assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
        assert db.execute("SELECT * FROM datums ORDER BY datum_id").fetchall() == rows
        assert db.execute("SELECT COUNT(*) FROM logs").fetchone()[0] == logs
    with loxo.Client(home) as c:
        (job,) = c.list_job("copy")
        assert (job.state, job.data_processed) == ("SUCCESS", len(FILES))
        assert len(ran_lines(c, job.id)) == len(FILES), "a datum's result was recorded twice"
        assert output(c) == FILES


def test_a_driver_whose_lease_expired_writes_nothing_more(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with job_in_cli(tmp_path, cli_env(home, LOXO_LEASE_TTL="1")) as proc:
        db = sqlite3.connect(home / "loxo.db", timeout=30)
        wait_for(lambda: successes(db) >= 2, "the job's first datums")
        with stopped(proc, home / "loxo.db"), loxo.Client(home) as other:
            # a collection (or any reader) a while later finds the lease dead, and removes it
            assert live_leases(other.service.db, time.time() + 5) == {}
            rows = db.execute("SELECT * FROM datums ORDER BY datum_id").fetchall()
            job = db.execute("SELECT * FROM jobs").fetchall()
        # it resumes: nothing it finishes now is written (what GC took may be in it)
        assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
        assert db.execute("SELECT * FROM datums ORDER BY datum_id").fetchall() == rows
        assert db.execute("SELECT * FROM jobs").fetchall() == job
    with loxo.Client(home) as c:  # the next command resumes the job
        assert len(c.service.drive()) == 1
        (job,) = c.list_job("copy")
        assert (job.state, job.data_processed) == ("SUCCESS", len(FILES))
        assert len(ran_lines(c, job.id)) == len(FILES)
        assert output(c) == FILES
