"""Files end to end: put, get, list, glob, inspect, diff, copy and delete, with the real
``loxo`` command."""

from __future__ import annotations

import io
import os
import tarfile

from .conftest import Loxo, read_tree

TREE = {
    "a.txt": b"alpha\n",
    "keep.txt": b"kept as is\n",
    "dir/b.txt": b"bravo\n",
    "dir/sub/c.bin": os.urandom(300_000),
}


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_tree_put_change_and_read_back(loxo: Loxo) -> None:
    src = loxo.gen(TREE, "src")
    loxo("create", "repo", "data")
    loxo("put", "file", "data@master", "-r", "-f", str(src), "-m", "first")

    assert loxo("list", "file", "data@master").lines == [
        "NAME       TYPE  SIZE",
        "/a.txt     file  6 B",
        "/dir/      dir   293.0 KiB",
        "/keep.txt  file  11 B",
    ]
    listed = loxo.json("list", "file", "data@master:/dir")
    assert [(f["path"], f["type"]) for f in listed] == [("/dir/b.txt", "file"), ("/dir/sub", "dir")]
    for rel, data in TREE.items():
        assert loxo("get", "file", f"data@master:/{rel}").stdout == data

    # a second commit that changes, adds and deletes
    cid = loxo("start", "commit", "data@master", "-m", "second").out.strip()
    loxo("put", "file", "data@master:/a.txt", input="ALPHA\n")
    loxo("put", "file", "data@master:/dir/new.txt", input="new\n")
    loxo("delete", "file", "data@master:/dir/b.txt")
    loxo("finish", "commit", f"data@{cid}")

    changes = {d["path"]: d["change"] for d in loxo.json("diff", "file", "data@master")}
    assert changes == {"/a.txt": "changed", "/dir/new.txt": "added", "/dir/b.txt": "deleted"}
    assert loxo("diff", "file", "data@master:/dir", "data@master^").lines == [
        "CHANGE   PATH          OLD SIZE  NEW SIZE",
        "deleted  /dir/b.txt    6 B       -",
        "added    /dir/new.txt  -         4 B",
    ]
    reverse = loxo.yaml("diff", "file", "data@master.1", "data@master")
    assert {d["path"]: d["change"] for d in reverse} == {
        "/a.txt": "changed",
        "/dir/new.txt": "deleted",
        "/dir/b.txt": "added",
    }

    glob = loxo.json("glob", "file", "data@master:/dir/*")
    assert [g["path"] for g in glob] == ["/dir/new.txt", "/dir/sub"]
    assert [g["path"] for g in loxo.json("glob", "file", "data@master:/**.txt")] == [
        "/a.txt",
        "/dir/new.txt",
        "/keep.txt",
    ]

    info = loxo.json("inspect", "file", "data@master:/a.txt")
    assert (info["type"], info["size"], info["commit"]) == ("file", 6, cid)
    assert loxo.yaml("inspect", "file", "data@master:/dir")["type"] == "dir"
    assert "Type:   dir" in loxo("inspect", "file", "data@master:/dir/sub").out

    # ancestry: ^, .N, .-N and a commit ID all reach the first commit
    first = loxo.json("inspect", "commit", "data@master^")["id"]
    for ref in ("data@master^", "data@master.1", "data@master.-1", f"data@{first}"):
        assert loxo("get", "file", f"{ref}:/a.txt").stdout == TREE["a.txt"]
    assert loxo("get", "file", f"data@{first}:/dir/b.txt").stdout == TREE["dir/b.txt"]

    # a tree into a directory, a tar, a file into -o
    loxo("get", "file", "data@master^:/dir", "-r", "-o", "out")
    assert read_tree(loxo.cwd / "out") == {"b.txt": b"bravo\n", "sub/c.bin": TREE["dir/sub/c.bin"]}
    tar = loxo("get", "file", "data@master", "--tar").stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        names = {m.name: t.extractfile(m).read() for m in t if m.isfile()}  # type: ignore[union-attr]
    assert names == {
        "a.txt": b"ALPHA\n",
        "keep.txt": TREE["keep.txt"],
        "dir/new.txt": b"new\n",
        "dir/sub/c.bin": TREE["dir/sub/c.bin"],
    }
    loxo("get", "file", "data@master:/dir/sub/c.bin", "-o", "c.bin")
    assert (loxo.cwd / "c.bin").read_bytes() == TREE["dir/sub/c.bin"]


def test_stdin_append_untar_and_urls(loxo: Loxo) -> None:
    loxo("create", "repo", "data")
    loxo("put", "file", "data@master:/log", input="one\n")
    loxo("put", "file", "data@master:/log", "-a", input="two\n")
    loxo("put", "file", "data@master:/log", "--append", "-f", "-", input="three\n")
    assert loxo("get", "file", "data@master:/log").out == "one\ntwo\nthree\n"

    tar = _tar({"x/1.txt": b"one", "2.txt": b"two"})
    loxo("put", "file", "data@master:/unpacked", "--untar", input=tar)
    (loxo.cwd / "t.tar").write_bytes(tar)
    loxo("put", "file", "data@master", "--untar", "-f", "t.tar")
    assert loxo("get", "file", "data@master:/unpacked/x/1.txt").out == "one"
    assert loxo("get", "file", "data@master:/2.txt").out == "two"

    local = loxo.gen({"local.txt": "from disk", "tree/deep/f.txt": "deep"})
    loxo("put", "file", "data@master:/url.txt", "-f", (local / "local.txt").as_uri())
    loxo("put", "file", "data@master:/urls/", "-f", f"file://{local / 'local.txt'}")
    loxo("put", "file", "data@master", "-f", "local.txt")
    loxo("put", "file", "data@master:/t", "-r", "-f", f"file://{local / 'tree'}")
    for path in ("/url.txt", "/urls/local.txt", "/local.txt"):
        assert loxo("get", "file", f"data@master:{path}").out == "from disk"
    assert loxo("get", "file", "data@master:/t/deep/f.txt").out == "deep"
    assert len(loxo.json("list", "commit", "data")) == 9


def test_open_commit_is_invisible_through_the_branch_until_finished(loxo: Loxo) -> None:
    loxo("create", "repo", "data")
    loxo("put", "file", "data@master:/old", input="old")
    cid = loxo("start", "commit", "data@master", "-m", "wip").out.strip()
    assert len(cid) == 32 and int(cid, 16) >= 0

    loxo("put", "file", "data@master:/new", input="new")
    assert "'/new'" in loxo.fails("get", "file", "data@master:/new", code=2)
    assert loxo("get", "file", f"data@{cid}:/new").out == "new"
    assert [f["path"] for f in loxo.json("list", "file", "data@master")] == ["/old"]
    head = loxo.json("list", "commit", "data@master", "-n", "1")
    assert [(c["id"], c["state"]) for c in head] == [(cid, "STARTED")]
    assert "data@master" in loxo.fails("start", "commit", "data@master", code=6)

    loxo("finish", "commit", "data@master", "-m", "done")
    assert loxo("get", "file", "data@master:/new").out == "new"
    info = loxo.json("inspect", "commit", "data@master")
    assert (info["id"], info["state"], info["description"]) == (cid, "FINISHED", "done")
    assert [c["id"] for c in loxo.json("wait", "commit", cid)] == [cid]


def test_copy_file_between_repos(loxo: Loxo) -> None:
    loxo("create", "repo", "src")
    loxo("create", "repo", "dst")
    src = loxo.gen({"d/a": "A", "d/e/b": "B"}, "local")
    loxo("put", "file", "src@master:/in", "-r", "-f", str(src))
    loxo("copy", "file", "src@master:/in/d", "dst@master:/copied")
    loxo("copy", "file", "src@master:/in/d/a", "dst@master:/single")
    paths = [g["path"] for g in loxo.json("glob", "file", "dst@master:/**")]
    assert paths == ["/copied", "/copied/a", "/copied/e", "/copied/e/b", "/single"]
    assert loxo("get", "file", "dst@master:/copied/e/b").out == "B"
