"""The HTTP door of a real ``loxo serve`` (token-protected, on loopback), through ``httpx``:
auth, health and metrics, error statuses, streamed files, upload sessions, and the SSE
streams of events and logs. One server for the module: each test names its repos after
itself (``names``)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import queue
import re
import socket
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import blake3
import httpx
import pytest
from httpx_sse import connect_sse

import loxo
from loxo.errors import LoxoError, PreconditionError
from tests.serverproc import ServerProc, running_server

TOKEN = "s3cret-http-token"
Names = Callable[[str], str]
MiB = 1 << 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    home = tmp_path_factory.mktemp("home")
    token_file = home.parent / "token"
    token_file.write_text(TOKEN + "\n")
    args = ("--grpc-port", "-1", "--auth-token-file", str(token_file))
    with running_server(home, *args, env={"LOXO_EXECUTOR": "inline"}) as proc:
        yield proc
        output = "".join(proc.output)
        assert "Traceback" not in output, "the server logged an unexpected error:\n" + output


@pytest.fixture(scope="module")
def http(server: ServerProc) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server.http_url, headers=headers, timeout=30) as c:
        yield c


@pytest.fixture
def client(
    server: ServerProc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[loxo.Client]:
    monkeypatch.delenv("LOXO_TOKEN", raising=False)
    with loxo.Client(tmp_path / "client-home", address=server.http_url, token=TOKEN) as c:
        yield c


@pytest.fixture
def names(request: pytest.FixtureRequest) -> Names:
    """``names("in")`` -> a repo/pipeline name unique to this test."""
    test = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_"))[:40]
    return lambda base: f"{test}-{base}".strip("-")


def ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.status_code}: {response.text}"
    return response.json()


def create_repo(http: httpx.Client, name: str) -> None:
    ok(http.post("/api/v1/projects/default/repos", json={"name": name}))


def put(http: httpx.Client, ref: str, path: str, data: bytes | Iterator[bytes]) -> Any:
    return ok(http.put("/api/v1/files/content", params={"ref": ref, "path": path}, content=data))


def spec(name: str, repo: str, script: str) -> str:
    """A pipeline spec (JSON text) running ``sh -c script`` on each file of ``repo``."""
    return json.dumps(
        {
            "pipeline": {"name": name},
            "transform": {"cmd": ["sh", "-c", script]},
            "input": {"pfs": {"repo": repo, "name": "in", "glob": "/*"}},
        }
    )


def head_of(http: httpx.Client, repo: str) -> str | None:
    branch = ok(http.get(f"/api/v1/projects/default/repos/{repo}/branches/master"))
    head: str | None = branch["head"]
    return head


# --- auth ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/version", "/api/v1/repos", "/api/v1/jobs", "/metrics", "/openapi.json"]
)
def test_every_api_request_needs_the_token(server: ServerProc, path: str) -> None:
    url = server.http_url + path
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        r = httpx.get(url, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        error = r.json()["error"]
        assert error["type"] == "Unauthenticated" and "token" in error["message"]
    assert httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert httpx.get(url, headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
    assert httpx.get(url, cookies={"loxo_token": TOKEN}).status_code == 200
    assert httpx.get(url, cookies={"loxo_token": "wrong"}).status_code == 401


def test_writes_need_the_token_too(server: ServerProc, http: httpx.Client, names: Names) -> None:
    r = httpx.post(server.http_url + "/api/v1/projects/default/repos", json={"name": names("r")})
    assert r.status_code == 401
    assert http.get(f"/api/v1/projects/default/repos/{names('r')}").status_code == 404


def test_health_and_readiness_answer_without_the_token(server: ServerProc) -> None:
    assert httpx.get(server.http_url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(server.http_url + "/readyz").json() == {"status": "ready"}


def test_the_remote_client_sends_its_token(
    client: loxo.Client, server: ServerProc, tmp_path: Path, names: Names
) -> None:
    client.create_repo(names("r"))
    assert names("r") in [r.name for r in client.list_repo()]
    with (
        loxo.Client(tmp_path / "other", address=server.http_url) as anonymous,
        pytest.raises(LoxoError) as err,
    ):
        anonymous.list_repo()
    assert isinstance(err.value, PreconditionError)
    assert "token" in str(err.value)
    with (
        loxo.Client(tmp_path / "other", address=server.http_url, token="wrong") as wrong,
        pytest.raises(PreconditionError),
    ):
        wrong.inspect_repo(names("r"))


# --- health, OpenAPI, metrics -----------------------------------------------------------


def test_openapi_describes_the_api(http: httpx.Client) -> None:
    doc = ok(http.get("/openapi.json"))
    assert doc["info"]["title"] == "loxo" and doc["info"]["version"] == loxo.__version__
    paths = doc["paths"]
    for path in (
        "/api/v1/files/content",
        "/api/v1/files/tar",
        "/api/v1/uploads",
        "/api/v1/uploads/{upload_id}/finish",
        "/api/v1/projects/{project}/repos/{repo}",
        "/api/v1/pipelines",
        "/api/v1/jobs",
        "/api/v1/events",
        "/api/v1/logs",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/files/content"]) >= {"get", "put"}
    put_body = paths["/api/v1/files/content"]["put"]["requestBody"]["content"]
    assert "application/octet-stream" in put_body


def test_metrics_count_requests_by_route_and_jobs_by_state(
    http: httpx.Client, client: loxo.Client, names: Names
) -> None:
    repo, pipeline = names("in"), names("p")
    create_repo(http, repo)
    http.get(f"/api/v1/projects/default/repos/{repo}")
    http.get(f"/api/v1/projects/default/repos/{names('missing')}")
    client.create_pipeline(spec(pipeline, repo, "cp /pfs/in/* /pfs/out/"))
    put(http, f"{repo}@master", "/a", b"a")
    client.wait_commit(f"{pipeline}@master")
    text = http.get("/metrics").text
    route = "/api/v1/projects/{project}/repos/{repo}"
    assert f'loxo_http_requests_total{{method="GET",route="{route}",status="200"}}' in text, text
    assert f'loxo_http_requests_total{{method="GET",route="{route}",status="404"}}' in text
    assert repo not in text, "routes are counted by template, never by raw path"
    assert 'loxo_http_request_seconds_bucket{le="0.001",method="GET",route=' in text
    jobs = dict(re.findall(r'^loxo_jobs\{state="(\w+)"\} (\S+)$', text, re.M))
    assert float(jobs["SUCCESS"]) >= 1, text
    assert re.search(r"^loxo_pipelines \d", text, re.M)
    assert re.search(r"^loxo_upload_sessions 0\.0$", text, re.M)


# --- errors -----------------------------------------------------------------------------


def error_of(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    error: dict[str, str] = response.json()["error"]
    return error


def test_errors_have_a_status_by_category(http: httpx.Client, names: Names) -> None:
    repo = names("r")
    error = error_of(http.get(f"/api/v1/projects/default/repos/{repo}"), 404)
    assert error["type"] == "RepoNotFound" and error["category"] == "NotFoundError"
    assert repo in error["message"]
    create_repo(http, repo)
    error = error_of(http.post("/api/v1/projects/default/repos", json={"name": repo}), 409)
    assert error["type"] == "RepoExists" and error["category"] == "AlreadyExistsError"
    bad = http.post("/api/v1/projects/default/repos", json={"name": "no spaces!"})
    error = error_of(bad, 400)
    assert error["type"] == "InvalidName" and error["category"] == "InvalidArgumentError"
    commit = put(http, f"{repo}@master", "/a", b"a")
    finish = http.post("/api/v1/commit/finish", json={"ref": f"{repo}@{commit['id']}"})
    error = error_of(finish, 412)
    assert error["type"] == "CommitNotOpen" and error["category"] == "PreconditionError"
    missing = http.get("/api/v1/files/content", params={"ref": f"{repo}@master", "path": "/nope"})
    assert error_of(missing, 404)["type"] == "FileNotFound"


# --- streaming files --------------------------------------------------------------------


def peak_rss(pid: int) -> int:
    """The peak resident set of a process (VmHWM), in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    m = re.search(r"^VmHWM:\s+(\d+) kB$", status, re.M)
    assert m, status
    return int(m[1]) * 1024


def test_creating_an_existing_branch_without_a_head_keeps_it(
    http: httpx.Client, names: Names
) -> None:
    repo = names("r")
    create_repo(http, repo)
    commit = put(http, f"{repo}@master", "/a", b"1")
    branches = f"/api/v1/projects/default/repos/{repo}/branches"
    assert ok(http.post(branches, json={"name": "master"}))["head"] == commit["id"]
    assert head_of(http, repo) == commit["id"]
    put(http, f"{repo}@master", "/b", b"2")
    assert (
        http.get("/api/v1/files/content", params={"ref": f"{repo}@master", "path": "/a"}).content
        == b"1"
    )


def test_a_large_file_streams_both_ways(
    http: httpx.Client, server: ServerProc, names: Names
) -> None:
    repo, size = names("r"), 50 * MiB
    create_repo(http, repo)
    sent_blake3, sent_sha = blake3.blake3(), hashlib.sha256()

    def body(mib: int, hashes: tuple[Any, ...] = ()) -> Iterator[bytes]:
        for i in range(mib):
            data = hashlib.sha256(str(i).encode()).digest() * (MiB // 32)
            for h in hashes:
                h.update(data)
            yield data

    # warm up the server's buffers and allocator on the same paths, then measure its peak
    # RSS across the big transfer: bounded buffers, not the file, in memory
    put(http, f"{repo}@master", "/warm", body(16))
    warm = http.get("/api/v1/files/content", params={"ref": f"{repo}@master", "path": "/warm"})
    assert len(warm.content) == 16 * MiB
    before = peak_rss(server.proc.pid)
    commit = put(http, f"{repo}@master", "/big.bin", body(size // MiB, (sent_blake3, sent_sha)))
    info = ok(http.get("/api/v1/files/info", params={"ref": f"{repo}@master", "path": "/big.bin"}))
    assert info["size"] == size and commit["state"] == "FINISHED"

    got_blake3, got_sha, got = blake3.blake3(), hashlib.sha256(), 0
    params = {"ref": f"{repo}@master", "path": "/big.bin"}
    with http.stream("GET", "/api/v1/files/content", params=params) as r:
        assert r.status_code == 200
        assert r.headers["content-length"] == str(size)
        assert r.headers["x-loxo-hash"] == info["hash"]
        for chunk in r.iter_bytes():
            got += len(chunk)
            got_blake3.update(chunk)
            got_sha.update(chunk)
    assert got == size
    assert got_blake3.hexdigest() == sent_blake3.hexdigest()
    assert got_sha.hexdigest() == sent_sha.hexdigest()
    growth = peak_rss(server.proc.pid) - before
    assert growth < size // 2, f"the server's peak RSS grew by {growth / MiB:.1f} MiB"


def test_a_tree_downloads_as_a_tar(http: httpx.Client, names: Names) -> None:
    repo = names("r")
    create_repo(http, repo)
    tree = {"top.txt": b"top", "d/a.txt": b"a" * 1000, "d/e/b.bin": bytes(range(256)) * 40}
    upload = ok(http.post("/api/v1/uploads", json={"ref": f"{repo}@master"}))["id"]
    for path, data in tree.items():
        ok(http.put(f"/api/v1/uploads/{upload}/file", params={"path": path}, content=data))
    ok(http.post(f"/api/v1/uploads/{upload}/finish"))

    def untar(path: str | None) -> dict[str, bytes]:
        params = {"ref": f"{repo}@master", **({"path": path} if path else {})}
        r = http.get("/api/v1/files/tar", params=params)
        assert r.status_code == 200 and r.headers["content-type"] == "application/x-tar"
        with tarfile.open(fileobj=io.BytesIO(r.content)) as tar:
            return {
                m.name.lstrip("/"): tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers()
                if m.isfile()
            }

    assert untar(None) == tree
    assert untar("/d") == {"a.txt": tree["d/a.txt"], "e/b.bin": tree["d/e/b.bin"]}
    assert untar("/top.txt") == {"top.txt": b"top"}
    missing = http.get("/api/v1/files/tar", params={"ref": f"{repo}@master", "path": "/nope"})
    assert missing.status_code == 404


# --- upload sessions --------------------------------------------------------------------


def files_at(http: httpx.Client, ref: str) -> dict[str, bytes]:
    walk = ok(http.get("/api/v1/files/walk", params={"ref": ref}))
    return {
        e["path"]: http.get("/api/v1/files/content", params={"ref": ref, "path": e["path"]}).content
        for e in walk
    }


def tar_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_an_upload_session_becomes_one_commit(http: httpx.Client, names: Names) -> None:
    repo = names("r")
    create_repo(http, repo)
    first = put(http, f"{repo}@master", "/old", b"old")
    upload = ok(http.post("/api/v1/uploads", json={"ref": f"{repo}@master", "description": "u"}))
    url = f"/api/v1/uploads/{upload['id']}"
    assert ok(http.put(f"{url}/file", params={"path": "/a"}, content=b"a1"))["bytes"] == 2
    ok(http.put(f"{url}/file", params={"path": "/a", "append": True}, content=b"a2"))
    tar = tar_of({"t/x": b"x", "t/y": b"y"})
    assert ok(http.put(f"{url}/tar", params={"dest": "/"}, content=tar))["files"] == 2
    ok(http.post(f"{url}/copy", json={"src": f"{repo}@master:/old", "dst": "/copied"}))
    ok(http.delete(f"{url}/file", params={"path": "/old"}))
    assert head_of(http, repo) == first["id"], "nothing is visible before finish"
    commit = ok(http.post(f"{url}/finish"))
    assert commit["parent"] == first["id"] and commit["description"] == "u"
    assert head_of(http, repo) == commit["id"]
    commits = ok(http.get(f"/api/v1/projects/default/repos/{repo}/commits"))
    assert [c["id"] for c in commits] == [commit["id"], first["id"]]
    assert files_at(http, f"{repo}@master") == {
        "/a": b"a1a2",
        "/copied": b"old",
        "/t/x": b"x",
        "/t/y": b"y",
    }
    assert http.post(f"{url}/finish").status_code == 404, "a finished session is gone"


def test_an_aborted_upload_leaves_nothing(http: httpx.Client, names: Names) -> None:
    repo = names("r")
    create_repo(http, repo)
    first = put(http, f"{repo}@master", "/old", b"old")
    upload = ok(http.post("/api/v1/uploads", json={"ref": f"{repo}@master"}))["id"]
    ok(http.put(f"/api/v1/uploads/{upload}/file", params={"path": "/new"}, content=b"x" * 5000))
    ok(http.delete(f"/api/v1/uploads/{upload}/file", params={"path": "/old"}))
    assert ok(http.delete(f"/api/v1/uploads/{upload}")) == {"aborted": upload}
    assert head_of(http, repo) == first["id"]
    assert files_at(http, f"{repo}@master") == {"/old": b"old"}
    assert len(ok(http.get(f"/api/v1/projects/default/repos/{repo}/commits"))) == 1
    assert http.put(f"/api/v1/uploads/{upload}/file", params={"path": "/z"}).status_code == 404


def test_an_unknown_upload_session_is_404(http: httpx.Client) -> None:
    url = "/api/v1/uploads/" + "0" * 32
    for r in (
        http.put(f"{url}/file", params={"path": "/a"}, content=b"a"),
        http.put(f"{url}/tar", content=tar_of({"a": b"a"})),
        http.post(f"{url}/copy", json={"src": "x@master:/a", "dst": "/b"}),
        http.delete(f"{url}/file", params={"path": "/a"}),
        http.post(f"{url}/finish"),
        http.delete(url),
    ):
        error = error_of(r, 404)
        assert error["type"] == "UploadNotFound" and "0" * 32 in error["message"]


# --- server-sent events -----------------------------------------------------------------


class EventReader:
    """Reads an SSE stream in a thread into a queue, until closed."""

    def __init__(self, server: ServerProc, path: str, params: dict[str, Any] | None = None):
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._client = httpx.Client(
            base_url=server.http_url,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=httpx.Timeout(30, read=None),
        )
        self._path, self._params = path, params or {}
        self.failure: list[BaseException] = []
        self.seen: list[tuple[str, Any]] = []
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with connect_sse(self._client, "GET", self._path, params=self._params) as src:
                assert src.response.headers["content-type"].startswith("text/event-stream")
                stream = src.response.extensions["network_stream"]
                self._socket = stream.get_extra_info("socket")
                for event in src.iter_sse():
                    self.events.put((event.event, json.loads(event.data)))
        except httpx.TransportError:
            pass  # closed by the test
        except BaseException as err:  # reported by next()
            self.failure.append(err)

    def next(self, want: Callable[[str, Any], bool], timeout: float = 30.0) -> tuple[str, Any]:
        """The first event ``want`` accepts that no earlier call returned, received before
        or within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for i, (kind, data) in enumerate(self.seen):
                if want(kind, data):
                    del self.seen[i]
                    return kind, data
            assert not self.failure, self.failure
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no such event within {timeout}s; got {self.seen}")
            try:
                self.seen.append(self.events.get(timeout=min(left, 0.5)))
            except queue.Empty:
                continue

    def close(self) -> None:
        """Hang up (a shutdown wakes the reading thread from its blocked read)."""
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._client.close()


def subscribers(http: httpx.Client) -> float:
    m = re.search(r"^loxo_event_subscribers (\S+)$", http.get("/metrics").text, re.M)
    assert m
    return float(m[1])


@pytest.fixture
def events(server: ServerProc, http: httpx.Client) -> Iterator[EventReader]:
    before = subscribers(http)
    reader = EventReader(server, "/api/v1/events")
    deadline = time.monotonic() + 10
    while subscribers(http) <= before:
        assert time.monotonic() < deadline, "the event stream did not subscribe"
        time.sleep(0.02)
    yield reader
    reader.close()


def test_events_deliver_commits_and_job_progress(
    http: httpx.Client, client: loxo.Client, events: EventReader, names: Names
) -> None:
    repo, pipeline = names("in"), names("p")
    create_repo(http, repo)
    commit = put(http, f"{repo}@master", "/a", b"a")
    _, data = events.next(lambda k, d: k == "commit" and d["repo"] == repo)
    assert data == {"project": "default", "repo": repo, "branch": "master", "id": commit["id"]}

    client.create_pipeline(spec(pipeline, repo, "sleep 0.1; cp /pfs/in/* /pfs/out/"))
    _, created = events.next(lambda k, d: k == "pipeline" and d["name"] == pipeline)
    assert created["project"] == "default"
    put(http, f"{repo}@master", "/b", b"b")
    _, job = events.next(lambda k, d: k == "job" and d["pipeline"] == pipeline)
    assert job["total"] >= 1 and job["job_id"]
    _, done = events.next(
        lambda k, d: k == "job" and d["pipeline"] == pipeline and d["state"] == "SUCCESS"
    )
    assert done["processed"] + done["skipped"] == done["total"]
    _, out = events.next(lambda k, d: k == "commit" and d["repo"] == pipeline)
    assert out["branch"] == "master"


def test_logs_follow_a_running_job(
    http: httpx.Client, server: ServerProc, client: loxo.Client, names: Names
) -> None:
    repo, pipeline = names("in"), names("p")
    create_repo(http, repo)
    tree = {f"/f{i}": str(i).encode() for i in range(4)}
    client.create_pipeline(spec(pipeline, repo, 'echo "line $(cat /pfs/in/*)"; sleep 0.4'))
    reader = EventReader(server, "/api/v1/logs", {"pipeline": pipeline, "follow": "true"})
    try:
        with client.modify_file(f"{repo}@master") as mf:
            for path, data in tree.items():
                mf.put_file(path, data)

        def line(kind: str, data: Any) -> bool:
            return kind == "log" and str(data["line"]).startswith("line ")

        _, first = reader.next(line)
        assert first["pipeline"] == pipeline
        job = client.inspect_job(pipeline, first["job_id"])
        assert not job.state.done, "the first line came while the job was running"
        lines = {first["line"]} | {reader.next(line)[1]["line"] for _ in range(len(tree) - 1)}
        assert lines == {f"line {i}" for i in range(4)}
    finally:
        reader.close()

    followed: list[str] = []
    for record in client.follow_logs(pipeline=pipeline):
        if record.line.startswith("line "):
            followed.append(record.line)
        if len(followed) == len(tree):
            break
    assert sorted(followed) == sorted(lines)
