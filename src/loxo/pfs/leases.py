"""Writer leases: who is writing right now, kept alive by a heartbeat.

A *lease* is a row in ``leases`` held by a writer in progress: a put (a
:class:`~loxo.pfs.files_write.ModifyFile` session) or a job driver (``drive()``). Two readers
care: garbage collection spares every object touched since the oldest live lease began, and a
driver may claim a job only if the lease that claimed it before is dead.

- **Heartbeat.** While a lease is held, a background thread of its holder rewrites its
  ``heartbeat`` time every third of its TTL, however long the holder's work takes.
- **Expiry.** A lease is dead once its last heartbeat is older than the TTL its holder
  announced in the row (``ttl``), i.e. only when the holder stopped heartbeating (its process
  died, hung or was stopped); on the same host a lease whose process is gone is dead at once,
  so a command killed with ``kill -9`` is resumed by the very next one. Whoever finds a dead
  lease removes its row.
- **Loss.** A holder whose row was removed (it was declared dead, say after a long pause) has
  *lost* its lease: its heartbeats find no row, and :meth:`Lease.confirm` raises
  :class:`LeaseLost`. A put confirms its lease just before it commits, so it never commits
  objects that a collection may have taken for garbage; a driver's jobs are protected
  by their own fencing token (:mod:`loxo.pps.claim`).

The TTL is ``$LOXO_LEASE_TTL`` seconds (default :data:`DEFAULT_TTL`); the TTL and the clock
are parameters of :class:`Lease` and of :func:`live_leases`, so tests use a short TTL and an
injected clock instead of waiting. The SQL is plain, for any SQL database.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

from loxo.errors import LoxoError, PreconditionError, TransientError

from .db import Database, env_seconds

DEFAULT_TTL = 30.0  # seconds
TTL_ENV = "LOXO_LEASE_TTL"
Clock = Callable[[], float]


class LeaseLost(PreconditionError):
    def __init__(self, lease_id: str) -> None:
        self.lease_id = lease_id
        super().__init__(
            f"writer lease {lease_id} expired (this process stopped heartbeating for longer "
            f"than its TTL, ${TTL_ENV}); nothing was written: try again"
        )


def lease_ttl() -> float:
    """The TTL of new leases: ``$LOXO_LEASE_TTL`` seconds, or :data:`DEFAULT_TTL`."""
    return env_seconds(TTL_ENV, DEFAULT_TTL, zero_ok=False)


class Lease:
    """One held lease: its row, and the thread that heartbeats it until :meth:`release`."""

    def __init__(self, db: Database, *, ttl: float | None = None, clock: Clock = time.time) -> None:
        self.db, self.clock = db, clock
        self.ttl = lease_ttl() if ttl is None else ttl
        self.id = uuid.uuid4().hex
        self.started = clock()
        self.lost = False
        with db.tx():
            db.execute(
                "INSERT INTO leases (id, pid, host, started, heartbeat, ttl) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (self.id, os.getpid(), socket.gethostname(), self.started, self.started,
                 self.ttl),
            )  # fmt: skip
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat_loop, name=f"loxo-lease-{self.id[:8]}", daemon=True
        )
        self._thread.start()

    def beat(self) -> bool:
        """Refresh the heartbeat now; False (and :attr:`lost`) if the row is gone."""
        with self.db.tx():
            cur = self.db.execute(
                "UPDATE leases SET heartbeat = ? WHERE id = ?", (self.clock(), self.id)
            )
        if cur.rowcount != 1:
            self.lost = True
        return not self.lost

    def confirm(self) -> None:
        """Raise :class:`LeaseLost` unless the lease is alive (refreshing it)."""
        if self.lost or not self.beat():
            raise LeaseLost(self.id)

    def release(self) -> None:
        self._stop.set()
        self._thread.join()
        # an unreachable database: the lease expires instead
        with contextlib.suppress(LoxoError), self.db.tx():
            self.db.execute("DELETE FROM leases WHERE id = ?", (self.id,))

    def _beat_loop(self) -> None:
        every = self.ttl / 3
        while not self._stop.wait(every):
            try:
                if not self.beat():
                    return  # declared dead: the holder finds out through confirm()
                every = self.ttl / 3
            except TransientError:
                every = self.ttl / 10  # the database is busy: try again soon
            except LoxoError:
                return  # the database is closed or gone


@contextlib.contextmanager
def lease(db: Database, *, ttl: float | None = None, clock: Clock = time.time) -> Iterator[Lease]:
    """Hold a heartbeating lease for the duration of the block."""
    held = Lease(db, ttl=ttl, clock=clock)
    try:
        yield held
    finally:
        held.release()


def live_leases(db: Database, now: float) -> dict[str, float]:
    """The live leases (id -> start time) at time ``now``; dead ones are removed."""
    host = socket.gethostname()
    live: dict[str, float] = {}
    dead: list[str] = []
    for lease_id, pid, lease_host, started, heartbeat, ttl in db.all(
        "SELECT id, pid, host, started, heartbeat, ttl FROM leases"
    ):
        alive = now - heartbeat < ttl
        if alive and lease_host == host:
            alive = _pid_alive(pid)
        if alive:
            live[lease_id] = started
        else:
            dead.append(lease_id)
    if dead:
        with db.tx():
            db.executemany("DELETE FROM leases WHERE id = ?", [(d,) for d in dead])
    return live


def oldest_live_lease(db: Database, now: float) -> float | None:
    """Start time of the oldest live lease (dead ones are removed on the way)."""
    return min(live_leases(db, now).values(), default=None)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
