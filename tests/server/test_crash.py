"""``kill -9`` of a real ``loxo serve`` (its whole process group, workers included): a job
interrupted in the middle completes after a restart with exactly the output of a crash-free
run and no finished commit is lost; an upload interrupted mid-stream leaves nothing."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import loxo
from loxo.pfs.model import CommitInfo, CommitState
from loxo.pps.model import JobState
from tests.serverproc import ServerProc, restart, running_server

MiB = 1 << 20
FILES = {f"/f{i:02d}": f"content {i}\n".encode() * (i + 1) for i in range(10)}
SPEC = json.dumps(
    {
        "pipeline": {"name": "copy"},
        "transform": {
            "cmd": ["sh", "-c", 'echo "ran $PACH_DATUM_ID"; sleep 0.3; cp /pfs/in/* /pfs/out/']
        },
        "parallelism_spec": {"constant": 2},
        "datum_set_spec": {"number": 1},
        "input": {"pfs": {"repo": "in", "glob": "/*"}},
    }
)


def files_of(client: loxo.Client, ref: str) -> dict[str, bytes]:
    return {e.path: client.get_file(ref, e.path) for e in client.walk_files(ref)}


def remote(server: ServerProc, home: Path) -> loxo.Client:
    return loxo.Client(home, address=server.http_url)


def reference_output(home: Path) -> dict[str, bytes]:
    """The output of a crash-free run of the same pipeline on the same input, embedded."""
    with loxo.Client(home, executor="inline") as c:
        c.create_repo("in")
        c.create_pipeline(SPEC)
        with c.modify_file("in@master") as mf:
            for path, data in FILES.items():
                mf.put_file(path, data)
        c.drive()
        return files_of(c, "copy@master")


@pytest.fixture
def no_env_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOXO_ADDRESS", raising=False)
    monkeypatch.delenv("LOXO_TOKEN", raising=False)


@pytest.mark.usefixtures("no_env_address")
def test_kill_9_mid_job_then_restart(tmp_path: Path) -> None:
    expected = reference_output(tmp_path / "reference")
    assert expected == FILES
    client_home = tmp_path / "client"
    with running_server(tmp_path / "home", "--grpc-port", "-1") as server:
        with remote(server, client_home) as c:
            c.create_repo("in")
            c.create_repo("notes")
            for i in range(3):
                c.put_file("notes@master", f"/n{i}", f"note {i}".encode())
            # a first job on /f00 alone; the interrupted one then skips it (same bytes)
            c.put_file("in@master", "/f00", FILES["/f00"])
            c.create_pipeline(SPEC)
            c.drive()
            with c.modify_file("in@master") as mf:
                for path, data in FILES.items():
                    mf.put_file(path, data)
            job_id = mf.commit.id if mf.commit else ""
            done = wait_for_datums(c, job_id, at_least=3)
            finished = {
                (info.repo, info.id): files_of(c, f"{info.repo}@{info.id}")
                for repo in ("in", "notes", "copy")
                for info in c.list_commit(repo)
                if info.state == CommitState.FINISHED
            }
            server.kill()
        kept = recorded(tmp_path / "home", job_id)
        assert 3 <= done <= len(kept) < len(FILES), "the kill should land in the middle of the job"
        assert len(finished) == 3 + 2 + 1  # notes x3, in x2, copy's first output

        with restart(server, "--grpc-port", "-1") as again, remote(again, client_home) as c:
            job = c.wait_job("copy", job_id, timeout=60)
            assert job.state == JobState.SUCCESS, job.reason
            assert job.data_total == len(FILES)
            assert files_of(c, f"copy@{job_id}") == expected
            assert files_of(c, "copy@master") == expected
            for (repo, commit_id), files in finished.items():
                info: CommitInfo = c.inspect_commit(f"{repo}@{commit_id}")
                assert info.state == CommitState.FINISHED, (repo, commit_id)
                assert files_of(c, f"{repo}@{commit_id}") == files
            ran = [r.line for _, r in c.get_logs(pipeline="copy", job_id=job_id)]
            ran = [line for line in ran if line.startswith("ran ")]
            assert len(ran) == len(FILES) - 1, "each new datum's result is recorded once"
            assert c.fsck().ok
        after = recorded(tmp_path / "home", job_id)
        assert {d: after[d] for d in kept} == kept, "a datum recorded before the crash ran again"


def recorded(home: Path, job_id: str) -> dict[str, tuple[object, ...]]:
    """The job's datums recorded SUCCESS, with when and where they ran and their output."""
    with contextlib.closing(sqlite3.connect(home / "loxo.db")) as db:
        rows = db.execute(
            "SELECT datum_id, started, finished, worker, output_root FROM datums "
            "WHERE job_id = ? AND state = 'SUCCESS'",
            (job_id,),
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def wait_for_datums(c: loxo.Client, job_id: str, at_least: int) -> int:
    """The number of successful datums of the job, once at least ``at_least``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = sum(d.state == "SUCCESS" for d in c.list_datum("copy", job_id))
        if done >= at_least:
            return done
        time.sleep(0.05)
    raise AssertionError(f"the job did not get {at_least} datums done in 60s")


@pytest.mark.usefixtures("no_env_address")
def test_an_interrupted_upload_leaves_nothing(tmp_path: Path) -> None:
    with running_server(tmp_path / "home", "--grpc-port", "-1") as server:
        http = httpx.Client(base_url=server.http_url, timeout=30)
        with remote(server, tmp_path / "client") as c:
            c.create_repo("r")
            first = c.put_file("r@master", "/kept", b"kept")

            # the client goes away in the middle of a file: the session stays open, empty
            upload = http.post("/api/v1/uploads", json={"ref": "r@master"}).json()["id"]
            with pytest.raises(ConnectionAbortedError):
                http.put(
                    f"/api/v1/uploads/{upload}/file",
                    params={"path": "/gone"},
                    content=failing_body(),
                )
            assert c.inspect_branch("r").head == first.id
            assert http.get("/readyz").status_code == 200
            assert http.delete(f"/api/v1/uploads/{upload}").status_code == 200
            assert c.inspect_branch("r").head == first.id
            time.sleep(0.2)
            assert "Traceback" not in "".join(server.output), "".join(server.output)

            # the server dies in the middle of a file
            upload = http.post("/api/v1/uploads", json={"ref": "r@master"}).json()["id"]
            body = Interrupted()
            put = threading.Thread(target=body.send, args=(http, upload), daemon=True)
            put.start()
            assert body.sent.wait(30), "the upload did not start"
            time.sleep(0.2)  # the server reads what was sent
            server.kill()
            body.release.set()
            put.join(30)
            assert isinstance(body.failure, httpx.TransportError), body.failure
        http.close()

        with restart(server, "--grpc-port", "-1") as again, remote(again, tmp_path / "c2") as c:
            assert c.inspect_branch("r").head == first.id
            assert [i.id for i in c.list_commit("r")] == [first.id]
            assert files_of(c, "r@master") == {"/kept": b"kept"}
            gone = httpx.post(f"{again.http_url}/api/v1/uploads/{upload}/finish")
            assert gone.status_code == 404, "sessions do not outlive their server"
            report = c.fsck()
            assert report.ok, report.problems
            after = c.put_file("r@master", "/new", b"new")
            assert after.parent == first.id


def failing_body() -> Iterator[bytes]:
    yield b"x" * MiB
    raise ConnectionAbortedError("the client gave up")


class Interrupted:
    """A request body that sends 4 MiB, then waits (for the server to be killed)."""

    def __init__(self) -> None:
        self.sent, self.release = threading.Event(), threading.Event()
        self.failure: BaseException | None = None

    def body(self) -> Iterator[bytes]:
        for _ in range(4):
            yield b"y" * MiB
        self.sent.set()
        self.release.wait(30)
        yield b"z" * MiB

    def send(self, http: httpx.Client, upload: str) -> None:
        try:
            http.put(
                f"/api/v1/uploads/{upload}/file", params={"path": "/half"}, content=self.body()
            )
        except Exception as err:
            self.failure = err
