"""The object stores against the shared contract, plus local-store and registry specifics."""

from __future__ import annotations

import errno
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loxo.errors import InvalidArgumentError, ObjectNotFound, StorageError
from loxo.storage import registry
from loxo.storage.local import TMP_PREFIX, LocalStore
from loxo.storage.memory import MemoryStore
from loxo.storage.registry import open_store, register_store

from .contract import ObjectStoreContract, keys


class TestLocalStore(ObjectStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[LocalStore]:
        store = LocalStore(tmp_path / "store")
        yield store
        assert tmp_files(store.root) == [], "a store operation left a temp file behind"


class TestMemoryStore(ObjectStoreContract):
    @pytest.fixture
    def store(self) -> MemoryStore:
        return MemoryStore(f"test-{uuid.uuid4().hex}")


def tmp_files(root: Path) -> list[str]:
    return [n for _, _, names in os.walk(root) for n in names if n.startswith(TMP_PREFIX)]


@pytest.fixture
def local(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


# --- local store -----------------------------------------------------------------------


def test_local_layout_and_url(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "new" / "root")
    assert store.url == "file://" + str((tmp_path / "new" / "root").absolute())
    store.put("chunks/ab/abcd", b"data")
    assert (tmp_path / "new/root/chunks/ab/abcd").read_bytes() == b"data"
    assert LocalStore(tmp_path / "new/root").get("chunks/ab/abcd") == b"data"


def test_no_temp_files_left(local: LocalStore) -> None:
    for i in range(20):
        local.put(f"k/{i % 3}", os.urandom(100))
        local.put_if_absent(f"p/{i % 4}", b"x")
        local.delete(f"k/{i % 5}")
    assert tmp_files(local.root) == []


def test_stale_temp_files_are_ignored_and_cleaned(local: LocalStore) -> None:
    local.put("a/obj", b"1")
    old, fresh = local.root / "a" / ".tmp-old", local.root / ".tmp-fresh"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"in progress")
    os.utime(old, (1_000_000, 1_000_000))
    assert keys(local) == ["a/obj"]
    assert local.tmp_cleanup(older_than_seconds=3600) == 1
    assert not old.exists()
    assert fresh.exists()
    assert keys(local) == ["a/obj"]


def _raise(err: int) -> Any:
    def fail(*args: object, **kwargs: object) -> Any:
        raise OSError(err, os.strerror(err))

    return fail


def test_disk_full_is_a_storage_error_and_leaves_nothing(
    local: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    local.put("k", b"old")
    with monkeypatch.context() as m:
        m.setattr(os, "write", _raise(errno.ENOSPC))
        with pytest.raises(StorageError, match="disk full writing object 'k'") as info:
            local.put("k", b"new")
        assert str(local.root) in str(info.value)
        with pytest.raises(StorageError, match="disk full writing object 'n/k'"):
            local.put_if_absent("n/k", b"x")
    assert local.get("k") == b"old"
    assert not local.exists("n/k")
    assert tmp_files(local.root) == []


def test_permission_denied_names_the_path(
    local: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:
        m.setattr(os, "replace", _raise(errno.EACCES))
        with pytest.raises(StorageError, match="permission") as info:
            local.put("d/k", b"x")
    assert str(local.root / "d" / "k") in str(info.value)
    assert not local.exists("d/k")
    assert tmp_files(local.root) == []


def test_file_directory_clash(local: LocalStore) -> None:
    local.put("a/b", b"1")
    with pytest.raises(ObjectNotFound):
        local.get("a")
    assert not local.exists("a")
    local.delete("a")
    with pytest.raises(StorageError):
        local.put_if_absent("a", b"2")
    with pytest.raises(StorageError):
        local.put("a/b/c", b"3")
    assert keys(local) == ["a/b"]
    assert tmp_files(local.root) == []


def test_list_walks_only_the_prefix_directory(
    local: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(10):
        local.put(f"other/{i}/x", b"")
        local.put(f"sub/{i}/x", b"")
    scanned: list[str] = []
    real_scandir = os.scandir

    def spy(path: Any) -> Any:
        scanned.append(str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", spy)
    assert keys(local, "sub/3") == ["sub/3/x"]
    assert scanned and all(p.startswith(str(local.root / "sub")) for p in scanned)
    assert len(scanned) == 2  # sub/ and sub/3/


def spy_fsync(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the inode of everything fsynced from now on."""
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return synced


def test_sync_fsyncs_new_files_and_their_directories(
    local: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    local.put("a/b/one", b"1")
    local.put_if_absent("two", b"2")
    local.put("gone", b"3")
    local.delete("gone")
    synced = spy_fsync(monkeypatch)
    local.sync()
    want = [local.root / p for p in ["a/b/one", "two", "a/b", "a", "."]]
    assert sorted(synced) == sorted(p.stat().st_ino for p in want)
    synced.clear()
    local.sync()
    assert synced == []


def test_failed_sync_is_retried(local: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    local.put("k", b"1")
    with monkeypatch.context() as m:
        m.setattr(os, "fsync", _raise(errno.EIO))
        with pytest.raises(StorageError):
            local.sync()
    synced = spy_fsync(monkeypatch)
    local.sync()
    assert sorted(synced) == sorted([(local.root / "k").stat().st_ino, local.root.stat().st_ino])


# --- registry --------------------------------------------------------------------------


def test_open_bare_path_and_file_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = open_store(str(tmp_path / "s"))
    assert isinstance(a, LocalStore) and a.root == tmp_path / "s"
    b = open_store("file://" + str(tmp_path / "s"))
    assert isinstance(b, LocalStore) and b.url == a.url
    monkeypatch.chdir(tmp_path)
    c = open_store("rel")
    assert isinstance(c, LocalStore) and c.root == tmp_path / "rel"


def test_open_memory_shares_by_name() -> None:
    name = uuid.uuid4().hex
    a, b = open_store(f"memory://{name}"), open_store(f"memory://{name}")
    assert isinstance(a, MemoryStore) and a is b and a.url == f"memory://{name}"
    a.put("k", b"v")
    assert b.get("k") == b"v"
    assert open_store(f"memory://{name}-other") is not a


def test_open_unknown_scheme() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        open_store("gs://bucket/prefix")
    msg = str(info.value)
    assert "gs://bucket/prefix" in msg
    assert all(s in msg for s in ["file://", "memory://", "s3://"])


def test_open_s3_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "loxo.storage.s3", None)  # makes its import fail
    with pytest.raises(InvalidArgumentError, match=r"pip install 'loxo\[s3\]'"):
        open_store("s3://bucket/prefix")


def test_register_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_SCHEMES", dict(registry._SCHEMES))
    register_store("mem2", "loxo.storage.memory:MemoryStore")
    store = open_store("mem2://x")
    assert isinstance(store, MemoryStore) and store.name == "mem2://x"
    register_store("broken", "loxo.storage.nonexistent:Nope")
    with pytest.raises(InvalidArgumentError, match="cannot load"):
        open_store("broken://x")
    with pytest.raises(InvalidArgumentError):
        register_store("file", "loxo.storage.memory:MemoryStore")
    with pytest.raises(InvalidArgumentError):
        register_store("bad", "no_colon")
