"""Garbage collection and fsck on a real local store.

- gc reclaims the space of deleted repos and commits, keeps everything live;
- gc running concurrently with writers that deduplicate against garbage never deletes what
  a writer needs (objects and index entries are back-dated so that they *are* garbage);
- corrupting or deleting stored objects is caught by reads and reported by fsck.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from loxo.errors import CorruptObject, ObjectNotFound
from loxo.pfs.api import PFS


def _files(n: int, size: int, seed: int) -> dict[str, bytes]:
    import random

    rng = random.Random(seed)
    return {f"/d{i % 7}/f{i}.bin": rng.randbytes(size) for i in range(n)}


def _put(pfs: PFS, ref: str, files: dict[str, bytes]) -> str:
    with pfs.modify_file(ref) as mf:
        for path, data in files.items():
            mf.put_file(path, data)
    assert mf.commit is not None
    return mf.commit.id


def _backdate(home: Path, pfs: PFS, seconds: float) -> None:
    past = time.time() - seconds
    for dirpath, _, names in os.walk(home / "objects"):
        for name in names:
            os.utime(Path(dirpath) / name, (past, past))
    with pfs.db.tx():
        pfs.db.execute("UPDATE chunks SET last_used = ?", (past,))


def _objects_bytes(home: Path) -> int:
    return sum(f.stat().st_size for f in (home / "objects").rglob("*") if f.is_file())


def test_gc_reclaims_deleted_and_keeps_live(tmp_path: Path) -> None:
    pfs = PFS.open(tmp_path)
    pfs.create_repo("keep")
    pfs.create_repo("drop")
    keep = _files(50, 20_000, 1)
    _put(pfs, "keep@master", keep)
    _put(pfs, "drop@master", _files(50, 20_000, 2))
    second = _put(pfs, "keep@master", {"/extra.bin": b"z" * 300_000})
    before = _objects_bytes(tmp_path)
    pfs.delete_repo("drop")
    pfs.delete_commit(f"keep@{second}")
    _backdate(tmp_path, pfs, 3600)
    report = pfs.gc()
    assert report.objects_deleted > 0
    assert _objects_bytes(tmp_path) < before * 0.6
    for path, data in keep.items():
        assert pfs.get_file("keep@master", path) == data
    assert pfs.fsck().ok


def test_gc_spares_fresh_objects_of_writers(tmp_path: Path) -> None:
    pfs = PFS.open(tmp_path)
    pfs.create_repo("r")
    pfs.start_commit("r", "master")
    pfs.put_file("r@master", "/staged.txt", b"in an open commit")
    with pfs.modify_file("r@master") as mf:  # a session still uploading when gc runs
        mf.put_file("/pending.bin", os.urandom(400_000))
        mf._writer.flush()
        pfs.gc()
    pfs.finish_commit("r@master")
    assert len(pfs.get_file("r@master", "/pending.bin")) == 400_000
    assert pfs.get_file("r@master", "/staged.txt") == b"in an open commit"
    assert pfs.fsck().ok


def test_gc_concurrent_with_deduplicating_writers(tmp_path: Path) -> None:
    setup = PFS.open(tmp_path)
    setup.create_repo("old")
    content = _files(40, 30_000, 3)
    _put(setup, "old@master", content)
    setup.delete_repo("old")
    _backdate(tmp_path, setup, 3600)  # everything of "old" is now collectable garbage
    setup.create_repo("new")
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(i: int) -> None:
        pfs = PFS.open(tmp_path)
        try:
            for k in range(6):
                part = dict(list(content.items())[k * 6 : k * 6 + 10])
                _put(pfs, "new@master", {f"/w{i}{p}": d for p, d in part.items()})
        except BaseException as err:  # reported below
            errors.append(err)
        finally:
            pfs.close()

    def collector() -> None:
        pfs = PFS.open(tmp_path)
        try:
            while not stop.is_set():
                pfs.gc()
        except BaseException as err:
            errors.append(err)
        finally:
            pfs.close()

    gc_thread = threading.Thread(target=collector)
    gc_thread.start()
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    gc_thread.join()
    assert not errors, errors
    setup.gc()
    report = setup.fsck()
    assert report.ok, report.problems
    for entry in setup.walk_files("new@master"):
        original = "/" + entry.path.split("/", 2)[2]
        assert setup.get_file("new@master", entry.path) == content[original]


def test_reads_and_fsck_catch_corruption(tmp_path: Path) -> None:
    pfs = PFS.open(tmp_path)
    pfs.create_repo("r")
    _put(pfs, "r@master", {"/a.bin": os.urandom(5000), "/b.bin": os.urandom(5000)})
    assert pfs.fsck().ok
    packs = sorted((tmp_path / "objects" / "packs").rglob("*"))
    packs = [p for p in packs if p.is_file()]
    assert len(packs) == 1
    raw = bytearray(packs[0].read_bytes())
    raw[10] ^= 0xFF
    packs[0].write_bytes(bytes(raw))
    with pytest.raises(CorruptObject) as err:
        pfs.get_file("r@master", "/a.bin")
    assert packs[0].name in str(err.value)
    report = pfs.fsck()
    assert [p.problem for p in report.problems] == ["corrupted"]
    assert packs[0].name in report.problems[0].key
    packs[0].unlink()
    with pytest.raises(ObjectNotFound):
        pfs.get_file("r@master", "/b.bin")
    assert [p.problem for p in pfs.fsck().problems] == ["missing"]


def test_fsck_catches_corrupt_fileset_node(tmp_path: Path) -> None:
    pfs = PFS.open(tmp_path)
    pfs.create_repo("r")
    _put(pfs, "r@master", {"/a.txt": b"a"})
    nodes = [p for p in (tmp_path / "objects" / "filesets").rglob("*") if p.is_file()]
    assert nodes
    for node in nodes:
        node.write_bytes(node.read_bytes() + b"!")
    fresh = PFS.open(tmp_path)  # no node cache
    with pytest.raises(CorruptObject):
        fresh.get_file("r@master", "/a.txt")
    assert fresh.fsck().problems[0].problem == "corrupted"
