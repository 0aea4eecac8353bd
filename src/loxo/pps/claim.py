"""Claiming jobs: which job a driver runs next, under its writer lease.

A job is claimable when it is not done, no earlier job of its pipeline is pending, and no
live lease holds it (a job whose driver died is claimed again: it resumes). Claiming a
CREATED job first checks its input commits: all finished makes it STARTING; one deleted or
failed makes it UNRUNNABLE; a stop request kills it. All in one transaction, so two
processes never claim the same job.
"""

from __future__ import annotations

import json
import time
from typing import Any

from loxo.pfs.chunkindex import oldest_live_lease

from .model import JobState
from .pipelines import PipelineOps

DONE_STATES = ("SUCCESS", "FAILURE", "KILLED", "UNRUNNABLE")


class ClaimOps(PipelineOps):
    def pending_jobs(self) -> int:
        return int(self.db.one(f"SELECT COUNT(*) FROM jobs WHERE state NOT IN {DONE_STATES}")[0])

    def _claim(self, lease_id: str) -> tuple[int, str] | None:
        oldest_live_lease(self.db, time.time())  # clears dead leases
        live = {r[0] for r in self.db.all("SELECT id FROM leases")}
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
                    "UPDATE jobs SET driver = ?, state = CASE WHEN state = 'CREATED' "
                    "THEN 'STARTING' ELSE state END WHERE pipeline_id = ? AND id = ?",
                    (lease_id, pid, job_id),
                )
                return pid, job_id
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
