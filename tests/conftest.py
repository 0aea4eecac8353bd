"""Fixtures shared by test packages: ``s3_server`` and ``s3_bucket``, a real S3 server on
loopback and a bucket on it, one per test module (see :mod:`tests.s3server`); and the
Hypothesis profile."""

from hypothesis import settings

from tests.s3server import s3_bucket, s3_server

__all__ = ["s3_bucket", "s3_server"]

# Deadlines measure this machine's load, not correctness: a shared 2-core CI box is slow at
# times. Property tests still run their full number of examples.
settings.register_profile("loxo", deadline=None)
settings.load_profile("loxo")
