"""The job driver: claims runnable jobs and runs them to the end.

``drive()`` loops until no job is runnable: it claims a job under a writer lease
(:mod:`~loxo.pps.claim`), plans it against the base job (the latest earlier successful job
of the pipeline) and records the skipped datums (:mod:`~loxo.pps.planning`), sends the rest
to the executor in task sets (:mod:`~loxo.pps.tasksets`), records the results (state, output
root, stats, logs) in batches as they arrive (:mod:`~loxo.pps.record`), and finally
assembles the output commit (:mod:`~loxo.pps.finish`). Every step is persisted, so a job
interrupted by a crash resumes where it stopped and ends with exactly the output a
crash-free run gives: the datums whose results were recorded keep them, the others run.

The lease heartbeats while the driver runs (:mod:`loxo.pfs.leases`), and each job is held
by a fencing token (:mod:`~loxo.pps.claim`): every write of its results checks the token,
so a driver whose job another driver took over writes nothing more and stops that job
(:class:`~loxo.pps.claim.ClaimLost`). A busy database
(:class:`~loxo.errors.TransientError`) never fails a job: the recorder retries its
batches, and any other step that meets one is retried with backoff by running the job
again from what it recorded (under a new token); only a real error fails the job.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from loxo.errors import LoxoError, TransientError
from loxo.execution.executor import Executor
from loxo.execution.registry import open_executor
from loxo.execution.task import DatumState, TaskSet
from loxo.pfs.db import retrying
from loxo.pfs.leases import Lease, lease

from .assemble import OutputRoot
from .claim import DONE_STATES, Claim, ClaimLost, check_claim
from .finish import FinishOps, root_blob
from .model import JobProgress, JobState
from .record import ResultRecorder
from .spec import PipelineSpec
from .tasksets import task_sets

__all__ = ["DONE_STATES", "FINAL", "RESTARTS", "DriverOps", "Progress"]

# the datums of a running job that a user asked to restart (looked for 4 times a second,
# through the partial index ``datums_restart``)
RESTARTS = (
    "SELECT datum_id FROM datums WHERE pipeline_id = ? AND job_id = ? AND restart_requested = 1"
)

FINAL = (DatumState.SUCCESS, DatumState.FAILED, DatumState.RECOVERED, DatumState.SKIPPED)
Progress = Callable[[JobProgress], None]


class DriverOps(FinishOps):
    executor_name: str = "local"
    _executor: Executor | None = None

    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = open_executor(self.executor_name)
        return self._executor

    def _private(self) -> tuple[str, ...]:
        """The loxo home (where the database lives): out of sight of user code."""
        path = getattr(self.db, "path", "")
        if not path or path == ":memory:" or path.startswith("file:"):
            return ()
        return (os.path.dirname(os.path.abspath(path)),)

    def drive(self, *, progress: Progress | None = None) -> list[tuple[str, str]]:
        """Run every runnable job until the DAG is quiet; returns (pipeline, job) run."""
        ran: list[tuple[str, str]] = []
        with lease(self.db, ttl=self.lease_ttl, clock=self.clock) as held:
            while (claimed := retrying(lambda: self._claim(held))) is not None:
                if self._run_job(claimed, held, progress):
                    ran.append((self._pipeline_name(claimed.pid)[1], claimed.job_id))
        return ran

    def _run_job(self, claim: Claim, held: Lease, progress: Progress | None) -> bool:
        """Run a claimed job to its end (see the module docstring); False if another
        driver took it over."""
        current = [claim]

        def renew() -> None:
            current[0] = retrying(lambda: self._reclaim(current[0], held))

        try:
            retrying(lambda: self._run_job_inner(current[0], progress), before_retry=renew)
        except ClaimLost:
            return False
        except TransientError:
            raise  # busy for too long: the job stays as it is, resumed by the next driver
        except Exception as err:
            reason = f"internal error: {type(err).__name__}: {err}"
            if isinstance(err, LoxoError):
                reason = str(err)
            with contextlib.suppress(ClaimLost):
                retrying(lambda: self._end_claimed(current[0], JobState.FAILURE, reason, None))
            raise
        return True

    def _run_job_inner(self, claim: Claim, progress: Progress | None) -> None:
        pid, job_id = claim.pid, claim.job_id
        project, name = self._pipeline_name(pid)
        seq, version, inputs_json, started = self.db.one(
            "SELECT seq, version, inputs, started FROM jobs WHERE pipeline_id = ? AND id = ?",
            (pid, job_id),
        )
        spec, salt = self._spec_of(pid, version)
        inputs = json.loads(inputs_json)
        with self.db.tx():
            check_claim(self.db, claim)
            self.db.execute(
                "UPDATE jobs SET state = 'RUNNING', started = COALESCE(started, ?) "
                "WHERE pipeline_id = ? AND id = ?",
                (time.time(), pid, job_id),
            )
        started = started or time.time()
        base_job, plan, datums, hashes = self._plan_datums(pid, seq, spec, salt, inputs)
        existing = self._recorded_datums(pid, job_id)
        to_run = [datums[d] for d in plan.run if existing.get(d) not in FINAL]

        def record_plan() -> None:
            with self.db.tx():
                check_claim(self.db, claim)
                self._record_plan(
                    pid, job_id, spec, inputs, base_job, plan, datums, hashes, existing
                )

        # the plan's rows are written while the first datums run: results wait for them
        with ThreadPoolExecutor(1, thread_name_prefix="loxo-plan") as pool:
            recorded = pool.submit(retrying, record_plan)
            stopped = ""
            outputs: dict[str, OutputRoot] | None = {}  # nothing to run, nothing ran
            if to_run:
                sets = task_sets(
                    spec, name, project, job_id, self.store.url, to_run, self._private()
                )
                stopped, outputs = self._execute(
                    claim, spec, sets, started, progress, name, recorded.result
                )
            recorded.result()
        gone = plan.replaced + plan.removed
        # a resumed job's earlier results are in its rows only
        self._finish(claim, spec, stopped, base_job, gone, None if existing else outputs)
        if progress is not None:
            progress(self._progress(pid, job_id, name, started))

    def _execute(
        self,
        claim: Claim,
        spec: PipelineSpec,
        sets: Iterable[TaskSet],
        started: float,
        progress: Progress | None,
        name: str,
        rows_ready: Callable[[], object],
    ) -> tuple[str, dict[str, OutputRoot] | None]:
        """Run the sets; returns ("" or why the job was cut short (stopped, timed out),
        the output roots of the datums that succeeded if all are held). ``rows_ready``
        returns once the datums' rows exist. Any error cancels the job's sets."""
        pid, job_id = claim.pid, claim.job_id
        executor = self.executor()
        stop = threading.Event()
        why: list[str] = []

        def monitor() -> None:
            while not stop.wait(0.25):
                with contextlib.suppress(TransientError):  # busy: look again next time
                    if self._watch(claim, spec, started, executor, why):
                        return

        watcher = threading.Thread(target=monitor, name=f"loxo-job-{job_id[:8]}", daemon=True)
        watcher.start()
        last = 0.0
        recorder = ResultRecorder(
            self.db, pid, root_blob, rows_ready, fence=lambda: check_claim(self.db, claim)
        )
        try:
            for result in executor.run(sets, parallelism=spec.parallelism):
                recorder.add(result)
                if progress is not None and time.monotonic() - last > 0.1:
                    last = time.monotonic()
                    with contextlib.suppress(TransientError):  # the recorder retries
                        recorder.flush()
                        progress(self._progress(pid, job_id, name, started))
        except BaseException:
            executor.cancel(job_id)
            raise
        finally:
            stop.set()
            watcher.join()
            recorder.close()
        return (why[0] if why else ""), recorder.outputs

    def _watch(
        self, claim: Claim, spec: PipelineSpec, started: float, executor: Any, why: list[str]
    ) -> bool:
        """One look of a running job's monitor: a stop request, its timeout, another driver
        taking it over (then the job's sets are cancelled and True is returned), or datums
        to restart."""
        pid, job_id = claim.pid, claim.job_id
        row = self.db.one(
            "SELECT stop_requested, fence FROM jobs WHERE pipeline_id = ? AND id = ?",
            (pid, job_id),
        )
        if row is None or row[0]:
            why.append("stopped by the user")
        elif row[1] != claim.token:
            why.append(str(ClaimLost(claim)))
        elif spec.job_timeout and time.time() - started > spec.job_timeout:
            why.append(f"job timed out after {spec.job_timeout:g}s")
        if why:
            executor.cancel(job_id)
            return True
        for (datum_id,) in self.db.all(RESTARTS, (pid, job_id)):
            executor.restart_datum(job_id, datum_id)
            with self.db.tx():
                self.db.execute(
                    "UPDATE datums SET restart_requested = 0 WHERE pipeline_id = ? "
                    "AND job_id = ? AND datum_id = ?",
                    (pid, job_id, datum_id),
                )
        return False

    def _progress(self, pid: int, job_id: str, name: str, started: float) -> JobProgress:
        total, processed, skipped, failed, recovered, state = self.db.one(
            "SELECT data_total, data_processed, data_skipped, data_failed, data_recovered, "
            "state FROM jobs WHERE pipeline_id = ? AND id = ?",
            (pid, job_id),
        )
        return JobProgress(
            name, job_id, total, processed, skipped, failed, recovered, started, JobState(state)
        )

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor = None
        super().close()
