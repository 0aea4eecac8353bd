"""Claiming jobs: which job a driver runs next, under its writer lease.

A job is claimable when it is not done, no earlier job of its pipeline is pending, and no
live lease holds it (a job whose driver died, or stopped heartbeating, is claimed again: it
resumes). Claiming a CREATED job first checks its input commits: all finished makes it
STARTING; one deleted or failed makes it UNRUNNABLE; a stop request kills it. All in one
transaction, so two processes never claim the same job.

**Fencing.** Every claim raises the job's ``fence`` by one and hands the new value to the
driver in its :class:`Claim`. Every write of the job's results (its state, datum rows,
counters, output commit) runs in a transaction that first checks the fence is still that
value (:func:`check_claim`); so a driver whose lease expired while it was still running
(paused, stopped, cut off from the database) and whose job another driver took over can
never write again: :class:`ClaimLost` refuses its writes, and it stops that job.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loxo.errors import ConflictError
from loxo.pfs.db import Database
from loxo.pfs.leases import Lease, live_leases

from .model import JobState
from .pipelines import PipelineOps

DONE_STATES = ("SUCCESS", "FAILURE", "KILLED", "UNRUNNABLE")


@dataclass(frozen=True)
class Claim:
    """A job held by this driver: the pipeline, the job, the fencing token, and the lease
    of the driver."""

    pid: int
    job_id: str
    token: int
    lease_id: str


class ClaimLost(ConflictError):
    def __init__(self, claim: Claim) -> None:
        self.claim = claim
        super().__init__(
            f"job {claim.job_id} is no longer this driver's: its lease expired (it stopped "
            "heartbeating for longer than the lease TTL) or another driver took the job "
            "over; it stops running it here"
        )


def check_claim(db: Database, claim: Claim) -> None:
    """Raise :class:`ClaimLost` unless ``claim`` still holds its job and its driver's lease
    is alive (garbage collection spares what the job wrote only while it is); call it
    inside the transaction of the write it guards (the UPDATE also locks the job's row)."""
    cur = db.execute(
        "UPDATE jobs SET fence = fence WHERE pipeline_id = ? AND id = ? AND fence = ? "
        "AND EXISTS (SELECT 1 FROM leases WHERE id = ?)",
        (claim.pid, claim.job_id, claim.token, claim.lease_id),
    )
    if cur.rowcount != 1:
        raise ClaimLost(claim)


class ClaimOps(PipelineOps):
    clock: Callable[[], float] = staticmethod(time.time)  # judges leases; tests inject one
    lease_ttl: float | None = None  # this driver's lease TTL (None: $LOXO_LEASE_TTL)

    def pending_jobs(self) -> int:
        return int(self.db.one(f"SELECT COUNT(*) FROM jobs WHERE state NOT IN {DONE_STATES}")[0])

    def _reclaim(self, claim: Claim, held: Lease) -> Claim:
        """Claim again a job this driver holds (a new token: the previous attempt's late
        writes are refused); raises :class:`ClaimLost` if it is another's now."""
        with self.db.tx():
            check_claim(self.db, claim)
            self.db.execute(
                "UPDATE jobs SET fence = fence + 1, driver = ? WHERE pipeline_id = ? AND id = ?",
                (held.id, claim.pid, claim.job_id),
            )
        return Claim(claim.pid, claim.job_id, claim.token + 1, held.id)

    def _claim(self, held: Lease) -> Claim | None:
        """The next job for this driver (None: none, or its own lease was lost)."""
        live = live_leases(self.db, self.clock())  # and clears dead leases
        lease_id = held.id
        if lease_id not in live:
            held.lost = True
            return None
        with self.db.tx():
            busy: set[int] = set()
            for pid, job_id, state, driver, inputs, stop in self.db.all(
                "SELECT pipeline_id, id, state, driver, inputs, stop_requested FROM jobs "
                f"WHERE state NOT IN {DONE_STATES} ORDER BY seq"
            ):
                if pid in busy:
                    continue  # an earlier job of this pipeline comes first
                busy.add(pid)
                if driver is not None and driver in live and driver != lease_id:
                    continue
                if stop:
                    self._end_job(pid, job_id, JobState.KILLED, "stopped by the user", None)
                    continue
                if state == JobState.CREATED:
                    ready, why = self._inputs_ready(json.loads(inputs))
                    if why:
                        self._end_job(pid, job_id, JobState.UNRUNNABLE, why, None)
                        busy.discard(pid)
                        continue
                    if not ready:
                        continue
                self.db.execute(
                    "UPDATE jobs SET driver = ?, fence = fence + 1, state = CASE WHEN "
                    "state = 'CREATED' THEN 'STARTING' ELSE state END "
                    "WHERE pipeline_id = ? AND id = ?",
                    (lease_id, pid, job_id),
                )
                (token,) = self.db.one(
                    "SELECT fence FROM jobs WHERE pipeline_id = ? AND id = ?", (pid, job_id)
                )
                return Claim(pid, job_id, int(token), lease_id)
        return None

    def _inputs_ready(self, inputs: list[dict[str, Any]]) -> tuple[bool, str]:
        """(all input commits finished, why the job can never run)."""
        for i in inputs:
            if i["commit"] is None:
                continue
            row = self._commit_row(i["repo_id"], i["commit"])
            if row is None:
                return False, f"input commit {i['repo']}@{i['commit']} was deleted"
            if row.is_open:
                return False, ""
            if row.error:
                return False, f"input {i['repo']}@{i['commit']} failed: {row.error}"
        return True, ""
