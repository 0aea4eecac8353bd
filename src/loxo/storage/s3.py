"""The S3 object store: objects in a bucket of Amazon S3 or any S3-compatible server.

URL ``s3://BUCKET/PREFIX[?endpoint=URL&region=NAME]``: key ``chunks/ab/abcd`` is the S3 object
``PREFIX/chunks/ab/abcd`` in ``BUCKET`` (the prefix may be empty). The endpoint is the URL's
``endpoint`` parameter, else ``AWS_ENDPOINT_URL_S3``, else ``AWS_ENDPOINT_URL``, else AWS
itself; the region is the URL's ``region`` parameter, else the usual AWS settings, else
``us-east-1``; credentials come from the usual AWS chain (environment, profile, instance
role). :attr:`S3Store.url` names the endpoint in use, so every process that reopens the
store by its URL (the executor's workers do) reaches the same server.

How the interface maps onto S3 (boto3, one thread-safe client per store object):

- ``get`` / ``get_range``: ``GetObject``, with a ``Range`` header for a range. A range that
  starts at or past the end (``416 InvalidRange``) reads as ``b""``.
- ``put``: ``PutObject``; above :data:`MULTIPART_THRESHOLD` a multipart upload whose parts go
  up in parallel. S3 makes an object visible only once it is whole, so readers never see a
  torn write.
- ``put_if_absent``: a conditional ``PutObject`` (``If-None-Match: *``), so of racing
  writers exactly one wins. When the key exists, an in-place ``CopyObject`` (metadata
  directive ``REPLACE``) refreshes its ``LastModified`` as the contract requires: garbage
  collection spares objects touched since its floor. Whether the server honours
  ``If-None-Match`` is probed once per store object (some S3-compatible servers ignore the
  header); without it the store falls back to ``HeadObject`` then ``PutObject``, where two
  racing writers may both write and both report True (harmless for loxo's
  content-addressed keys, whose racing writers write identical bytes).
- ``list``: ``ListObjectsV2`` pages, in S3's key order (UTF-8 byte order, which is code
  point order for loxo's ASCII keys); ``mtime`` is ``LastModified``.
- ``sync`` does nothing: S3 has written an object durably when its put returns.

Consistency assumptions: S3's strong read-after-write consistency (since December 2020;
MinIO and moto have it too) for gets, heads and lists; lexicographic listing (S3 Express
directory buckets list unordered and are not supported). ``LastModified`` has one-second
resolution and comes from the server's clock; garbage collection's ``CLOCK_MARGIN`` covers
the resolution, and server and clients must keep their clocks in sync (NTP). Objects larger
than 5 GiB cannot be refreshed by an in-place copy; loxo's packs and nodes are far smaller.
An interrupted multipart upload can leave invisible parts behind; a bucket lifecycle rule
``AbortIncompleteMultipartUpload`` removes them.

Errors become :mod:`loxo.errors` here and nowhere else: a missing key is
:class:`~loxo.errors.ObjectNotFound`; a missing bucket, refused credentials or any other
failure a one-line :class:`~loxo.errors.StorageError` naming the URL and the cause; an
unreachable endpoint or a server that stays busy (after botocore's retries) a
:class:`~loxo.errors.TransientError` naming the endpoint.
"""

from __future__ import annotations

import io
import os
import threading
import time
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import botocore.config
import botocore.exceptions
from boto3.s3.transfer import TransferConfig

from loxo.errors import (
    InvalidArgumentError,
    LoxoError,
    ObjectNotFound,
    StorageError,
    TransientError,
)

from .local import TMP_PREFIX, check_key
from .objectstore import ObjectInfo, ObjectStore

MiB = 1 << 20
MULTIPART_THRESHOLD = 8 * MiB  # bigger objects go up as parallel 8 MiB parts
HEAD_FIRST_BYTES = 1 * MiB  # put_if_absent checks for bigger objects before sending them
MAX_POOL_CONNECTIONS = 64
DEFAULT_REGION = "us-east-1"
_QUERY_PARAMS = ("endpoint", "region")
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
           "InvalidToken", "TokenRefreshRequired", "AllAccessDisabled", "403"}  # fmt: skip
_BUSY = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling"}
_UNREACHABLE = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ResponseStreamingError,
)
_READ_ATTEMPTS = 3  # a body cut off mid-read is fetched again (botocore retries only requests)


class S3Store(ObjectStore):
    """Objects under ``s3://bucket/prefix``; see the module docstring for the URL."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "s3" or not parts.netloc:
            raise InvalidArgumentError(f"invalid S3 URL {url!r}: use s3://BUCKET[/PREFIX]")
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(query) - set(_QUERY_PARAMS))
        if unknown or parts.fragment:
            raise InvalidArgumentError(
                f"invalid S3 URL {url!r}: unknown parameter {(unknown or ['#'])[0]!r} "
                f"(allowed: {', '.join(_QUERY_PARAMS)})"
            )
        self.bucket = parts.netloc
        prefix = parts.path.strip("/")
        if prefix:
            try:
                check_key(prefix)
            except InvalidArgumentError as e:
                raise InvalidArgumentError(f"invalid prefix in S3 URL {url!r}: {e}") from e
        self.prefix = prefix + "/" if prefix else ""
        endpoint = (
            query.get("endpoint", [""])[-1]
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or None
        )
        region = query.get("region", [""])[-1] or None
        canonical = {"endpoint": endpoint, "region": region}
        shown = urlencode({k: v for k, v in canonical.items() if v}, safe=":/")
        self.url = f"s3://{self.bucket}/{prefix}".rstrip("/") + (f"?{shown}" if shown else "")
        try:
            session = boto3.session.Session()
            self._client = session.client(
                "s3",
                endpoint_url=endpoint,
                config=_client_config(region or session.region_name or DEFAULT_REGION, endpoint),
            )
        except (ValueError, botocore.exceptions.BotoCoreError) as e:
            raise InvalidArgumentError(f"cannot use the S3 store {self.url}: {e}") from e
        self.endpoint: str = self._client.meta.endpoint_url
        self._transfer = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD,
            multipart_chunksize=MULTIPART_THRESHOLD,
            max_concurrency=8,
        )
        self._lock = threading.Lock()
        self._conditional_puts: bool | None = None  # does the server honour If-None-Match?

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    # --- reads -------------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        return self._read(key, None)

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise InvalidArgumentError(f"invalid range {offset}+{length} of object {key!r}")
        if length == 0:
            if not self.exists(key):
                raise ObjectNotFound(key, self.url)
            return b""
        return self._read(key, f"bytes={offset}-{offset + length - 1}")

    def _read(self, key: str, byte_range: str | None) -> bytes:
        args = {"Bucket": self.bucket, "Key": self._key(key)}
        if byte_range:
            args["Range"] = byte_range
        for attempt in range(1, _READ_ATTEMPTS + 1):
            try:
                body = self._client.get_object(**args)["Body"]
                with body:
                    return bytes(body.read())
            except botocore.exceptions.ClientError as e:
                if byte_range and _status(e) == 416:  # the range starts at or past the end
                    return b""
                raise self._error(e, key) from e
            except botocore.exceptions.ResponseStreamingError as e:
                if attempt == _READ_ATTEMPTS:
                    raise self._error(e, key) from e
            except Exception as e:
                raise self._error(e, key) from e
        raise AssertionError("unreachable")

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except botocore.exceptions.ClientError as e:
            if _status(e) == 404:  # HEAD has no body, so no NoSuchKey / NoSuchBucket code
                return False
            raise self._error(e, key) from e
        except Exception as e:
            raise self._error(e, key) from e
        return True

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        head, sep, _ = prefix.rpartition("/")
        if sep:
            check_key(head)
        skip = len(self.prefix)
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        )
        try:
            for page in pages:
                for obj in page.get("Contents", ()):
                    key = obj["Key"][skip:]
                    if not any(p.startswith(TMP_PREFIX) for p in key.split("/")):
                        yield ObjectInfo(key, obj["Size"], obj["LastModified"].timestamp())
        except Exception as e:
            raise self._error(e, prefix) from e

    # --- writes ------------------------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        name = self._key(key)
        try:
            if len(data) > MULTIPART_THRESHOLD:
                self._client.upload_fileobj(
                    io.BytesIO(data), self.bucket, name, Config=self._transfer
                )
            else:
                self._client.put_object(Bucket=self.bucket, Key=name, Body=bytes(data))
        except Exception as e:
            raise self._error(e, key) from e

    def put_if_absent(self, key: str, data: bytes) -> bool:
        name = self._key(key)
        if not self._supports_conditional_puts():
            if self._touch(key, name):
                return False
            self.put(key, data)
            return True
        body = bytes(data)
        for attempt in range(20):
            if len(body) > HEAD_FIRST_BYTES and self._touch(key, name):
                return False  # spare the upload of bytes the store has
            try:
                self._client.put_object(Bucket=self.bucket, Key=name, Body=body, IfNoneMatch="*")
                return True
            except botocore.exceptions.ClientError as e:
                status = _status(e)
                if status == 412 and self._touch(key, name):
                    return False
                if status not in (409, 412):  # 409: a racing conditional put is in progress
                    raise self._error(e, key) from e
            except Exception as e:
                raise self._error(e, key) from e
            time.sleep(min(0.01 * 2**attempt, 0.5))  # it was deleted, or a racer is busy
        raise TransientError(f"cannot store object {key!r} in {self.url}: too many races")

    def _touch(self, key: str, name: str) -> bool:
        """Refresh the object's LastModified (an in-place copy) if it exists; whether it does."""
        try:
            self._client.copy_object(
                Bucket=self.bucket,
                Key=name,
                CopySource={"Bucket": self.bucket, "Key": name},
                MetadataDirective="REPLACE",
            )
        except botocore.exceptions.ClientError as e:
            if _code(e) == "NoSuchKey" or (_status(e) == 404 and _code(e) != "NoSuchBucket"):
                return False
            raise self._error(e, key) from e
        except Exception as e:
            raise self._error(e, key) from e
        return True

    def _supports_conditional_puts(self) -> bool:
        """Whether the server honours ``If-None-Match: *`` on PutObject, probed once with a
        temp key (``list`` never shows it, and it is deleted at once)."""
        with self._lock:
            if self._conditional_puts is None:
                probe = f"{self.prefix}{TMP_PREFIX}loxo-probe-{uuid.uuid4().hex}"
                self._conditional_puts = self._probe(probe)
            return self._conditional_puts

    def _probe(self, name: str) -> bool:
        args = {"Bucket": self.bucket, "Key": name, "Body": b"", "IfNoneMatch": "*"}
        try:
            try:
                self._client.put_object(**args)
            except botocore.exceptions.ClientError as e:
                if _status(e) in (400, 501):  # refused: the header is not implemented
                    return False
                raise
            try:
                self._client.put_object(**args)
            except botocore.exceptions.ClientError as e:
                if _status(e) == 412:
                    return True
                raise
            return False  # the second put succeeded: the header is ignored
        except Exception as e:
            raise self._error(e, name) from e
        finally:
            try:
                self._client.delete_object(Bucket=self.bucket, Key=name)
            except Exception:
                pass

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as e:  # S3 answers 204 for an absent key
            raise self._error(e, key) from e

    def close(self) -> None:
        self._client.close()

    # --- errors ------------------------------------------------------------------------

    def _error(self, e: Exception, key: str) -> LoxoError:
        """``e``, raised by boto3 while working on ``key``, as a one-line loxo error."""
        if isinstance(e, LoxoError):
            return e
        if isinstance(e, botocore.exceptions.ClientError):
            code, status = _code(e), _status(e)
            message = e.response.get("Error", {}).get("Message") or code
            if code == "NoSuchKey":
                return ObjectNotFound(key, self.url)
            if code == "NoSuchBucket":
                return StorageError(
                    f"the bucket {self.bucket!r} of the object store {self.url} does not exist "
                    f"at {self.endpoint}: create it (`aws s3 mb s3://{self.bucket}`) or fix "
                    "the URL"
                )
            if code in _DENIED or status == 403:
                return StorageError(
                    f"access to the object store {self.url} was refused ({code}: {message}): "
                    "check the AWS credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or "
                    "AWS_PROFILE) and the bucket's permissions"
                )
            if code in _BUSY or status >= 500:
                return TransientError(
                    f"the S3 server at {self.endpoint} failed on object {key!r} of {self.url} "
                    f"({code}: {message}); try again"
                )
            return StorageError(f"S3 error on object {key!r} of {self.url}: {code}: {message}")
        if isinstance(e, _UNREACHABLE):
            return TransientError(
                f"cannot reach the S3 endpoint {self.endpoint} of the object store {self.url} "
                f"({type(e).__name__}): check that the server is up and the endpoint is right "
                "(the URL's ?endpoint=, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)"
            )
        if isinstance(e, botocore.exceptions.NoCredentialsError):
            return StorageError(
                f"no AWS credentials for the object store {self.url}: set AWS_ACCESS_KEY_ID "
                "and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
            )
        if isinstance(e, botocore.exceptions.BotoCoreError | boto3.exceptions.Boto3Error):
            return StorageError(f"S3 error on object {key!r} of {self.url}: {e}")
        if isinstance(e, OSError):
            return StorageError(f"I/O error on object {key!r} of {self.url}: {e}")
        raise e  # a bug, not a storage failure: let its traceback show


def _client_config(region: str, endpoint: str | None) -> botocore.config.Config:
    """Retries (``AWS_MAX_ATTEMPTS`` / ``AWS_RETRY_MODE`` override them), a connection pool
    big enough for loxo's upload and read threads, and path-style addressing for custom
    endpoints (MinIO, moto, Ceph do not serve virtual-host buckets by default)."""
    try:
        attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or 5)
    except ValueError:
        raise InvalidArgumentError(
            f"AWS_MAX_ATTEMPTS must be a number, not {os.environ['AWS_MAX_ATTEMPTS']!r}"
        ) from None
    return botocore.config.Config(
        region_name=region,
        retries={"max_attempts": attempts, "mode": os.environ.get("AWS_RETRY_MODE") or "standard"},
        max_pool_connections=MAX_POOL_CONNECTIONS,
        connect_timeout=10,
        read_timeout=60,
        tcp_keepalive=True,
        s3={"addressing_style": "path"} if endpoint else None,
    )


def _code(e: botocore.exceptions.ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _status(e: botocore.exceptions.ClientError) -> int:
    return int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
