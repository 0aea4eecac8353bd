"""Functional tests of the versioned file system through the public Python client."""

from __future__ import annotations

import http.server
import io
import os
import re
import tarfile
import threading
from pathlib import Path

import pytest

import loxo
from loxo.errors import (
    BranchNotFound,
    CommitNotFound,
    CommitOpen,
    FileNotFound,
    HasDependents,
    InvalidPath,
    InvalidRef,
    PathConflict,
    PreconditionError,
    RepoNotFound,
)
from loxo.pfs.model import ChangeType, CommitState, FileType


def gen(client: loxo.Client, ref: str, files: dict[str, bytes | str]) -> str:
    """Put a dict of files as one commit; returns the commit ID."""
    with client.modify_file(ref) as mf:
        for path, data in files.items():
            mf.put_file(path, data.encode() if isinstance(data, str) else data)
    return str(mf.commit.id)


def test_history_refs_and_diff(client: loxo.Client) -> None:
    client.create_repo("r")
    c1 = gen(client, "r@master", {"/a.txt": "1", "/d/b.txt": "b", "/d/c.txt": "c"})
    c2 = gen(client, "r@master", {"/a.txt": "2", "/e.txt": "e"})
    client.delete_file("r@master", "/d/b.txt")
    assert client.get_file("r@master", "/a.txt") == b"2"
    assert client.get_file("r@master^", "/a.txt") == b"2"
    assert client.get_file("r@master^^", "/a.txt") == b"1"
    assert client.get_file("r@master^2", "/a.txt") == b"1"
    assert client.get_file("r@master.1", "/a.txt") == b"1"
    assert client.get_file("r@master.-2", "/a.txt") == b"1"
    assert client.get_file(f"r@{c1}:/d/b.txt") == b"b"
    assert client.inspect_commit("r@master.2").id == c2
    with pytest.raises(CommitNotFound):
        client.inspect_commit("r@master^9")
    with pytest.raises(CommitNotFound):
        client.inspect_commit("r@master.4")
    diff = {d.path: d.change for d in client.diff_file(f"r@{c2}")}
    assert diff == {"/a.txt": ChangeType.CHANGED, "/e.txt": ChangeType.ADDED}
    diff = {d.path: d.change for d in client.diff_file("r@master", f"r@{c1}")}
    assert diff == {
        "/a.txt": ChangeType.CHANGED,
        "/e.txt": ChangeType.ADDED,
        "/d/b.txt": ChangeType.DELETED,
    }
    commits = client.list_commit("r@master")
    assert [c.parent for c in commits[:-1]] == [c.id for c in commits[1:]]
    assert client.inspect_commit(f"r@{c1}").children == [c2]
    assert len(client.list_commit("r", number=2)) == 2
    assert [c.id for c in client.list_commit("r@master", from_commit=c2)] == [commits[0].id]


def test_list_glob_inspect(client: loxo.Client) -> None:
    client.create_repo("r")
    gen(client, "r@master", {"/x/1.csv": "a", "/x/2.csv": "bb", "/x/y/3.csv": "ccc", "/z.txt": "z"})
    top = client.list_file("r@master", "/")
    assert [(f.path, f.type, f.size) for f in top] == [
        ("/x", FileType.DIR, 6),
        ("/z.txt", FileType.FILE, 1),
    ]
    assert [f.path for f in client.list_file("r@master", "/x")] == ["/x/1.csv", "/x/2.csv", "/x/y"]
    assert [f.path for f in client.glob_file("r@master", "/x/*.csv")] == ["/x/1.csv", "/x/2.csv"]
    assert {f.path for f in client.glob_file("r@master", "**.csv")} == {
        "/x/1.csv",
        "/x/2.csv",
        "/x/y/3.csv",
    }
    assert [f.path for f in client.glob_file("r@master", "/*")] == ["/x", "/z.txt"]
    d1 = client.inspect_file("r@master", "/x")
    assert (d1.type, d1.size) == (FileType.DIR, 6)
    # a directory's hash depends on its children's content only
    client.create_repo("s")
    gen(client, "s@master", {"/q/1.csv": "a", "/q/2.csv": "bb", "/q/y/3.csv": "ccc"})
    assert client.inspect_file("s@master", "/q").hash == d1.hash
    gen(client, "s@master", {"/q/y/3.csv": "changed"})
    assert client.inspect_file("s@master", "/q").hash != d1.hash
    with pytest.raises(FileNotFound):
        client.inspect_file("r@master", "/nope")


def test_path_rules(client: loxo.Client) -> None:
    client.create_repo("r")
    gen(client, "r@master", {"/a/b.txt": "x"})
    with pytest.raises(PathConflict, match="/a"):
        client.put_file("r@master", "/a", b"file over a directory")
    with pytest.raises(PathConflict, match=re.escape("/a/b.txt")):
        client.put_file("r@master", "/a/b.txt/c", b"under a file")
    with pytest.raises(InvalidPath, match=re.escape("'..'")):
        client.put_file("r@master", "/a/../b", b"")
    with pytest.raises(InvalidPath, match=r"\*"):
        client.put_file("r@master", "/a*", b"")
    with pytest.raises(PathConflict, match="directory"):
        client.get_file("r@master", "/a")
    assert len(client.list_commit("r")) == 1  # failed writes made no commit


def test_open_commit_visibility_and_rules(client: loxo.Client) -> None:
    client.create_repo("r")
    gen(client, "r@master", {"/old.txt": "old"})
    info = client.start_commit("r", "master", description="batch")
    client.put_file("r@master", "/new.txt", b"new")
    client.delete_file("r@master", "/old.txt")
    # readers of the branch still see the last finished commit
    assert [f.path for f in client.list_file("r@master")] == ["/old.txt"]
    # the writer can read the open commit by its ID
    assert [f.path for f in client.list_file(f"r@{info.id}")] == ["/new.txt"]
    with pytest.raises(CommitOpen):
        client.start_commit("r", "master")
    assert client.inspect_commit(f"r@{info.id}").state == CommitState.STARTED
    done = client.finish_commit("r@master")
    assert done.state == CommitState.FINISHED and done.description == "batch"
    assert [f.path for f in client.list_file("r@master")] == ["/new.txt"]
    with pytest.raises(PreconditionError):
        client.finish_commit("r@master")


def test_wait_commit_from_another_thread(client: loxo.Client, tmp_path: Path) -> None:
    client.create_repo("r")
    info = client.start_commit("r", "master")

    def finish() -> None:
        with loxo.Client(tmp_path / "home") as other:
            other.put_file("r@master", "/f", b"x")
            other.finish_commit(f"r@{info.id}")

    t = threading.Timer(0.3, finish)
    t.start()
    waited = client.wait_commit(f"r@{info.id}", timeout=30)
    t.join()
    assert waited.state == CommitState.FINISHED and waited.file_count == 1


def test_concurrent_writers_both_land(tmp_path: Path) -> None:
    with loxo.Client(tmp_path / "h") as c:
        c.create_repo("r")

    def write(i: int) -> None:
        with loxo.Client(tmp_path / "h") as c:
            for k in range(10):
                c.put_file("r@master", f"/w{i}/{k}", f"{i}-{k}".encode())

    threads = [threading.Thread(target=write, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with loxo.Client(tmp_path / "h") as c:
        assert len(list(c.walk_files("r@master"))) == 30
        assert len(c.list_commit("r@master")) == 30


def test_delete_and_squash_commits(client: loxo.Client) -> None:
    client.create_repo("r")
    c1 = gen(client, "r@master", {"/a": "1"})
    c2 = gen(client, "r@master", {"/b": "2"})
    c3 = gen(client, "r@master", {"/c": "3"})
    with pytest.raises(HasDependents, match="children"):
        client.delete_commit(f"r@{c2}")
    client.squash_commit(f"r@{c2}")
    assert client.inspect_commit(f"r@{c3}").parent == c1
    assert sorted(e.path for e in client.walk_files("r@master")) == ["/a", "/b", "/c"]
    with pytest.raises(PreconditionError, match="no children"):
        client.squash_commit(f"r@{c3}")
    client.delete_commit(f"r@{c3}")
    assert client.inspect_branch("r", "master").head == c1
    assert sorted(e.path for e in client.walk_files("r@master")) == ["/a"]
    # an open commit can be deleted: its writes are dropped
    client.start_commit("r", "master")
    client.put_file("r@master", "/x", b"x")
    client.delete_commit("r@master")
    assert client.inspect_branch("r", "master").head == c1


def test_branches(client: loxo.Client) -> None:
    client.create_repo("r")
    c1 = gen(client, "r@master", {"/a": "1"})
    gen(client, "r@master", {"/a": "2"})
    client.create_branch("r", "v1", head="master^")
    assert client.inspect_branch("r", "v1").head == c1
    gen(client, "r@v1", {"/b": "on v1"})
    assert client.get_file("r@v1", "/a") == b"1"
    assert sorted(b.name for b in client.list_branch("r")) == ["master", "v1"]
    client.delete_branch("r", "v1")
    with pytest.raises(BranchNotFound):
        client.inspect_branch("r", "v1")
    with pytest.raises(InvalidRef):
        client.create_branch("r", "x", head="other@master")


def test_create_branch_without_a_head_keeps_an_existing_head(client: loxo.Client) -> None:
    client.create_repo("r")
    c1 = gen(client, "r@master", {"/a": "1"})
    assert client.create_branch("r", "master").head == c1
    assert client.inspect_branch("r", "master").head == c1
    c2 = gen(client, "r@master", {"/b": "2"})
    assert client.inspect_commit("r@master").parent == c1 and c2 != c1
    assert client.get_file("r@master", "/a") == b"1"
    assert client.create_branch("r", "empty").head is None, "a new branch starts empty"


def test_copy_is_by_reference(client: loxo.Client, tmp_path: Path) -> None:
    client.create_repo("a")
    client.create_repo("b")
    gen(client, "a@master", {"/big.bin": os.urandom(3_000_000), "/d/s.txt": "s"})
    before = _store_bytes(tmp_path / "home")
    client.copy_file("a@master:/big.bin", "b@master", "/copy.bin")
    client.copy_file("a@master:/d", "b@master", "/dd")
    assert _store_bytes(tmp_path / "home") - before < 50_000  # only index nodes
    assert client.get_file("b@master", "/copy.bin") == client.get_file("a@master", "/big.bin")
    assert client.get_file("b@master", "/dd/s.txt") == b"s"


def test_dedup_across_repos_and_append(client: loxo.Client, tmp_path: Path) -> None:
    data = os.urandom(4_000_000)
    client.create_repo("a")
    client.create_repo("b")
    client.put_file("a@master", "/x", data)
    before = _store_bytes(tmp_path / "home")
    client.put_file("b@master", "/y", data)
    assert _store_bytes(tmp_path / "home") - before < 50_000
    client.put_file("b@master", "/y", b"tail", append=True)
    assert client.get_file("b@master", "/y") == data + b"tail"


def test_tar_and_urls(client: loxo.Client, tmp_path: Path) -> None:
    client.create_repo("r")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in {"t/one.txt": b"1", "t/sub/two.txt": b"22"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tar_path = tmp_path / "in.tar"
    tar_path.write_bytes(buf.getvalue())
    with client.modify_file("r@master") as mf:
        mf.put_url("/untarred", f"file://{tar_path}", untar=True)
    assert client.get_file("r@master", "/untarred/t/sub/two.txt") == b"22"
    out = io.BytesIO()
    assert client.get_file_tar("r@master", "/untarred/t", out) == 2
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        assert sorted(tar.getnames()) == ["one.txt", "sub/two.txt"]
    served = tmp_path / "www"
    served.mkdir()
    (served / "page.txt").write_bytes(b"over http")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0),
        lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(served)),
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        with client.modify_file("r@master") as mf:
            mf.put_url("/web.txt", f"http://127.0.0.1:{port}/page.txt")
        assert client.get_file("r@master", "/web.txt") == b"over http"
    finally:
        server.shutdown()
        server.server_close()


def test_repo_lifecycle(client: loxo.Client) -> None:
    client.create_repo("r", description="first")
    assert client.inspect_repo("r").description == "first"
    client.update_repo("r", "second")
    assert client.inspect_repo("r").description == "second"
    gen(client, "r@master", {"/a": "12345"})
    assert client.inspect_repo("r").size == 5
    assert [r.name for r in client.list_repo()] == ["r"]
    client.delete_repo("r")
    with pytest.raises(RepoNotFound):
        client.inspect_repo("r")


def test_many_small_files_share_few_objects(client: loxo.Client, tmp_path: Path) -> None:
    client.create_repo("r")
    with client.modify_file("r@master") as mf:
        for i in range(20_000):
            mf.put_file(f"/d{i % 100}/f{i}", os.urandom(64))
    packs = list((tmp_path / "home" / "objects" / "packs").rglob("*"))
    assert 0 < len([p for p in packs if p.is_file()]) <= 5
    assert client.inspect_commit("r@master").file_count == 20_000


def _store_bytes(home: Path) -> int:
    return sum(f.stat().st_size for f in (home / "objects").rglob("*") if f.is_file())
