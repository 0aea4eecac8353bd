"""The metadata database: projects, repos, branches, commits, staged writes, chunk index.

SQLite in WAL mode by default (one file under ``$LOXO_HOME``); the SQL is kept portable so
that a PostgreSQL backend can replace it. Every state change is one transaction: a commit's
fileset root, state and branch head change together or not at all, so a crash never leaves
a half commit visible.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from loxo.errors import InvalidArgumentError, StorageError, TransientError

T = TypeVar("T")
BUSY_TIMEOUT_ENV = "LOXO_DB_BUSY_TIMEOUT"
BUSY_TIMEOUT = 60.0  # seconds a statement waits for another connection's write lock

SCHEMA_VERSION = 1
SQL_INT_MAX = 2**63 - 1  # SQLite's largest INTEGER: a Python int above it cannot be bound

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS repos (
    id INTEGER PRIMARY KEY, project TEXT NOT NULL REFERENCES projects(name),
    name TEXT NOT NULL, type TEXT NOT NULL DEFAULT 'user',
    description TEXT NOT NULL DEFAULT '', created REAL NOT NULL, UNIQUE (project, name));
CREATE TABLE IF NOT EXISTS commits (
    repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    id TEXT NOT NULL, seq INTEGER NOT NULL, branch TEXT, parent TEXT,
    origin TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', state TEXT NOT NULL,
    started REAL NOT NULL, finishing REAL, finished REAL, root BLOB,
    size INTEGER NOT NULL DEFAULT 0, file_count INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '', PRIMARY KEY (repo_id, id));
CREATE INDEX IF NOT EXISTS commits_by_id ON commits (id);
CREATE INDEX IF NOT EXISTS commits_by_parent ON commits (repo_id, parent);
CREATE INDEX IF NOT EXISTS commits_by_seq ON commits (repo_id, seq);
CREATE TABLE IF NOT EXISTS branches (
    repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE, name TEXT NOT NULL,
    head TEXT, created REAL NOT NULL, PRIMARY KEY (repo_id, name));
CREATE TABLE IF NOT EXISTS commit_provenance (
    repo_id INTEGER NOT NULL, commit_id TEXT NOT NULL,
    from_repo_id INTEGER NOT NULL, from_commit_id TEXT NOT NULL,
    PRIMARY KEY (repo_id, commit_id, from_repo_id, from_commit_id));
CREATE INDEX IF NOT EXISTS provenance_from ON commit_provenance (from_repo_id, from_commit_id);
CREATE TABLE IF NOT EXISTS staged_ops (
    repo_id INTEGER NOT NULL, commit_id TEXT NOT NULL, seq INTEGER NOT NULL,
    payload BLOB NOT NULL, PRIMARY KEY (repo_id, commit_id, seq));
CREATE TABLE IF NOT EXISTS chunks (
    hash TEXT PRIMARY KEY, key TEXT NOT NULL, "offset" INTEGER NOT NULL,
    stored_len INTEGER NOT NULL, length INTEGER NOT NULL, codec INTEGER NOT NULL,
    last_used REAL NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_key ON chunks (key);
CREATE TABLE IF NOT EXISTS leases (
    id TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL,
    started REAL NOT NULL, heartbeat REAL NOT NULL, ttl REAL NOT NULL DEFAULT 3600);
"""

# columns added since a table was first created: (table, column, definition)
COLUMNS = [("leases", "ttl", "REAL NOT NULL DEFAULT 3600")]


class Database:
    """A SQLite connection with explicit transactions (``with db.tx(): ...``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout(), isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._lock = threading.RLock()
            self._depth = 0
            self._conn.executescript(SCHEMA)
            add_columns(self, COLUMNS)
            with self.tx():
                self.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
        except sqlite3.Error as err:
            raise StorageError(f"cannot open the metadata database {self.path}: {err}") from err

    @contextmanager
    def tx(self) -> Iterator[None]:
        """A write transaction (nested calls join the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                raise TransientError(f"the metadata database is busy: {err}") from err
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as err:
                self._conn.execute("ROLLBACK")
                raise _translate(err) from err

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._conn.execute(sql, params)
            except sqlite3.Error as err:
                raise _translate(err) from err

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            try:
                self._conn.executemany(sql, rows)
            except sqlite3.Error as err:
                raise _translate(err) from err

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.execute(sql, params).fetchall()

    def close(self) -> None:
        self._conn.close()


def add_columns(db: Database, columns: Sequence[tuple[str, str, str]]) -> None:
    """Add the ``(table, column, definition)`` columns a database made by an older loxo
    lacks."""
    for table, column, definition in columns:
        have = {row[1] for row in db.all(f"PRAGMA table_info({table})")}
        if column not in have:
            with db.tx():
                if column not in {row[1] for row in db.all(f"PRAGMA table_info({table})")}:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


def env_seconds(name: str, default: float, *, zero_ok: bool) -> float:
    """``$name`` as a number of seconds (above 0, or 0 too if ``zero_ok``), or ``default``
    when unset; anything else is an :class:`InvalidArgumentError` naming the value."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (value >= 0 if zero_ok else value > 0):
        bound = ", 0 or more" if zero_ok else " above 0"
        raise InvalidArgumentError(f"{name}={raw!r} must be a number of seconds{bound}")
    return value


def busy_timeout() -> float:
    """``$LOXO_DB_BUSY_TIMEOUT`` seconds, or :data:`BUSY_TIMEOUT`."""
    return env_seconds(BUSY_TIMEOUT_ENV, BUSY_TIMEOUT, zero_ok=True)


RETRY_FOR = 600.0  # seconds a transient error is retried before it is reported
RETRY_FIRST, RETRY_MAX = 0.05, 5.0  # the first and the longest wait between attempts


def retrying(
    fn: Callable[[], T],
    *,
    retry_for: float = RETRY_FOR,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
    before_retry: Callable[[], object] = lambda: None,
) -> T:
    """``fn()``, called again after each :class:`~loxo.errors.TransientError` (a busy
    database) with exponential backoff, until it returns or ``retry_for`` seconds have
    passed (then the last error is raised); ``before_retry`` runs before each new attempt.
    ``fn`` must be safe to repeat: a whole transaction, not a statement inside one."""
    deadline = clock() + retry_for
    wait = RETRY_FIRST
    while True:
        try:
            return fn()
        except TransientError:
            if clock() + wait > deadline:
                raise
            sleep(wait)
            wait = min(wait * 2, RETRY_MAX)
            before_retry()


_BUSY, _LOCKED, _FULL = 5, 6, 13  # SQLite primary result codes


def _translate(err: sqlite3.Error) -> Exception:
    code = getattr(err, "sqlite_errorcode", 0) & 0xFF
    if code in (_BUSY, _LOCKED):
        return TransientError(f"the metadata database is busy ({err}); try again")
    if code == _FULL:
        return StorageError(f"disk full writing the metadata database: {err}")
    return StorageError(f"metadata database error: {err}")
