"""PFS through pachyderm_sdk: repos, branches, commits, commit sets and files."""

from __future__ import annotations

import io
import tarfile
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import grpc
import pytest
from pachyderm_sdk import Client
from pachyderm_sdk.api import pfs

from tests.server.pachyderm.conftest import write_tree

Names = Callable[[str], str]


def unset(t: datetime) -> bool:
    """An unset Timestamp field reads back as the epoch."""
    return t.timestamp() == 0


def paths(infos: object) -> list[str]:
    return [i.file.path for i in infos]  # type: ignore[attr-defined]


def test_version_names_the_pachyderm_api_and_loxo(client: Client) -> None:
    v = client.get_version()
    assert (v.major, v.minor) == (2, 12)
    assert "loxo" in v.additional


def test_repos_create_update_inspect_list_delete(client: Client, names: Names) -> None:
    repo = pfs.Repo(name=names("data"))
    client.pfs.create_repo(repo=repo, description="first")
    client.pfs.create_repo(repo=repo, description="second", update=True)
    info = client.pfs.inspect_repo(repo=repo)
    assert (info.repo.name, info.repo.type, info.description) == (repo.name, "user", "second")
    assert info.repo.project.name == "default"
    assert repo.name in [r.repo.name for r in client.pfs.list_repo()]
    assert client.pfs.repo_exists(repo)
    client.pfs.delete_repo(repo=repo)
    assert not client.pfs.repo_exists(repo)


def test_commit_context_manager_writes_one_commit(client: Client, names: Names) -> None:
    repo = pfs.Repo(name=names("in"))
    client.pfs.create_repo(repo=repo)
    branch = pfs.Branch(repo=repo, name="master")
    with client.pfs.commit(branch=branch) as commit:
        commit.put_file_from_bytes("/a.txt", b"alpha")
        commit.put_file_from_bytes("/dir/b.txt", b"beta" * 100_000)
        commit.put_file_from_bytes("/a.txt", b"-more", append=True)
        # nothing is visible before the commit finishes
        assert unset(next(iter(client.pfs.list_commit(repo=repo, all=True))).finished)
    info = commit.wait()
    assert not unset(info.finished) and info.commit.id == commit.id
    assert info.origin.kind == pfs.OriginKind.USER
    assert info.size_bytes_upper_bound == len(b"alpha-more") + 400_000
    listed = list(client.pfs.list_file(file=pfs.File.from_uri(f"{repo.name}@master:/")))
    assert [(f.file.path, f.file_type, f.size_bytes) for f in listed] == [
        ("/a.txt", pfs.FileType.FILE, 10),
        ("/dir/", pfs.FileType.DIR, 400_000),
    ]
    got = client.pfs.pfs_file(file=pfs.File.from_uri(f"{repo.name}@master:/dir/b.txt")).read()
    assert got == b"beta" * 100_000
    assert [c.commit.id for c in client.pfs.list_commit(repo=repo)] == [commit.id]


def test_put_files_and_every_read(client: Client, names: Names, tmp_path: Path) -> None:
    repo = names("tree")
    client.pfs.create_repo(repo=pfs.Repo(name=repo))
    src = write_tree(tmp_path / "src", {"x.csv": b"1,2", "sub/y.csv": b"3,4", "sub/z.txt": b"z"})
    with client.pfs.commit(branch=pfs.Branch.from_uri(f"{repo}@master")) as first:
        first.put_files(source=src, path="/data")
    with client.pfs.commit(branch=pfs.Branch.from_uri(f"{repo}@master")) as second:
        second.put_file_from_bytes("/data/x.csv", b"9,9")
        second.delete_file(path="/data/sub/z.txt")
        second.copy_file(src=pfs.File.from_uri(f"{repo}@{first.id}:/data/sub/y.csv"), dst="/y2")
    second.wait()
    head = pfs.Commit.from_uri(f"{repo}@master")

    walk = paths(client.pfs.walk_file(file=pfs.File(commit=head, path="/")))
    assert walk == ["/", "/data/", "/data/sub/", "/data/sub/y.csv", "/data/x.csv", "/y2"]
    assert paths(client.pfs.glob_file(commit=head, pattern="/data/**.csv")) == [
        "/data/sub/y.csv",
        "/data/x.csv",
    ]
    info = client.pfs.inspect_file(file=pfs.File(commit=head, path="/data/x.csv"))
    assert (info.size_bytes, info.file.commit.id, info.file_type) == (3, second.id, 1)
    assert client.pfs.path_exists(pfs.File(commit=head, path="/data/sub"))
    assert not client.pfs.path_exists(pfs.File(commit=head, path="/data/sub/z.txt"))
    old = pfs.File.from_uri(f"{repo}@{first.id}:/data/sub/z.txt")
    assert client.pfs.pfs_file(file=old).read() == b"z"  # the old commit keeps it

    diff = list(client.pfs.diff_file(new_file=pfs.File(commit=head, path="/")))
    changes = {(d.old_file.file.path or None, d.new_file.file.path or None) for d in diff}
    assert changes == {
        ("/data/x.csv", "/data/x.csv"),
        ("/data/sub/z.txt", None),
        (None, "/y2"),
    }

    stream = b"".join(
        m.value for m in client.pfs.get_file_tar(file=pfs.File(commit=head, path="/data"))
    )
    with tarfile.open(fileobj=io.BytesIO(stream)) as tar:
        members = {m.name.lstrip("/"): m for m in tar.getmembers()}
        assert sorted(members) == ["data", "data/sub", "data/sub/y.csv", "data/x.csv"]
        assert members["data/sub"].isdir()
        extracted = tar.extractfile(members["data/x.csv"])
        assert extracted is not None and extracted.read() == b"9,9"
    with client.pfs.pfs_tar_file(file=pfs.File(commit=head, path="/")) as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    assert got == {"data/sub/y.csv": b"3,4", "data/x.csv": b"9,9", "y2": b"3,4"}


def test_get_file_offset_and_file_from_url(client: Client, names: Names, tmp_path: Path) -> None:
    repo = names("url")
    client.pfs.create_repo(repo=pfs.Repo(name=repo))
    local = tmp_path / "remote.bin"
    local.write_bytes(bytes(range(256)) * 10)
    with client.pfs.commit(branch=pfs.Branch.from_uri(f"{repo}@master")) as c:
        c.put_file_from_url(path="/fetched.bin", url=local.as_uri())
    c.wait()
    file = pfs.File.from_uri(f"{repo}@master:/fetched.bin")
    assert b"".join(m.value for m in client.pfs.get_file(file=file, offset=2550)) == bytes(
        range(246, 256)
    )


def test_create_branch_without_a_head_keeps_an_existing_head(client: Client, names: Names) -> None:
    repo = pfs.Repo(name=names("keep"))
    client.pfs.create_repo(repo=repo)
    master = pfs.Branch(repo=repo, name="master")
    with client.pfs.commit(branch=master) as c:
        c.put_file_from_bytes("/a", b"1")
    client.pfs.create_branch(branch=master)  # no head: the branch stays where it is
    assert client.pfs.inspect_branch(branch=master).head.id == c.id
    with client.pfs.commit(branch=master) as c2:
        c2.put_file_from_bytes("/b", b"2")
    assert (
        client.pfs.inspect_commit(commit=pfs.Commit(repo=repo, id=c2.id)).parent_commit.id == c.id
    )


def test_branches_and_commit_history(client: Client, names: Names) -> None:
    repo = pfs.Repo(name=names("hist"))
    client.pfs.create_repo(repo=repo)
    master = pfs.Branch(repo=repo, name="master")
    ids = []
    for n in range(3):
        with client.pfs.commit(branch=master) as c:
            c.put_file_from_bytes(f"/f{n}", str(n).encode())
        ids.append(c.id)
    client.pfs.create_branch(
        branch=pfs.Branch(repo=repo, name="v1"), head=pfs.Commit(repo=repo, id=ids[0])
    )
    v1 = client.pfs.inspect_branch(branch=pfs.Branch(repo=repo, name="v1"))
    assert v1.head.id == ids[0]
    assert sorted(b.branch.name for b in client.pfs.list_branch(repo=repo)) == ["master", "v1"]
    assert [c.commit.id for c in client.pfs.list_commit(repo=repo)] == ids[::-1]
    assert [c.commit.id for c in client.pfs.list_commit(repo=repo, number=2)] == ids[:0:-1]
    assert [c.commit.id for c in client.pfs.list_commit(repo=repo, reverse=True)] == ids
    auto = client.pfs.list_commit(repo=repo, origin_kind=pfs.OriginKind.AUTO)
    assert list(auto) == []
    head = client.pfs.inspect_commit(commit=pfs.Commit(repo=repo, branch=master))
    assert head.commit.id == ids[2] and head.parent_commit.id == ids[1]
    parent = client.pfs.inspect_commit(commit=pfs.Commit.from_uri(f"{repo.name}@master^"))
    assert parent.commit.id == ids[1]
    client.pfs.delete_branch(branch=pfs.Branch(repo=repo, name="v1"))
    assert not client.pfs.branch_exists(pfs.Branch(repo=repo, name="v1"))

    client.pfs.squash_commit(commit=pfs.Commit(repo=repo, id=ids[1]))
    assert [c.commit.id for c in client.pfs.list_commit(repo=repo)] == [ids[2], ids[0]]
    client.pfs.drop_commit(commit=pfs.Commit(repo=repo, id=ids[2]))
    assert client.pfs.inspect_branch(branch=master).head.id == ids[0]


def test_subscribe_commit_streams_new_commits(client: Client, names: Names) -> None:
    repo = pfs.Repo(name=names("sub"))
    client.pfs.create_repo(repo=repo)
    seen: list[str] = []
    stream = client.pfs.subscribe_commit(repo=repo, branch="master", state=pfs.CommitState.FINISHED)

    def read() -> None:
        try:
            for info in stream:
                seen.append(info.commit.id)
                if len(seen) == 2:
                    return
        except grpc.RpcError:  # pragma: no cover - reported by the assertion below
            return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ids = []
    for n in range(2):
        with client.pfs.commit(branch=pfs.Branch(repo=repo, name="master")) as c:
            c.put_file_from_bytes("/f", str(n).encode())
        ids.append(c.id)
    reader.join(20)
    stream.close()  # type: ignore[attr-defined]
    assert seen == ids


def test_commit_sets_inspect_list_squash_drop(client: Client, names: Names) -> None:
    repo = pfs.Repo(name=names("sets"))
    client.pfs.create_repo(repo=repo)
    ids = []
    for n in range(2):
        with client.pfs.commit(branch=pfs.Branch(repo=repo, name="master")) as c:
            c.put_file_from_bytes(f"/f{n}", b"x")
        ids.append(c.id)
    infos = client.pfs.wait_commit_set(pfs.CommitSet(id=ids[0]))
    assert [(i.commit.repo.name, i.commit.id) for i in infos] == [(repo.name, ids[0])]
    listed = {s.commit_set.id for s in client.pfs.list_commit_set()}
    assert set(ids) <= listed
    client.pfs.drop_commit_set(commit_set=pfs.CommitSet(id=ids[1]))
    assert [c.commit.id for c in client.pfs.list_commit(repo=repo)] == [ids[0]]
    with pytest.raises(grpc.RpcError) as err:
        list(client.pfs.inspect_commit_set(commit_set=pfs.CommitSet(id=ids[1])))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_start_commit_then_modify_file_streams_into_it(client: Client, names: Names) -> None:
    repo = pfs.Repo(name=names("open"))
    client.pfs.create_repo(repo=repo)
    commit = client.pfs.start_commit(branch=pfs.Branch(repo=repo, name="master"))
    client.pfs.put_file_from_bytes(commit=commit, path="/one", data=b"1")
    client.pfs.put_file_from_bytes(commit=commit, path="/two", data=b"2")
    info = client.pfs.inspect_commit(commit=commit)
    assert unset(info.finished)
    client.pfs.finish_commit(commit=commit)
    done = client.pfs.inspect_commit(commit=commit, wait=pfs.CommitState.FINISHED)
    assert not unset(done.finished) and done.commit.id == commit.id
    assert paths(client.pfs.list_file(file=pfs.File(commit=commit, path="/"))) == ["/one", "/two"]


def test_a_file_bigger_than_one_message_is_one_upload(client: Client, names: Names) -> None:
    repo = names("big")
    client.pfs.create_repo(repo=pfs.Repo(name=repo))
    data = bytes(range(256)) * (90 * 1024)  # 22.5 MiB: the SDK sends it as two messages
    with client.pfs.commit(branch=pfs.Branch.from_uri(f"{repo}@master")) as c:
        c.put_file_from_bytes("/big.bin", data)
    c.wait()
    file = pfs.File.from_uri(f"{repo}@master:/big.bin")
    assert client.pfs.inspect_file(file=file).size_bytes == len(data)
    assert client.pfs.pfs_file(file=file).read() == data
