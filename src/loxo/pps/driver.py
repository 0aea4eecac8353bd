"""The job driver: claims runnable jobs and runs them to the end.

``drive()`` loops until no job is runnable: it claims a job under a writer lease (so two
processes never run the same job, and a job whose driver died is claimed again), lists the
datums of its input commits, diffs them against the base job (the latest earlier successful
job of the pipeline), records skipped datums, sends the rest to the executor in datum sets,
records the results (state, output root, stats, logs) in batches as they arrive
(:mod:`~loxo.pps.record`), and finally assembles
the output commit. Every step is persisted, so a job interrupted by a crash resumes where it
stopped and ends with exactly the output a crash-free run gives.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import json
import math
import operator
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgpack

from loxo.errors import LoxoError
from loxo.execution.executor import Executor
from loxo.execution.output import output_entries, parse_root
from loxo.execution.registry import open_executor
from loxo.execution.task import DatumState, TaskSet
from loxo.pfs.chunkindex import lease, oldest_live_lease
from loxo.storage.fileset import NodeRef

from .assemble import OutputCollision, OutputRoot, assemble
from .datums import Datum, datum_hasher, datum_task, iter_datums
from .egress import egress
from .model import JobProgress, JobState
from .pipelines import PipelineOps
from .plan import SKIPPABLE_STATES, plan_job
from .record import ResultRecorder
from .spec import PipelineSpec

FINAL = (DatumState.SUCCESS, DatumState.FAILED, DatumState.RECOVERED, DatumState.SKIPPED)
DONE_STATES = ("SUCCESS", "FAILURE", "KILLED", "UNRUNNABLE")
Progress = Callable[[JobProgress], None]


def _root_blob(root: NodeRef | list[Any] | None) -> bytes | None:
    if root is None:
        return None
    return msgpack.packb(list(root))


def _root(blob: bytes | None) -> OutputRoot | None:
    return None if blob is None else parse_root(msgpack.unpackb(blob))


class DriverOps(PipelineOps):
    executor_name: str = "local"
    _executor: Executor | None = None

    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = open_executor(self.executor_name)
        return self._executor

    # --- claiming -------------------------------------------------------------------

    def drive(self, *, progress: Progress | None = None) -> list[tuple[str, str]]:
        """Run every runnable job until the DAG is quiet; returns (pipeline, job) run."""
        ran: list[tuple[str, str]] = []
        with lease(self.db) as lease_id:
            while (claimed := self._claim(lease_id)) is not None:
                self._run_job(*claimed, lease_id, progress)
                ran.append((self._pipeline_name(claimed[0])[1], claimed[1]))
        return ran

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

    # --- running --------------------------------------------------------------------

    def _run_job(self, pid: int, job_id: str, lease_id: str, progress: Progress | None) -> None:
        try:
            self._run_job_inner(pid, job_id, progress)
        except Exception as err:
            reason = f"internal error: {type(err).__name__}: {err}"
            if isinstance(err, LoxoError):
                reason = str(err)
            self._end_job(pid, job_id, JobState.FAILURE, reason, None)
            raise

    def _run_job_inner(self, pid: int, job_id: str, progress: Progress | None) -> None:
        project, name = self._pipeline_name(pid)
        seq, version, inputs_json, started = self.db.one(
            "SELECT seq, version, inputs, started FROM jobs WHERE pipeline_id = ? AND id = ?",
            (pid, job_id),
        )
        spec, salt = self._spec_of(pid, version)
        inputs = json.loads(inputs_json)
        with self.db.tx():
            self.db.execute(
                "UPDATE jobs SET state = 'RUNNING', started = COALESCE(started, ?) "
                "WHERE pipeline_id = ? AND id = ?",
                (time.time(), pid, job_id),
            )
        started = started or time.time()
        found = iter_datums(spec.input, self._listing(inputs), self._commits(inputs))  # type: ignore[arg-type]
        datums: dict[str, Datum] = {}
        hashes: dict[str, str] = {}
        hash_of = datum_hasher(salt)
        # planning makes ~3 acyclic objects per datum: a cyclic GC pass every 700 is waste
        with _no_gc():
            for d in found:
                datums[d.id] = d
                hashes[d.id] = hash_of(d)
            base_job, base = self._base_states(pid, seq)
            plan = plan_job(hashes.items(), base, every_job=spec.reprocess_spec == "every_job")
            existing = {
                d: s
                for d, s in self.db.all(
                    "SELECT datum_id, state FROM datums WHERE pipeline_id = ? AND job_id = ?",
                    (pid, job_id),
                )
            }
        rows: list[tuple[Any, ...]] = [
            (pid, job_id, d, hashes[d], "STARTING", None, _inputs_json(datums[d]))
            for d in plan.run
            if d not in existing
        ]
        with self.db.tx():
            if plan.skip:
                assert base_job is not None
                self._copy_skipped(pid, job_id, base_job, datums, plan.skip, base, existing)
            self.db.executemany(
                "INSERT OR IGNORE INTO datums (pipeline_id, job_id, datum_id, hash, state, "
                "output_root, inputs) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self.db.execute(
                "UPDATE jobs SET data_total = ? WHERE pipeline_id = ? AND id = ?",
                (len(datums), pid, job_id),
            )
            if existing:  # resumed: count the datums already recorded
                self._update_counters(pid, job_id)
            else:  # what _update_counters would find, without a pass over every row
                self.db.execute(
                    "UPDATE jobs SET data_processed = 0, data_skipped = ?, data_failed = 0, "
                    "data_recovered = 0, download_bytes = 0, upload_bytes = 0, "
                    "download_seconds = 0, process_seconds = 0, upload_seconds = 0 "
                    "WHERE pipeline_id = ? AND id = ?",
                    (len(plan.skip), pid, job_id),
                )
        to_run = [d for d in plan.run if existing.get(d) not in FINAL]
        sets = self._task_sets(spec, name, project, job_id, [datums[d] for d in to_run])
        stopped = self._execute(pid, job_id, spec, sets, started, progress, name)
        self._finish(pid, job_id, spec, stopped, base_job, plan.replaced + plan.removed)
        if progress is not None:
            progress(self._progress(pid, job_id, name, started))

    def _base_states(self, pid: int, seq: int) -> tuple[str | None, dict[str, tuple[str, str]]]:
        """The base job (latest successful job before ``seq``) and its datums' hash and
        state (their outputs stay in the database: see :meth:`_copy_skipped`)."""
        row = self.db.one(
            "SELECT id FROM jobs WHERE pipeline_id = ? AND seq < ? AND state = 'SUCCESS' "
            "ORDER BY seq DESC LIMIT 1",
            (pid, seq),
        )
        if row is None:
            return None, {}
        rows = self.db.all(
            "SELECT datum_id, hash, state FROM datums WHERE pipeline_id = ? AND job_id = ?",
            (pid, row[0]),
        )
        return row[0], {d: (h, s) for d, h, s in rows}

    def _copy_skipped(
        self,
        pid: int,
        job_id: str,
        base_job: str,
        datums: dict[str, Datum],
        skip: list[str],
        base: dict[str, tuple[str, str]],
        existing: dict[str, str],
    ) -> None:
        """Record the skipped datums by copying their base rows inside the database (hash
        and output as they were; the input commits in ``inputs`` rewritten to this job's):
        every skippable base row, then out with those that are not skipped. A skipped datum
        costs the driver no Python work beyond its ID in ``skip``."""
        base_commits = {
            i["name"]: i["commit"]
            for i in json.loads(
                self.db.one(
                    "SELECT inputs FROM jobs WHERE pipeline_id = ? AND id = ?", (pid, base_job)
                )[0]
            )
        }
        inputs = itertools.chain.from_iterable(d.inputs for d in datums.values())
        heads: set[tuple[str, str, str, str]] = set(map(operator.itemgetter(0, 1, 2, 3), inputs))
        expr, params = "inputs", []
        for name, repo, branch, commit in sorted(heads, key=str):
            old = base_commits.get(name, commit)
            if old != commit:
                expr = f"REPLACE({expr}, ?, ?)"
                params += [
                    _input_head(name, repo, branch, old),
                    _input_head(name, repo, branch, commit),
                ]
        self.db.execute(
            "INSERT OR IGNORE INTO datums (pipeline_id, job_id, datum_id, hash, state, "
            f"output_root, inputs) SELECT pipeline_id, ?, datum_id, hash, 'SKIPPED', "
            f"output_root, {expr} FROM datums WHERE pipeline_id = ? AND job_id = ? "
            "AND state IN ('SUCCESS', 'SKIPPED')",
            (job_id, *params, pid, base_job),
        )
        skipped = set(skip)
        extra = [
            (pid, job_id, d)
            for d, (_, state) in base.items()
            if state in SKIPPABLE_STATES and d not in skipped and d not in existing
        ]
        self.db.executemany(
            "DELETE FROM datums WHERE pipeline_id = ? AND job_id = ? AND datum_id = ?", extra
        )

    def _task_sets(
        self, spec: PipelineSpec, name: str, project: str, job_id: str, datums: list[Datum]
    ) -> list[TaskSet]:
        if not datums:
            return []
        dss = spec.datum_set_spec
        sets_wanted = spec.parallelism * (dss.per_worker or 4)  # default: 4 sets per worker
        per_set = dss.number or max(1, math.ceil(len(datums) / sets_wanted))
        env = (
            ("PACH_JOB_ID", job_id),
            ("PACH_OUTPUT_COMMIT_ID", job_id),
            ("PPS_PIPELINE_NAME", name),
            ("PPS_PROJECT_NAME", project),
        )
        resources = tuple(sorted({**spec.resource_requests, **spec.resource_limits}.items()))
        sets: list[TaskSet] = []
        batch: list[Datum] = []
        batch_bytes = 0
        for d in datums:
            batch.append(d)
            batch_bytes += sum(f.size for i in d.inputs for f in i.files)
            full = len(batch) >= per_set or (dss.size_bytes and batch_bytes >= dss.size_bytes)
            if full:
                sets.append(self._task_set(spec, name, project, job_id, batch, env, resources))
                batch, batch_bytes = [], 0
        if batch:
            sets.append(self._task_set(spec, name, project, job_id, batch, env, resources))
        return sets

    def _task_set(
        self,
        spec: PipelineSpec,
        name: str,
        project: str,
        job_id: str,
        batch: list[Datum],
        env: tuple[tuple[str, str], ...],
        resources: tuple[tuple[str, float], ...],
    ) -> TaskSet:
        return TaskSet(
            job_id=job_id, pipeline=name, project=project, output_commit=job_id,
            transform=spec.transform, store_url=self.store.url,
            datums=tuple(datum_task(d) for d in batch), datum_tries=spec.datum_tries,
            datum_timeout=spec.datum_timeout, env=env, resources=resources,
        )  # fmt: skip

    def _execute(
        self,
        pid: int,
        job_id: str,
        spec: PipelineSpec,
        sets: list[TaskSet],
        started: float,
        progress: Progress | None,
        name: str,
    ) -> str:
        """Run the sets; returns "" or why the job was cut short (stopped, timed out)."""
        if not sets:
            return ""
        executor = self.executor()
        stop = threading.Event()
        why: list[str] = []

        def monitor() -> None:
            while not stop.wait(0.25):
                row = self.db.one(
                    "SELECT stop_requested FROM jobs WHERE pipeline_id = ? AND id = ?",
                    (pid, job_id),
                )
                if row is None or row[0]:
                    why.append("stopped by the user")
                elif spec.job_timeout and time.time() - started > spec.job_timeout:
                    why.append(f"job timed out after {spec.job_timeout:g}s")
                if why:
                    executor.cancel(job_id)
                    return
                for (datum_id,) in self.db.all(
                    "SELECT datum_id FROM datums WHERE pipeline_id = ? AND job_id = ? "
                    "AND restart_requested = 1",
                    (pid, job_id),
                ):
                    executor.restart_datum(job_id, datum_id)
                    with self.db.tx():
                        self.db.execute(
                            "UPDATE datums SET restart_requested = 0 WHERE pipeline_id = ? "
                            "AND job_id = ? AND datum_id = ?",
                            (pid, job_id, datum_id),
                        )

        watcher = threading.Thread(target=monitor, name=f"loxo-job-{job_id[:8]}", daemon=True)
        watcher.start()
        last = 0.0
        recorder = ResultRecorder(self.db, pid, _root_blob)
        try:
            for result in executor.run(sets, parallelism=spec.parallelism):
                recorder.add(result)
                if progress is not None and time.monotonic() - last > 0.1:
                    last = time.monotonic()
                    recorder.flush()
                    progress(self._progress(pid, job_id, name, started))
        finally:
            stop.set()
            watcher.join()
            recorder.close()
        return why[0] if why else ""

    def _update_counters(self, pid: int, job_id: str) -> None:
        agg = self.db.one(
            "SELECT SUM(state = 'SUCCESS'), SUM(state = 'SKIPPED'), SUM(state = 'FAILED'), "
            "SUM(state = 'RECOVERED'), SUM(download_bytes), SUM(upload_bytes), "
            "SUM(download_seconds), SUM(process_seconds), SUM(upload_seconds) "
            "FROM datums WHERE pipeline_id = ? AND job_id = ?",
            (pid, job_id),
        )
        self.db.execute(
            "UPDATE jobs SET data_processed = ?, data_skipped = ?, data_failed = ?, "
            "data_recovered = ?, download_bytes = ?, upload_bytes = ?, download_seconds = ?, "
            "process_seconds = ?, upload_seconds = ? WHERE pipeline_id = ? AND id = ?",
            (*(v or 0 for v in agg), pid, job_id),
        )

    def _progress(self, pid: int, job_id: str, name: str, started: float) -> JobProgress:
        total, processed, skipped, failed, recovered, state = self.db.one(
            "SELECT data_total, data_processed, data_skipped, data_failed, data_recovered, "
            "state FROM jobs WHERE pipeline_id = ? AND id = ?",
            (pid, job_id),
        )
        return JobProgress(
            name, job_id, total, processed, skipped, failed, recovered, started, JobState(state)
        )

    def _finish(
        self,
        pid: int,
        job_id: str,
        spec: PipelineSpec,
        stopped: str,
        base_job: str | None,
        gone: list[str],
    ) -> None:
        with self.db.tx():
            self._update_counters(pid, job_id)
        if stopped:
            state = JobState.KILLED if "stopped" in stopped else JobState.FAILURE
            self._end_job(pid, job_id, state, stopped, None)
            return
        failed = self.db.all(
            "SELECT datum_id, error FROM datums WHERE pipeline_id = ? AND job_id = ? "
            "AND state = 'FAILED' ORDER BY datum_id",
            (pid, job_id),
        )
        if failed:
            reason = f"{len(failed)} datum(s) failed; datum {failed[0][0]}: {failed[0][1]}"
            self._end_job(pid, job_id, JobState.FAILURE, reason, None)
            return
        project, name = self._pipeline_name(pid)
        repo_id = self._repo_id(name, project)
        base_root = None
        if base_job is not None:
            base_row = self._commit_row(repo_id, base_job)
            base_root = base_row.root_ref if base_row is not None else None
        removed = self._outputs_of(pid, base_job, gone) if base_job is not None else []
        added = [
            (d, root)
            for d, blob in self.db.all(
                "SELECT datum_id, output_root FROM datums WHERE pipeline_id = ? AND job_id = ? "
                "AND state = 'SUCCESS' AND output_root IS NOT NULL ORDER BY datum_id",
                (pid, job_id),
            )
            if (root := _root(blob)) is not None
        ]
        try:
            root = assemble(self.nodes, base_root, removed, added, self._owner(pid, job_id))
        except OutputCollision as err:
            self._end_job(pid, job_id, JobState.FAILURE, str(err), None)
            return
        self.store.sync()
        if spec.egress:
            with self.db.tx():
                self.db.execute(
                    "UPDATE jobs SET state = 'EGRESSING' WHERE pipeline_id = ? AND id = ?",
                    (pid, job_id),
                )
            try:
                egress(self, root, str(spec.egress["url"]))
            except LoxoError as err:
                self._end_job(pid, job_id, JobState.FAILURE, f"egress failed: {err}", root)
                return
        self._end_job(pid, job_id, JobState.SUCCESS, "", root)

    def _outputs_of(self, pid: int, job_id: str, datum_ids: list[str]) -> list[OutputRoot]:
        """The outputs of these datums of ``job_id`` (those that have one)."""
        found: list[OutputRoot] = []
        for k in range(0, len(datum_ids), 500):
            batch = datum_ids[k : k + 500]
            for (blob,) in self.db.all(
                "SELECT output_root FROM datums WHERE pipeline_id = ? AND job_id = ? "
                f"AND datum_id IN ({', '.join('?' * len(batch))})",
                (pid, job_id, *batch),
            ):
                if (root := _root(blob)) is not None:
                    found.append(root)
        return found

    def _owner(self, pid: int, job_id: str) -> Callable[[str], str]:
        def owner(path: str) -> str:
            for d, blob in self.db.all(
                "SELECT datum_id, output_root FROM datums WHERE pipeline_id = ? AND job_id = ? "
                "AND state = 'SKIPPED' AND output_root IS NOT NULL",
                (pid, job_id),
            ):
                root = _root(blob)
                if root is None:
                    continue
                if isinstance(root, NodeRef):
                    if self._reader(root).get(path) is not None:
                        return str(d)
                elif any(e.path == path for e in output_entries(self.nodes, root)):
                    return str(d)
            return "(an earlier datum)"

        return owner

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor = None
        super().close()


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused (process-wide) while the block runs."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _inputs_json(d: Datum) -> str:
    """``json.dumps([{"name", "repo", "branch", "commit", "path"} of each input])``, with the
    part every datum of an input shares encoded once (a skipped datum costs a few us)."""
    parts = [_input_head(i.name, i.repo, i.branch, i.commit) + json.dumps(i.path) + "}"
             for i in d.inputs]  # fmt: skip
    return "[" + ", ".join(parts) + "]"


@functools.lru_cache(maxsize=1024)
def _input_head(name: str, repo: str, branch: str, commit: str | None) -> str:
    head = json.dumps({"name": name, "repo": repo, "branch": branch, "commit": commit})
    return head[:-1] + ', "path": '
