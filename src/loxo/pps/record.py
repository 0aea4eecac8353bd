"""Recording datum results: many results, one transaction.

A job's results arrive from the executor one by one, thousands a second for small datums.
One transaction each (an UPDATE of the datum row, its log lines, the job's live counters)
would make the driver, not the workers, the bottleneck, so :class:`ResultRecorder` queues
them and a background thread writes whatever has queued at most ``FLUSH_SECONDS`` after
the first of a batch arrived, in one transaction: the datum rows and log lines with
``executemany``, the job's counters with one UPDATE of the summed increments.

A result not yet written when the driver dies is simply lost: its datum is still STARTING
in the database and runs again when the job resumes (tasks are idempotent), so crash
recovery stays exact. :meth:`ResultRecorder.close` writes the rest (at once: it does not
wait out a batch's delay) and must run before the job is finished.

Each batch's transaction first calls ``fence`` (the driver's :func:`~loxo.pps.claim.
check_claim`): a driver whose job was taken over writes nothing. A batch that meets a busy
database (:class:`~loxo.errors.TransientError`) stays queued and is written again after a
backoff (:func:`~loxo.pfs.db.retrying`), for up to ``retry_for`` seconds; any other error
stops the recorder and is raised by the next :meth:`~ResultRecorder.add` or by
:meth:`~ResultRecorder.close`.

The rows a batch updates may still be being written when the first results arrive (the
driver records a job's plan while its first datums already run): ``rows_ready`` is called
before the first write and returns once they exist (or raises why they never will).

The recorder also keeps the output roots of the datums that succeeded (:attr:`outputs`),
so that finishing the job needs no second pass over the rows; past
:data:`OUTPUTS_KEPT` datums it lets them go (:attr:`outputs` becomes None) and the rows
are the record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from loxo.errors import TransientError
from loxo.execution.output import parse_root
from loxo.execution.task import DatumResult, DatumState
from loxo.pfs.db import RETRY_FOR, Database, retrying

from .assemble import OutputRoot

FLUSH_SECONDS = 0.02
OUTPUTS_KEPT = 200_000  # output roots held for the job's end (~0.2 KB each)
_COUNTER = {
    "SUCCESS": "data_processed",
    "FAILED": "data_failed",
    "RECOVERED": "data_recovered",
}
_UPDATE = (
    "UPDATE datums SET state = ?, output_root = ?, attempts = ?, error = ?, started = ?, "
    "finished = ?, worker = ?, download_seconds = ?, process_seconds = ?, upload_seconds = ?, "
    "download_bytes = ?, upload_bytes = ? WHERE pipeline_id = ? AND job_id = ? AND datum_id = ?"
)
_LOGS = (
    "INSERT INTO logs (pipeline_id, job_id, datum_id, time, stream, worker, line) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


class ResultRecorder:
    """Writes the results of one pipeline's job in batches (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        pid: int,
        encode_root: Callable[[Any], bytes | None],
        rows_ready: Callable[[], object] = lambda: None,
        fence: Callable[[], object] = lambda: None,
        retry_for: float = RETRY_FOR,
    ) -> None:
        self._db, self._pid, self._encode = db, pid, encode_root
        self._fence, self._retry_for = fence, retry_for
        self._rows_ready: Callable[[], object] | None = rows_ready
        self.outputs: dict[str, OutputRoot] | None = {}  # datum ID -> its output
        self._cv = threading.Condition()
        self._pending: list[DatumResult] = []
        self._closed = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="loxo-recorder", daemon=True)
        self._thread.start()

    def add(self, result: DatumResult) -> None:
        """Queue ``result``; raises if an earlier batch could not be written."""
        if self._error is not None:
            raise self._error
        with self._cv:
            self._pending.append(result)
            if len(self._pending) == 1:
                self._cv.notify()

    def flush(self) -> None:
        """Write everything queued so far, now (what meets a busy database stays queued)."""
        with self._cv:
            batch, self._pending = self._pending, []
        if batch:
            try:
                if self._rows_ready is not None:
                    self._rows_ready()
                    self._rows_ready = None
                self._write(batch)
            except TransientError:
                with self._cv:
                    self._pending[:0] = batch
                raise

    def close(self) -> None:
        """Write the rest and stop; raises if a batch could not be written."""
        with self._cv:
            self._closed = True
            self._cv.notify()
        self._thread.join()
        if self._error is None:
            retrying(self.flush, retry_for=self._retry_for)
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._pending and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                self._cv.wait(FLUSH_SECONDS)  # let a batch gather (close() cuts it short)
                if self._closed:
                    return
            try:
                retrying(self.flush, retry_for=self._retry_for)
            except BaseException as e:  # reported to the driver by add() or close()
                self._error = e
                return

    def _write(self, batch: Sequence[DatumResult]) -> None:
        pid = self._pid
        rows, logs = [], []
        counts: dict[tuple[str, str], list[float]] = {}
        for r in batch:
            state = str(r.state)
            rows.append(
                (state, self._encode(r.output_root) if state == "SUCCESS" else None,
                 r.attempts, r.error, r.started, r.finished, r.worker, r.download_seconds,
                 r.process_seconds, r.upload_seconds, r.download_bytes, r.upload_bytes,
                 pid, r.job_id, r.datum_id)
            )  # fmt: skip
            logs += [
                (pid, r.job_id, r.datum_id, x.time, x.stream, r.worker, x.line) for x in r.logs
            ]
            c = counts.setdefault((r.job_id, state), [0, 0, 0, 0.0, 0.0, 0.0])
            c[0] += 1
            c[1] += r.download_bytes
            c[2] += r.upload_bytes
            c[3] += r.download_seconds
            c[4] += r.process_seconds
            c[5] += r.upload_seconds
        self._keep_outputs(batch)
        with self._db.tx():
            self._fence()
            self._db.executemany(_UPDATE, rows)
            if logs:
                self._db.executemany(_LOGS, logs)
            for (job_id, state), (n, *sums) in counts.items():
                column = _COUNTER.get(state)
                # live counters by increment; the driver recounts exactly at the end
                self._db.execute(
                    "UPDATE jobs SET "
                    + (f"{column} = {column} + ?, " if column else "")
                    + "download_bytes = download_bytes + ?, upload_bytes = upload_bytes + ?, "
                    "download_seconds = download_seconds + ?, "
                    "process_seconds = process_seconds + ?, upload_seconds = upload_seconds + ? "
                    "WHERE pipeline_id = ? AND id = ?",
                    ((n,) if column else ()) + tuple(sums) + (pid, job_id),
                )

    def _keep_outputs(self, batch: Sequence[DatumResult]) -> None:
        """Add the batch's output roots to :attr:`outputs` (parsed: done while the job runs,
        this is not left for its end)."""
        outputs = self.outputs
        if outputs is None:
            return
        for r in batch:
            if r.state == DatumState.SUCCESS and r.output_root is not None:
                outputs[r.datum_id] = parse_root(r.output_root)
            else:
                outputs.pop(r.datum_id, None)
        if len(outputs) > OUTPUTS_KEPT:
            self.outputs = None
