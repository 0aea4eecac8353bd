"""Fixtures shared by test packages: ``s3_server`` and ``s3_bucket``, a real S3 server on
loopback and a bucket on it, one per test module (see :mod:`tests.s3server`)."""

from tests.s3server import s3_bucket, s3_server

__all__ = ["s3_bucket", "s3_server"]
