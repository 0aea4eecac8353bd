"""The object-store contract: behaviour every :class:`ObjectStore` backend must share.

A pytest mixin. A backend's test class inherits :class:`ObjectStoreContract` and provides a
``store`` fixture returning a fresh, empty store; every test here then runs against it.
"""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import pytest

from loxo.errors import InvalidArgumentError, LoxoError, NotFoundError, ObjectNotFound
from loxo.storage.objectstore import ObjectStore

MiB = 1 << 20
INVALID_KEYS = [
    "",
    "/a",
    "a/",
    "a//b",
    "..",
    "../a",
    "a/../b",
    "a/./b",
    "a\\b",
    "a\nb",
    "caf\u00e9",
    "a/.tmp-x",
]


def keys(store: ObjectStore, prefix: str = "") -> list[str]:
    return [info.key for info in store.list(prefix)]


def race_put_if_absent(store: ObjectStore, key: str, n: int) -> list[bool]:
    """``n`` threads released at once each ``put_if_absent`` their own bytes at ``key``."""
    barrier = threading.Barrier(n)

    def writer(i: int) -> bool:
        barrier.wait()
        return store.put_if_absent(key, f"writer {i}".encode() * 1000)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(writer, range(n)))


class ObjectStoreContract:
    """Subclasses provide a ``store`` fixture."""

    @pytest.mark.parametrize("size", [0, 1, 1000, 5 * MiB])
    def test_put_get_roundtrip(self, store: ObjectStore, size: int) -> None:
        data = os.urandom(size)
        store.put("a/b/obj", data)
        assert store.get("a/b/obj") == data
        assert store.exists("a/b/obj")

    def test_put_overwrites(self, store: ObjectStore) -> None:
        store.put("k", b"old contents")
        store.put("k", b"new")
        assert store.get("k") == b"new"
        assert [(i.key, i.size) for i in store.list()] == [("k", 3)]

    def test_put_accepts_bytearray_and_copies_it(self, store: ObjectStore) -> None:
        buf = bytearray(b"abc")
        store.put("k", cast(bytes, buf))
        buf[:] = b"xyz"
        assert store.get("k") == b"abc"

    @pytest.mark.parametrize(
        ("offset", "length", "expected"),
        [(0, 10, slice(0, 10)), (100, 50, slice(100, 150)), (1014, 10, slice(1014, 1024)),
         (1020, 100, slice(1020, 1024)), (1024, 5, slice(0, 0)), (5000, 5, slice(0, 0)),
         (7, 0, slice(0, 0))],
    )  # fmt: skip
    def test_get_range(self, store: ObjectStore, offset: int, length: int, expected: slice) -> None:
        data = bytes(range(256)) * 4
        store.put("r", data)
        assert store.get_range("r", offset, length) == data[expected]

    def test_get_range_rejects_negative(self, store: ObjectStore) -> None:
        store.put("r", b"abc")
        with pytest.raises(InvalidArgumentError):
            store.get_range("r", -1, 2)
        with pytest.raises(InvalidArgumentError):
            store.get_range("r", 0, -2)

    def test_put_if_absent(self, store: ObjectStore) -> None:
        assert store.put_if_absent("p/k", b"first") is True
        before = next(iter(store.list("p/"))).mtime
        time.sleep(0.05)
        assert store.put_if_absent("p/k", b"second") is False
        assert store.get("p/k") == b"first"
        after = next(iter(store.list("p/"))).mtime
        assert after > before, "put_if_absent of an existing key must refresh its mtime"

    def test_exists(self, store: ObjectStore) -> None:
        assert not store.exists("x/y")
        store.put("x/y", b"1")
        assert store.exists("x/y")
        assert not store.exists("x/y2")
        assert not store.exists("x")  # a prefix of a key is not a key

    def test_delete_is_idempotent(self, store: ObjectStore) -> None:
        store.put("d/k", b"1")
        store.delete("d/k")
        assert not store.exists("d/k")
        store.delete("d/k")
        store.delete("never/was")
        assert keys(store) == []

    def test_missing_key_is_object_not_found(self, store: ObjectStore) -> None:
        for call in (lambda: store.get("no/such"), lambda: store.get_range("no/such", 0, 1)):
            with pytest.raises(ObjectNotFound) as info:
                call()
            assert isinstance(info.value, NotFoundError)
            assert isinstance(info.value, LoxoError)
            assert info.value.key == "no/such"
            assert "no/such" in str(info.value)

    def test_list_sorted_with_prefixes(self, store: ObjectStore) -> None:
        # '-' and '.' sort before '/', '0' after: a directory's keys are not listed first
        names = ["a/b/c", "a/b-c", "a/b.c", "a/b0", "b", "ab/c", "a/bb", "a-c", "a/b/c2"]
        for k in names:
            store.put(k, k.encode())
        assert keys(store) == sorted(names)
        for prefix in ["a", "a/", "a/b", "a/b/", "a/b/c", "ab", "c"]:
            assert keys(store, prefix) == sorted(k for k in names if k.startswith(prefix))
        infos = list(store.list())
        assert {i.key: i.size for i in infos} == {k: len(k) for k in names}
        assert all(abs(i.mtime - time.time()) < 60 for i in infos)

    def test_list_many_keys(self, store: ObjectStore) -> None:
        ks = [f"many/{i:05d}" for i in range(1500)] + [f"many/sub/{i}" for i in range(20)]
        shuffled = ks[:]
        random.Random(7).shuffle(shuffled)
        for k in shuffled:
            store.put(k, b"")
        assert keys(store, "many/") == sorted(ks)
        assert keys(store, "many/001") == [f"many/{i:05d}" for i in range(100, 200)]
        ones = ["many/sub/1", *(f"many/sub/{i}" for i in range(10, 20))]
        assert keys(store, "many/sub/1") == ones

    def test_list_nested_prefixes(self, store: ObjectStore) -> None:
        for k in ["x/y/z/1", "x/y/2", "x/3", "xa", "y"]:
            store.put(k, b"v")
        assert keys(store, "x") == ["x/3", "x/y/2", "x/y/z/1", "xa"]
        assert keys(store, "x/") == ["x/3", "x/y/2", "x/y/z/1"]
        assert keys(store, "x/y") == ["x/y/2", "x/y/z/1"]
        assert keys(store, "x/y/") == ["x/y/2", "x/y/z/1"]
        assert keys(store, "x/y/z/") == ["x/y/z/1"]
        assert keys(store, "x/y/z/1") == ["x/y/z/1"]
        assert keys(store, "x/y/z/1/") == []
        assert keys(store, "nope/") == []
        assert keys(store, "nope") == []
        assert keys(store, "") == ["x/3", "x/y/2", "x/y/z/1", "xa", "y"]

    def test_concurrent_put_if_absent_has_one_winner(self, store: ObjectStore) -> None:
        for round_ in range(5):
            key = f"race/{round_}"
            results = race_put_if_absent(store, key, 8)
            winners = [i for i, won in enumerate(results) if won]
            assert len(winners) == 1, results
            assert store.get(key) == f"writer {winners[0]}".encode() * 1000

    @pytest.mark.parametrize("key", INVALID_KEYS)
    def test_invalid_keys_rejected(self, store: ObjectStore, key: str) -> None:
        calls = [
            lambda: store.put(key, b"x"),
            lambda: store.put_if_absent(key, b"x"),
            lambda: store.get(key),
            lambda: store.get_range(key, 0, 1),
            lambda: store.exists(key),
            lambda: store.delete(key),
        ]
        for call in calls:
            with pytest.raises(InvalidArgumentError, match="invalid object key"):
                call()
        assert keys(store) == []

    @pytest.mark.parametrize("prefix", ["../", "a/../", "/", "a//"])
    def test_list_rejects_escaping_prefixes(self, store: ObjectStore, prefix: str) -> None:
        with pytest.raises(InvalidArgumentError):
            list(store.list(prefix))

    def test_sync_and_close(self, store: ObjectStore) -> None:
        store.put("s/1", b"1")
        store.put_if_absent("s/2", b"2")
        store.delete("s/1")
        store.sync()
        store.sync()
        assert keys(store) == ["s/2"]
        store.close()
