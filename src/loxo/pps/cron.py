"""Cron inputs: ticks committed as files, so time-driven pipelines are data-driven too.

A cron input ``name`` of pipeline ``P`` owns the repo ``P_name``. On each tick the system
commits an empty file named by the tick time (``/2026-11-25T12:00:00Z``) to that repo, which
starts a job like any other commit; ``overwrite: true`` replaces the previous tick file
instead of adding one. Ticks are due per ``next_tick(spec, last tick)``; a driver that was
away commits only the latest missed tick, not a backlog. ``run cron`` forces a tick now.
"""

from __future__ import annotations

from datetime import UTC, datetime

from loxo.errors import InvalidArgumentError, LoxoError

from .jobs import JobOps, leaf_inputs
from .spec import CronInput, next_tick

TICK_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class CronOps(JobOps):
    def _cron_inputs(self, pipeline_id: int) -> list[CronInput]:
        spec, _ = self._spec_of(pipeline_id)
        return [x for x in leaf_inputs(spec.input) if isinstance(x, CronInput)]

    def run_cron(self, pipeline: str, *, project: str = "default") -> list[str]:
        """Commit a tick now to every cron input of ``pipeline``; the commit IDs."""
        pid = self._pipeline_id(pipeline, project)
        crons = self._cron_inputs(pid)
        if not crons:
            raise InvalidArgumentError(f"pipeline {pipeline!r} has no cron input")
        now = datetime.now(UTC)
        return [self._tick(c, now) for c in crons]

    def _tick(self, cron: CronInput, at: datetime) -> str:
        name = "/" + at.strftime(TICK_FORMAT)
        with self.modify_file(f"{cron.project}/{cron.repo}@master" if cron.project != "default"
                              else f"{cron.repo}@master") as mf:  # fmt: skip
            if cron.overwrite:
                for e in self._tick_files(cron):
                    mf.delete_file(e)
            mf.put_file(name, b"")
        assert mf.commit is not None
        return str(mf.commit.id)

    def _tick_files(self, cron: CronInput) -> list[str]:
        try:
            return [e.path for e in self.walk_files(f"{cron.repo}@master")]
        except LoxoError:
            return []

    def due_ticks(self) -> int:
        """Commit the due tick of every cron input of every running pipeline."""
        n = 0
        now = datetime.now(UTC)
        for pid, created in self.db.all(
            "SELECT id, created FROM pipelines WHERE stopped = 0 ORDER BY id"
        ):
            for cron in self._cron_inputs(pid):
                ticks = self._tick_files(cron)
                last = (
                    datetime.strptime(ticks[-1][1:], TICK_FORMAT).replace(tzinfo=UTC)
                    if ticks
                    else _start(cron, created)
                )
                due = None
                nxt = next_tick(cron.spec, last)
                while nxt <= now:
                    due, nxt = nxt, next_tick(cron.spec, nxt)
                if due is not None:
                    self._tick(cron, due)
                    n += 1
        return n


def _start(cron: CronInput, created: float) -> datetime:
    if cron.start:
        return datetime.fromisoformat(cron.start.replace("Z", "+00:00")).astimezone(UTC)
    return datetime.fromtimestamp(created, UTC)
