"""``LoxoFileSystem`` on a real store, embedded and through ``loxo serve``: listing in
fsspec's shapes, reads of any commit (branch, ID, ancestry, project), writes as commits,
and loxo errors as the built-in exceptions fsspec users catch."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from loxo.access import LoxoFileSystem

from .conftest import LoxoHome

TREE = {"/a.csv": "x\n1\n", "/dir/b.txt": "beta", "/dir/sub/c.bin": b"\x00" * 300}


@pytest.fixture
def lh(loxo_home: LoxoHome) -> LoxoHome:
    loxo_home.tree("images", TREE)
    return loxo_home


def commits(lh: LoxoHome, repo: str = "images") -> int:
    return len(lh.client.list_commit(repo))


def test_ls_has_fsspecs_shape(lh: LoxoHome) -> None:
    fs = lh.fs
    assert fs.ls("loxo://images@master", detail=False) == [
        "images@master/a.csv",
        "images@master/dir",
    ]
    a, d = fs.ls("images@master/")
    assert (a["name"], a["size"], a["type"]) == ("images@master/a.csv", 4, "file")
    assert (d["name"], d["size"], d["type"]) == ("images@master/dir", 304, "directory")
    assert fs.ls("images@master/dir/b.txt", detail=False) == ["images@master/dir/b.txt"]
    assert fs.ls("", detail=False) == ["images"]  # the root: the repos
    assert fs.ls("images/dir", detail=False) == ["images/dir/b.txt", "images/dir/sub"]


def test_info_find_walk_glob(lh: LoxoHome) -> None:
    fs = lh.fs
    info = fs.info("images@master/dir/sub/c.bin")
    assert (info["size"], info["type"]) == (300, "file")
    assert fs.info("images@master/dir")["type"] == "directory"
    assert fs.find("images@master") == [
        "images@master/a.csv", "images@master/dir/b.txt",
        "images@master/dir/sub/c.bin"]  # fmt: skip
    assert fs.find("images@master/dir", maxdepth=1) == ["images@master/dir/b.txt"]
    found = fs.find("images@master/dir", withdirs=True, detail=True)
    assert {n: (i["type"], i["size"]) for n, i in found.items()} == {
        "images@master/dir": ("directory", 304), "images@master/dir/b.txt": ("file", 4),
        "images@master/dir/sub": ("directory", 300),
        "images@master/dir/sub/c.bin": ("file", 300)}  # fmt: skip
    assert fs.find("images@master/a.csv") == ["images@master/a.csv"]
    assert fs.find("images@master/nope") == []
    assert list(fs.walk("images@master")) == [
        ("images@master", ["dir"], ["a.csv"]), ("images@master/dir", ["sub"], ["b.txt"]),
        ("images@master/dir/sub", [], ["c.bin"])]  # fmt: skip
    assert fs.glob("loxo://images@master/**/*.txt") == ["images@master/dir/b.txt"]
    assert fs.glob("images@master/*") == ["images@master/a.csv", "images@master/dir"]
    assert fs.glob("images@master/dir/*/c.*") == ["images@master/dir/sub/c.bin"]
    assert fs.exists("images@master/dir") and fs.isdir("images@master/dir")
    assert fs.isfile("images@master/a.csv") and not fs.isfile("images@master/dir")
    assert not fs.exists("images@master/zz") and not fs.exists("nope@master/a.csv")
    assert not fs.exists("images@nope/a.csv")


def test_cat_open_and_ranges(lh: LoxoHome) -> None:
    fs = lh.fs
    assert fs.cat("loxo://images@master/dir/b.txt") == b"beta"
    assert fs.cat_file("images@master/dir/b.txt", start=1, end=3) == b"et"
    assert fs.cat_file("images@master/dir/b.txt", start=-2) == b"ta"
    assert fs.cat_file("images@master/dir/b.txt", start=1, end=-1) == b"et"
    assert fs.cat_file("images@master/dir/b.txt", start=3, end=100) == b"a"
    assert fs.cat(["images@master/a.csv", "images@master/dir/b.txt"]) == {
        "images@master/a.csv": b"x\n1\n", "images@master/dir/b.txt": b"beta"}  # fmt: skip
    with fs.open("images@master/a.csv") as f:
        f.seek(2)
        assert f.read(1) == b"1" and f.tell() == 3
    with fsspec.open("loxo://images@master/a.csv", "rt", **lh.options) as f:
        assert f.read() == "x\n1\n"


def test_refs_ancestry_commit_ids_projects_default_branch(lh: LoxoHome) -> None:
    fs = lh.fs
    first = lh.client.inspect_commit("images@master").id
    fs.pipe("images@master/dir/b.txt", b"BETA2")
    assert fs.cat("images@master/dir/b.txt") == b"BETA2"
    assert fs.cat("images/dir/b.txt") == b"BETA2"  # loxo://REPO/PATH: the default branch
    assert fs.cat("images@master^1/dir/b.txt") == b"beta"
    assert fs.cat("images@master.1/dir/b.txt") == b"beta"
    assert fs.cat(f"images@{first}/dir/b.txt") == b"beta"
    assert fs.ls(f"images@{first}/dir", detail=False) == [
        f"images@{first}/dir/b.txt", f"images@{first}/dir/sub"]  # fmt: skip
    lh.client.create_project("proj")
    lh.client.create_repo("maps", project="proj")
    fs.pipe("loxo://proj/maps@dev/m.txt", b"in a project")
    assert fs.cat("proj/maps@dev/m.txt") == b"in a project"
    assert fs.ls("proj/maps@dev", detail=False) == ["proj/maps@dev/m.txt"]
    assert fs.cat("proj/maps@dev^0/m.txt") == b"in a project"


def test_a_file_reads_the_commit_it_opened_on(lh: LoxoHome) -> None:
    fs = lh.fs
    with fs.open("images@master/a.csv", block_size=1, cache_type="none") as f:
        assert f.read(1) == b"x"
        fs.pipe("images@master/a.csv", b"y\n2\n")  # the branch moves on
        assert f.read() == b"\n1\n"
    assert fs.cat("images@master/a.csv") == b"y\n2\n"


def test_each_closed_file_is_one_commit(lh: LoxoHome) -> None:
    fs, before = lh.fs, commits(lh)
    with fs.open("loxo://images@master/new/one.bin", "wb", block_size=5 * 2**20) as f:
        for _ in range(3):
            f.write(b"z" * (2 * 2**20))  # several buffer flushes into the spool
        assert commits(lh) == before  # nothing visible before close
    assert commits(lh) == before + 1
    assert fs.cat("images@master/new/one.bin") == b"z" * (6 * 2**20)
    fs.pipe("images@master/p.txt", b"p")
    with fs.open("images@master/p.txt", "ab") as f:
        f.write(b"q")
    assert fs.cat("images@master/p.txt") == b"pq"
    with fsspec.open("loxo://images@master/t.txt", "w", **lh.options) as f:
        f.write("text")
    assert fs.cat("images@master/t.txt") == b"text"
    assert commits(lh) == before + 4
    with pytest.raises(FileExistsError):
        fs.open("images@master/t.txt", "xb")


def test_put_rm_copy_mv_are_one_commit_each(lh: LoxoHome, tmp_path: Path) -> None:
    fs, before = lh.fs, commits(lh)
    local = tmp_path / "up"
    (local / "s").mkdir(parents=True)
    for name in ("u1", "u2", "s/u3"):
        (local / name).write_text(name)
    fs.put(str(local), "images@master/up", recursive=True)
    assert fs.find("images@master/up") == [
        "images@master/up/s/u3", "images@master/up/u1", "images@master/up/u2"]  # fmt: skip
    fs.copy("images@master/up", "images@master/copied", recursive=True)
    assert fs.cat("images@master/copied/s/u3") == b"s/u3"
    fs.mv("images@master/copied/u1", "images@master/moved")
    assert fs.cat("images@master/moved") == b"u1" and not fs.exists("images@master/copied/u1")
    fs.rm("images@master/up", recursive=True)
    assert not fs.exists("images@master/up")
    with pytest.raises(IsADirectoryError):
        fs.rm("images@master/dir")  # a directory needs recursive=True
    fs.rm(["images@master/a.csv", "images@master/moved"])
    assert commits(lh) == before + 5
    assert fs.find("images@master") == [
        "images@master/copied/s/u3", "images@master/copied/u2",
        "images@master/dir/b.txt", "images@master/dir/sub/c.bin"]  # fmt: skip
    local_out = tmp_path / "down"
    fs.get("images@master/dir", str(local_out), recursive=True)
    assert (local_out / "sub" / "c.bin").read_bytes() == b"\x00" * 300


def test_a_transaction_is_one_commit(lh: LoxoHome) -> None:
    fs, before = lh.fs, commits(lh)
    with fs.transaction as transaction:
        fs.pipe("images@master/t/1.txt", b"1")
        with fs.open("images@master/t/2.txt", "wb") as f:
            f.write(b"2")
        fs.rm("images@master/a.csv")
        fs.copy("images@master/dir/b.txt", "images@master/t/3.txt")
        assert not fs.exists("images@master/t/1.txt")  # invisible until the end
        assert commits(lh) == before
    assert commits(lh) == before + 1
    assert fs.find("images@master/t") == [
        "images@master/t/1.txt", "images@master/t/2.txt", "images@master/t/3.txt"]  # fmt: skip
    assert not fs.exists("images@master/a.csv")
    (made,) = transaction.commits
    assert made.id == lh.client.inspect_commit("images@master").id


def test_a_failed_transaction_leaves_nothing(lh: LoxoHome) -> None:
    fs, before = lh.fs, commits(lh)
    with pytest.raises(KeyError), fs.transaction:
        fs.pipe("images@master/t/1.txt", b"1")
        with fs.open("images@master/t/2.txt", "wb") as f:
            f.write(b"2")
        raise KeyError("boom")
    assert commits(lh) == before
    assert not fs.exists("images@master/t")
    fs.pipe("images@master/after.txt", b"ok")  # the filesystem is usable again
    assert commits(lh) == before + 1


def test_writes_to_a_commit_are_refused(lh: LoxoHome) -> None:
    fs = lh.fs
    cid = lh.client.inspect_commit("images@master").id
    for where in (f"images@{cid}", "images@master^1", "images@master.1"):
        with pytest.raises(PermissionError, match="names a commit, which is read-only"):
            fs.pipe(f"{where}/x.txt", b"x")
        with pytest.raises(PermissionError):
            fs.open(f"{where}/x.txt", "wb")
        with pytest.raises(PermissionError):
            fs.rm(f"{where}/a.csv")


def test_errors_are_builtin_with_loxos_message(lh: LoxoHome) -> None:
    fs = lh.fs
    with pytest.raises(FileNotFoundError, match="repo 'nope' not found"):
        fs.cat("nope@master/a.csv")
    with pytest.raises(FileNotFoundError, match="branch 'dev' not found"):
        fs.info("images@dev/a.csv")
    with pytest.raises(FileNotFoundError, match="zz"):
        fs.open("images@master/zz")
    with pytest.raises(FileNotFoundError):
        fs.ls("images@master/zz")
    with pytest.raises(IsADirectoryError):
        fs.open("images@master/dir")
    with pytest.raises(IsADirectoryError):
        fs.cat_file("images@master/dir")
    with pytest.raises(ValueError, match="invalid commit reference"):
        fs.cat("images@ma$ter/a.csv")
    with pytest.raises(FileNotFoundError, match="repo 'nope' not found"):
        fs.pipe("nope@master/x", b"x")


def test_the_address_option_and_the_environment_pick_the_store(lh: LoxoHome) -> None:
    fs = fsspec.filesystem("loxo", **lh.options)
    assert isinstance(fs, LoxoFileSystem)
    assert fs.client.remote == (lh.mode == "remote")
    assert fs.cat("images@master/dir/b.txt") == b"beta"
