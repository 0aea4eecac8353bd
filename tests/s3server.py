"""A real S3-compatible HTTP server on loopback, for the tests and benchmarks: moto's server
mode (the S3 server the package registries offer here) in a child process.

:class:`S3Server` starts ``python tests/s3server.py`` on ``127.0.0.1`` with a free port and
stops it on :meth:`S3Server.stop` (or leaving its ``with`` block). The child also stops by
itself when its parent goes away, however that happens: it waits for end-of-file on its
stdin, a pipe only the parent holds. The child builds the server as moto's
``ThreadedMotoServer`` does, but in its own process, so that the server does not compete
with the tests (and the benchmarks) for one interpreter lock.

Two fixes make moto behave as S3 does where loxo depends on it:

- moto checks ``If-None-Match: *`` and then stores the object without a lock, so two racing
  conditional puts can both succeed (about one round in 200 of the contract's 8-writer
  race); the child serializes conditional requests, which makes the check and the write one
  atomic step, as on S3;
- ``auth=True`` starts moto with access-key checking on (``INITIAL_NO_AUTH_ACTION_COUNT=0``),
  where every request with an unknown access key fails with ``InvalidAccessKeyId``: the
  bad-credentials tests use it. The default accepts any credentials.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

import pytest

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "loxo-test",
    "AWS_SECRET_ACCESS_KEY": "loxo-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class S3Server:
    """``with S3Server() as s3: s3.endpoint`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, *, auth: bool = False, startup_timeout: float = 60.0) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
        if not auth:
            env.pop("INITIAL_NO_AUTH_ACTION_COUNT")
        self._proc = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self._proc.stdout is not None
        line = _readline(self._proc.stdout, startup_timeout)
        if not line.startswith(b"port "):
            self.stop()
            raise RuntimeError(f"the moto S3 server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        """A boto3 S3 client for this server (with :data:`CREDENTIALS`)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # the child's cue to shut down
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> S3Server:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def isolated_aws_env(mp: pytest.MonkeyPatch, **extra: str) -> None:
    """Point the AWS settings at :data:`CREDENTIALS` only: no profile, config file, endpoint
    or instance metadata of the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            mp.delenv(name)
    missing = os.path.join(os.path.dirname(__file__), "no-such-aws-file")
    env = {
        **CREDENTIALS,
        "AWS_CONFIG_FILE": missing,
        "AWS_SHARED_CREDENTIALS_FILE": missing,
        "AWS_EC2_METADATA_DISABLED": "true",
        **extra,
    }
    for name, value in env.items():
        mp.setenv(name, value)


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server for the test module, with the AWS environment set to reach it."""
    with pytest.MonkeyPatch.context() as mp, S3Server() as server:
        isolated_aws_env(mp)
        yield server


@pytest.fixture(scope="module")
def s3_bucket(s3_server: S3Server) -> str:
    """A new bucket on :func:`s3_server`, for the test module."""
    return s3_server.create_bucket(f"loxo-test-{uuid.uuid4().hex[:12]}")


def _readline(stream: Any, timeout: float) -> bytes:
    """A line from ``stream``, or b"" after ``timeout`` seconds."""
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return got[0] if got else b""


# --- the child ---------------------------------------------------------------------------

Start = Callable[[str, list[tuple[str, str]]], Any]
App = Callable[[dict[str, Any], Start], Iterable[bytes]]


def atomic_conditional_writes(app: App) -> App:
    """``app`` with requests carrying ``If-None-Match`` run one at a time."""
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: Start) -> Iterable[bytes]:
        if "HTTP_IF_NONE_MATCH" not in environ or environ["REQUEST_METHOD"] == "GET":
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))

    return wrapped


def serve() -> None:
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request
    app = atomic_conditional_writes(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdout.write(f"port {server.server_address[1]}\n")
    sys.stdout.flush()
    sys.stdin.buffer.read()  # end-of-file: the parent stopped us, or went away
    server.shutdown()


if __name__ == "__main__":
    serve()
