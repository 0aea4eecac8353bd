"""The chunk index and writer leases, kept in the metadata database.

``DbChunkIndex`` implements :class:`loxo.storage.blobs.ChunkIndex`: chunk hash -> where the
chunk is stored, plus ``last_used``, refreshed by every lookup. A *lease* marks a writer in
progress (a put, an open commit being filled); garbage collection spares every object or
index entry touched since the oldest live lease began. A lease whose process is gone (same
host) or whose heartbeat is older than ``LEASE_TTL`` is dead and ignored.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from loxo.storage.blobs import DataRef

from .db import Database

LEASE_TTL = 3600.0
_BATCH = 5000


class DbChunkIndex:
    def __init__(self, db: Database) -> None:
        self.db = db

    def lookup(self, hashes: Sequence[str]) -> dict[str, DataRef]:
        found: dict[str, DataRef] = {}
        now = time.time()
        for i in range(0, len(hashes), _BATCH):
            part = list(hashes[i : i + _BATCH])
            marks = ",".join("?" * len(part))
            with self.db.tx():
                self.db.execute(
                    f"UPDATE chunks SET last_used = ? WHERE hash IN ({marks})", [now, *part]
                )
                rows = self.db.all(
                    'SELECT hash, key, "offset", stored_len, length, codec FROM chunks '
                    f"WHERE hash IN ({marks})",
                    part,
                )
            for h, key, off, slen, n, codec in rows:
                found[h] = DataRef(key, off, slen, n, h, codec)
        return found

    def record(self, refs: Sequence[DataRef]) -> None:
        now = time.time()
        with self.db.tx():
            self.db.executemany(
                'INSERT OR IGNORE INTO chunks (hash, key, "offset", stored_len, length, codec, '
                "last_used) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.hash, r.key, r.offset, r.stored_len, r.length, r.codec, now) for r in refs],
            )


@contextmanager
def lease(db: Database) -> Iterator[str]:
    """Hold a writer lease for the duration of the block."""
    lease_id = uuid.uuid4().hex
    now = time.time()
    with db.tx():
        db.execute(
            "INSERT INTO leases (id, pid, host, started, heartbeat) VALUES (?, ?, ?, ?, ?)",
            (lease_id, os.getpid(), socket.gethostname(), now, now),
        )
    try:
        yield lease_id
    finally:
        with db.tx():
            db.execute("DELETE FROM leases WHERE id = ?", (lease_id,))


def heartbeat(db: Database, lease_id: str) -> None:
    """Keep a long-running writer's lease alive."""
    with db.tx():
        db.execute("UPDATE leases SET heartbeat = ? WHERE id = ?", (time.time(), lease_id))


def oldest_live_lease(db: Database, now: float) -> float | None:
    """Start time of the oldest live lease (dead ones are removed on the way)."""
    host = socket.gethostname()
    oldest: float | None = None
    dead: list[str] = []
    for lease_id, pid, lease_host, started, heartbeat in db.all(
        "SELECT id, pid, host, started, heartbeat FROM leases"
    ):
        alive = now - heartbeat < LEASE_TTL
        if alive and lease_host == host:
            alive = _pid_alive(pid)
        if not alive:
            dead.append(lease_id)
        elif oldest is None or started < oldest:
            oldest = started
    if dead:
        with db.tx():
            db.executemany("DELETE FROM leases WHERE id = ?", [(d,) for d in dead])
    return oldest


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
