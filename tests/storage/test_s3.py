"""The S3 store against the shared contract, on a real S3 server (moto) on loopback, plus its
URL rules, multipart uploads, conditional-put probing and error translation."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from loxo.errors import InvalidArgumentError, ObjectNotFound, StorageError, TransientError
from loxo.storage.objectstore import ObjectStore
from loxo.storage.registry import open_store
from loxo.storage.s3 import MULTIPART_THRESHOLD, S3Store

from ..s3server import S3Server, isolated_aws_env
from .contract import MiB, ObjectStoreContract, keys


def new_store(server: S3Server, bucket: str, prefix: str | None = None) -> S3Store:
    prefix = f"t-{uuid.uuid4().hex[:10]}" if prefix is None else prefix
    return S3Store(f"s3://{bucket}/{prefix}?endpoint={server.endpoint}")


class TestS3Store(ObjectStoreContract):
    @pytest.fixture
    def store(self, s3_server: S3Server, s3_bucket: str) -> Iterator[S3Store]:
        store = new_store(s3_server, s3_bucket)
        yield store
        store.close()

    def test_put_if_absent(self, store: ObjectStore) -> None:
        """The contract's test, waiting out S3's one-second ``LastModified`` resolution (the
        contract waits 0.05 s, within one second)."""
        assert store.put_if_absent("p/k", b"first") is True
        before = next(iter(store.list("p/"))).mtime
        time.sleep(1.05)
        assert store.put_if_absent("p/k", b"second") is False
        assert store.get("p/k") == b"first"
        after = next(iter(store.list("p/"))).mtime
        assert after > before, "put_if_absent of an existing key must refresh its mtime"


@pytest.fixture
def store(s3_server: S3Server, s3_bucket: str) -> Iterator[S3Store]:
    store = new_store(s3_server, s3_bucket)
    yield store
    store.close()


def raw_keys(server: S3Server, bucket: str, prefix: str = "") -> list[str]:
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", ())]


# --- URLs ------------------------------------------------------------------------------


def test_url_names_bucket_prefix_and_endpoint(
    s3_server: S3Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(f"s3://{s3_bucket}//data/set/?endpoint={s3_server.endpoint}")
    assert isinstance(store, S3Store)
    assert store.url == f"s3://{s3_bucket}/data/set?endpoint={s3_server.endpoint}"
    assert (store.bucket, store.prefix, store.endpoint) == (
        s3_bucket,
        "data/set/",
        s3_server.endpoint,
    )
    store.put("a/b", b"x")
    assert "data/set/a/b" in raw_keys(s3_server, s3_bucket, "data/")
    # the endpoint from the environment: the URL names it, so other processes reach it too
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    from_env = S3Store(f"s3://{s3_bucket}/data/set")
    assert from_env.url == store.url
    assert from_env.get("a/b") == b"x"
    whole = S3Store(f"s3://{s3_bucket}?region=eu-west-1")
    assert whole.prefix == ""
    assert whole.url == f"s3://{s3_bucket}?endpoint={s3_server.endpoint}&region=eu-west-1"
    assert "data/set/a/b" in keys(whole, "data/")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("s3:///prefix", "BUCKET"),
        ("s3://b/x?endpoint=http://h&colour=red", "'colour'"),
        ("s3://b/x/../y", "prefix"),
        ("s3://b/.tmp-x", "prefix"),
    ],
)
def test_bad_urls(url: str, why: str) -> None:
    with pytest.raises(InvalidArgumentError, match=why) as info:
        S3Store(url)
    assert url in str(info.value)


def test_prefixes_isolate_stores(s3_server: S3Server, s3_bucket: str) -> None:
    a, b = new_store(s3_server, s3_bucket, "iso/a"), new_store(s3_server, s3_bucket, "iso/ab")
    a.put("k", b"in a")
    b.put("k", b"in ab")
    assert (a.get("k"), b.get("k")) == (b"in a", b"in ab")
    assert keys(a) == ["k"] and keys(b) == ["k"]
    a.delete("k")
    assert b.exists("k") and not a.exists("k")


# --- big objects, ranges ---------------------------------------------------------------


def test_big_objects_go_up_in_parts(store: S3Store, s3_server: S3Server, s3_bucket: str) -> None:
    data = os.urandom(MULTIPART_THRESHOLD * 2 + 12345)
    store.put("big/obj", data)
    head = s3_server.client().head_object(Bucket=s3_bucket, Key=store.prefix + "big/obj")
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # a 3-part upload
    assert store.get("big/obj") == data
    edge = MULTIPART_THRESHOLD - 10
    assert store.get_range("big/obj", edge, 20) == data[edge : edge + 20]
    assert store.get_range("big/obj", len(data) - 5, 1 * MiB) == data[-5:]
    assert [(i.key, i.size) for i in store.list("big/")] == [("big/obj", len(data))]


def test_range_of_an_empty_object(store: S3Store) -> None:
    store.put("e", b"")
    assert store.get_range("e", 0, 10) == b""
    assert store.get_range("e", 3, 0) == b""
    with pytest.raises(ObjectNotFound):
        store.get_range("absent", 3, 0)


# --- put_if_absent ---------------------------------------------------------------------


def test_moto_honours_conditional_puts_and_the_probe_leaves_nothing(
    store: S3Store, s3_server: S3Server, s3_bucket: str
) -> None:
    assert store.put_if_absent("k", b"1") is True
    assert store._conditional_puts is True
    assert raw_keys(s3_server, s3_bucket, store.prefix) == [store.prefix + "k"]


def test_a_server_ignoring_if_none_match_gets_head_then_put(store: S3Store) -> None:
    def drop_condition(request: Any, **kwargs: object) -> None:
        if "If-None-Match" in request.headers:
            del request.headers["If-None-Match"]

    store._client.meta.events.register("before-sign.s3.PutObject", drop_condition)
    assert store.put_if_absent("k", b"first") is True
    assert store._conditional_puts is False
    before = next(iter(store.list())).mtime
    time.sleep(1.05)
    assert store.put_if_absent("k", b"second") is False
    assert store.get("k") == b"first"
    assert next(iter(store.list())).mtime > before
    assert keys(store) == ["k"]


def test_big_put_if_absent_of_an_existing_key_sends_no_bytes(store: S3Store) -> None:
    data = os.urandom(2 * MiB)
    assert store.put_if_absent("big", data) is True
    sent: list[int] = []

    def count(request: Any, **kwargs: object) -> None:
        sent.append(len(request.body or b""))

    store._client.meta.events.register("before-sign.s3.PutObject", count)
    assert store.put_if_absent("big", b"other" * MiB) is False
    assert sent == []
    assert store.get("big") == data


# --- errors ----------------------------------------------------------------------------


def one_line(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_missing_bucket(s3_server: S3Server) -> None:
    store = S3Store(f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/p?endpoint={s3_server.endpoint}")
    calls = [
        lambda: store.get("k"),
        lambda: store.get_range("k", 0, 5),
        lambda: store.put("k", b"x"),
        lambda: store.put("k", os.urandom(MULTIPART_THRESHOLD + 1)),
        lambda: store.put_if_absent("k", b"x"),
        lambda: list(store.list()),
    ]
    for call in calls:
        with pytest.raises(StorageError) as info:
            call()
        msg = one_line(info.value)
        assert store.bucket in msg and store.url in msg and "create it" in msg
    assert not store.exists("k")  # a HEAD cannot tell a missing bucket from a missing key


@pytest.fixture(scope="module")
def auth_server() -> Iterator[S3Server]:
    """A moto server that checks access keys: it knows none, so it refuses every request."""
    with S3Server(auth=True) as server:
        yield server


def test_refused_credentials(auth_server: S3Server) -> None:
    """moto accepts any credentials unless access-key checking is on (``auth=True``): then
    every request fails with ``InvalidAccessKeyId``. ``SignatureDoesNotMatch`` and
    ``AccessDenied`` take the same path (any 403)."""
    store = S3Store(f"s3://somebucket/p?endpoint={auth_server.endpoint}")
    for call in (
        lambda: store.get("k"),
        lambda: store.put("k", b"x"),
        lambda: list(store.list()),
        lambda: store.exists("k"),
    ):
        with pytest.raises(StorageError) as info:
            call()
        msg = one_line(info.value)
        assert store.url in msg and "refused" in msg and "AWS_ACCESS_KEY_ID" in msg
    with pytest.raises(StorageError, match="InvalidAccessKeyId"):
        store.get("k")


def test_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = S3Store(f"s3://bucket/p?endpoint=http://127.0.0.1:{port}")
    started = time.monotonic()
    for call in (lambda: store.get("k"), lambda: store.exists("k"), lambda: list(store.list())):
        with pytest.raises(TransientError) as info:
            call()
        msg = one_line(info.value)
        assert f"http://127.0.0.1:{port}" in msg and "cannot reach" in msg
    assert time.monotonic() - started < 10


def test_no_credentials(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_aws_env(monkeypatch)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    store = S3Store(f"s3://bucket/p?endpoint={s3_server.endpoint}")
    with pytest.raises(StorageError, match="no AWS credentials") as info:
        store.get("k")
    assert store.url in one_line(info.value)
