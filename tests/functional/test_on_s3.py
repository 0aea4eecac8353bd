"""The versioned file system, a pipeline and the CLI with the object store on S3: a real S3
server (moto) on loopback, reached only through the store URL's ``?endpoint=`` (no
``AWS_ENDPOINT_URL`` in the environment), so the executor's worker processes, which open the
store by URL, must find it the same way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.s3server import S3Server

import loxo
from loxo.errors import ConflictError, ObjectNotFound
from loxo.pfs.maintenance import CLOCK_MARGIN
from loxo.pfs.model import ChangeType
from loxo.pps.model import JobState
from loxo.storage.objectstore import ObjectStore

COPY_PIPELINE = {
    "pipeline": {"name": "copy"},
    "transform": {"cmd": ["sh", "-c", "cp /pfs/in/* /pfs/out/"]},
    "input": {"pfs": {"repo": "in", "glob": "/*"}},
    "parallelism_spec": {"constant": 2},
}


@pytest.fixture
def store_url(s3_server: S3Server, s3_bucket: str) -> str:
    return f"s3://{s3_bucket}/home-{uuid.uuid4().hex[:10]}?endpoint={s3_server.endpoint}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def client(home: Path, store_url: str) -> Iterator[loxo.Client]:
    with loxo.Client(home, store_url=store_url) as c:
        yield c


def tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


def store_of(client: loxo.Client) -> ObjectStore:
    store: ObjectStore = client.service.store
    return store


def stored_bytes(client: loxo.Client) -> int:
    return sum(info.size for info in store_of(client).list())


def test_files_commits_and_history(client: loxo.Client, home: Path, tmp_path: Path) -> None:
    big = os.urandom(3_000_000)
    src = tree(
        tmp_path / "src",
        {"a.txt": "alpha", "d/b.csv": "1,2", "d/c.csv": "3,4", "d/e/f.bin": big},
    )
    client.create_repo("r")
    with client.modify_file("r@master") as mf:
        assert mf.put_dir("/", src) == 4
    first = mf.commit.id
    with client.modify_file("r@master") as mf:
        mf.put_file("/a.txt", b"alpha, again")
        mf.put_file("/new.txt", b"new")
        mf.delete_file("/d/c.csv")
    assert [f.path for f in client.list_file("r@master", "/d")] == ["/d/b.csv", "/d/e"]
    assert [f.path for f in client.glob_file("r@master", "/**.csv")] == ["/d/b.csv"]
    diff = {d.path: d.change for d in client.diff_file("r@master")}
    assert diff == {
        "/a.txt": ChangeType.CHANGED,
        "/new.txt": ChangeType.ADDED,
        "/d/c.csv": ChangeType.DELETED,
    }
    assert client.get_file("r@master", "/d/e/f.bin") == big
    assert client.get_file(f"r@{first}", "/a.txt") == b"alpha"
    out = tmp_path / "out"
    client.get_file_to_dir("r@master", "/d", out)
    assert (out / "e" / "f.bin").read_bytes() == big
    # the objects are in the bucket, none in the home
    kinds = {info.key.split("/")[0] for info in store_of(client).list()}
    assert kinds >= {"packs", "filesets"}
    assert not (home / "objects").exists() or not any((home / "objects").rglob("*"))


def test_dedup_across_repos(client: loxo.Client) -> None:
    data = os.urandom(4_000_000)
    client.create_repo("a")
    client.create_repo("b")
    client.put_file("a@master", "/x", data)
    before = stored_bytes(client)
    client.put_file("b@master", "/y", data)
    assert stored_bytes(client) - before < 50_000  # only fileset nodes
    assert client.get_file("b@master", "/y") == data


def test_gc_and_fsck(client: loxo.Client) -> None:
    client.create_repo("keep")
    client.create_repo("drop")
    keep = {f"/k{i}.bin": os.urandom(50_000) for i in range(20)}
    with client.modify_file("keep@master") as mf:
        for path, data in keep.items():
            mf.put_file(path, data)
    with client.modify_file("drop@master") as mf:
        for i in range(20):
            mf.put_file(f"/d{i}.bin", os.urandom(50_000))
    client.delete_repo("drop")
    before = stored_bytes(client)
    # S3's LastModified cannot be back-dated: wait until the garbage is older than gc's floor
    time.sleep(CLOCK_MARGIN + 1.1)
    report = client.gc()
    assert report.objects_deleted > 0
    assert stored_bytes(client) < before * 0.7
    assert all(client.get_file("keep@master", p) == d for p, d in keep.items())
    assert client.fsck().ok
    # a pack lost behind loxo's back: reads fail naming it, fsck reports it
    pack = next(i.key for i in store_of(client).list("packs/"))
    store_of(client).delete(pack)
    with pytest.raises(ObjectNotFound, match=pack):
        for path in keep:
            client.get_file("keep@master", path)
    assert [p.key for p in client.fsck().problems] == [pack]


def test_the_home_records_its_store(
    home: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with loxo.Client(home, store_url=store_url) as c:
        c.create_repo("r")
        c.put_file("r@master", "/f", b"on s3")
    assert (home / "config.yaml").read_text().strip() == f"store: {store_url}"
    with loxo.Client(home) as c:  # no URL: the recorded one
        assert c.get_file("r@master", "/f") == b"on s3"
        assert c.service.store.url == store_url
    other = store_url.replace("/home-", "/other-")
    with pytest.raises(ConflictError, match="keeps its objects in s3://"):
        loxo.Client(home, store_url=other)
    monkeypatch.setenv("LOXO_STORE", other)
    with pytest.raises(ConflictError):
        loxo.Client(home)
    with loxo.Client(tmp_path / "fresh") as c:  # LOXO_STORE names a new home's store
        assert c.service.store.url == other
    with loxo.Client(tmp_path / "local", store_url=None) as c:
        c.create_repo("r")
    monkeypatch.delenv("LOXO_STORE")
    with pytest.raises(ConflictError, match="objects"):
        loxo.Client(tmp_path / "local", store_url=store_url)


def test_copy_pipeline_on_local_workers(
    home: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not any(k.startswith("AWS_ENDPOINT_URL") for k in os.environ)
    monkeypatch.setenv("LOXO_EXECUTOR", "local")  # worker processes, opening the store by URL
    with loxo.Client(home, store_url=store_url) as client:
        client.create_repo("in")
        files = {f"/f{i}.txt": f"datum {i}\n".encode() * (i + 1) for i in range(6)}
        with client.modify_file("in@master") as mf:
            for path, data in files.items():
                mf.put_file(path, data)
        client.create_pipeline(json.dumps(COPY_PIPELINE))
        client.drive()
        job = client.list_job("copy")[0]
        assert (job.state, job.data_processed) == (JobState.SUCCESS, 6), job.reason
        datums = client.list_datum("copy", job.id)
        assert all(not d.worker.endswith(f":{os.getpid()}") for d in datums)
        assert sum(d.upload_bytes for d in datums) == sum(map(len, files.values()))
        outputs = {
            e.path: client.get_file("copy@master", e.path) for e in client.walk_files("copy@master")
        }
        assert outputs == files
        client.put_file("in@master", "/f9.txt", b"late")
        client.drive()
        job = client.list_job("copy")[0]
        assert (job.data_processed, job.data_skipped) == (1, 6)
        assert client.get_file("copy@master", "/f9.txt") == b"late"


def loxo_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOXO_")}
    return subprocess.run(
        [sys.executable, "-m", "loxo.cli.main", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_with_store(home: Path, store_url: str, tmp_path: Path, s3_server: S3Server) -> None:
    src = tree(tmp_path / "src", {"a.txt": "A", "sub/b.txt": "B"})
    r = loxo_cli(home, "--store", store_url, "create", "repo", "r")
    assert r.returncode == 0, r.stderr
    r = loxo_cli(home, "put", "file", "-r", "r@master:/", "-f", str(src))
    assert r.returncode == 0, r.stderr
    r = loxo_cli(home, "get", "file", "r@master:/sub/b.txt")
    assert (r.returncode, r.stdout) == (0, "B")
    r = loxo_cli(home, "--store", store_url.replace("/home-", "/elsewhere-"), "list", "repo")
    assert r.returncode == ConflictError.exit_code
    assert r.stderr.count("\n") == 1 and "keeps its objects in" in r.stderr
    missing = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/p?endpoint={s3_server.endpoint}"
    r = loxo_cli(tmp_path / "h3", "--store", missing, "create", "repo", "r")
    r = loxo_cli(tmp_path / "h3", "put", "file", "r@master:/x", "-f", str(src / "a.txt"))
    assert r.returncode == 8, r.stderr
    assert (
        r.stderr.count("\n") == 1 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    )
