"""The server's scheduler: one thread that runs jobs continuously.

It calls :meth:`Service.drive` — which commits due cron ticks, then runs every runnable job
until the DAG is quiet — whenever it is woken (a branch head moved, a write request came in)
and at least every ``interval`` seconds (cron ticks, jobs left by a crashed server). Job
progress goes to the event bus as ``job`` events, a moved branch head (a user's commit or a
job's output) as a ``commit`` event.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from loxo.errors import LoxoError
from loxo.pfs.model import CommitID, CommitState
from loxo.pps.model import JobProgress

from .events import EventBus

if TYPE_CHECKING:
    from loxo.service import Service

log = logging.getLogger("loxo.server")


class Scheduler:
    def __init__(self, service: Service, bus: EventBus, *, interval: float = 1.0) -> None:
        self.service, self.bus, self.interval = service, bus, interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loxo-scheduler", daemon=True)
        self.passes = 0  # completed drive passes, for readiness and metrics
        self._projects: dict[tuple[str, str], str] = {}  # (pipeline, job) -> project
        service.head_hooks.append(self._on_head)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current pass (a job still running stays claimed by this process
        and resumes when the server comes back)."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.service.drive(progress=self._progress)
            except Exception:  # keep scheduling: one bad pass must not stop the server
                log.exception("the scheduler's pass failed; retrying")
            self.passes += 1
            self._wake.wait(self.interval)

    def _progress(self, p: JobProgress) -> None:
        project = self._project_of(p)
        self.bus.publish("job", {**p.to_dict(), "project": project})
        if p.state.done:
            self._publish_output(project, p)

    def _publish_output(self, project: str, p: JobProgress) -> None:
        """A job that finished its output commit moved its output branch: a ``commit``
        event, as for a user's commit (the head hooks see only those)."""
        try:
            info = self.service.inspect_commit(f"{project}/{p.pipeline}@{p.job_id}")
        except LoxoError:
            return  # no output commit (the job failed before making one)
        if info.state == CommitState.FINISHED and info.branch is not None:
            event = {"project": project, "repo": p.pipeline, "branch": info.branch, "id": info.id}
            self.bus.publish("commit", event)

    def _project_of(self, p: JobProgress) -> str:
        key = (p.pipeline, p.job_id)
        project = self._projects.get(key)
        if project is None:
            row = self.service.db.one(
                "SELECT p.project FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id "
                "WHERE j.id = ? AND p.name = ?",
                key[::-1],
            )
            project = self._projects[key] = row[0] if row else "default"
        return project

    def _on_head(self, repo_id: int, branch: str, commit_id: CommitID, new_set: bool) -> None:
        row = self.service.db.one("SELECT project, name FROM repos WHERE id = ?", (repo_id,))
        if row is not None:
            self.bus.publish(
                "commit", {"project": row[0], "repo": row[1], "branch": branch, "id": commit_id}
            )
        self._wake.set()
