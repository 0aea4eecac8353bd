"""Running jobs in this process, with a live display and one summary line per job.

In embedded mode there is no server: the process that finished an input commit drives the
jobs it started until the DAG is quiet. The CLI does so after every command that finishes
input commits (``put file``, ``finish commit``, ``create pipeline``...), and before any other
command when jobs are pending (left by ``--no-wait`` or by a process that died), unless
``--no-wait`` (``LOXO_NO_WAIT=1``) says not to; ``wait commit`` and ``wait job`` always do.

While jobs run, a terminal on stderr shows one bar per running job::

    edges@5f2c81d0  ███▌       12/40 datums  3 skipped  0 failed  4.10/s  ETA 00:07

and once a job ends, one summary line goes to stderr, terminal or not::

    job edges@5f2c81d0e4b94a7f9c3e2d1b0a987654 SUCCESS: 40 datums, 37 processed, 3 skipped,
    0 failed in 2.3s

(on one line, with the full job ID, ready for ``loxo inspect job``). A job that did not succeed
keeps the write that started it (its commit is made), and makes the command that waited for
it exit 10 (:mod:`.outcome`).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from loxo.client import Client
from loxo.pps.model import JobInfo, JobProgress

from .output import human_duration, truncate

BAR_FORMAT = (
    "{{desc}}  {{bar:12}} {{n_fmt}}/{{total_fmt}} datums  {skipped} skipped  {failed} failed"
    "  {{rate_fmt}}  ETA {{remaining}}"
)  # tqdm's fields in double braces; ours filled in on each update
REASON_WIDTH = 200


def job_label(pipeline: str, job_id: str) -> str:
    """``edges@5f2c81d0``: a job, short, for displays."""
    return f"{pipeline}@{job_id[:8]}"


def summary(job: JobInfo, now: float | None = None) -> str:
    """One line telling how a job ended: counts, time taken and, if it failed, why."""
    end = job.finished or (time.time() if now is None else now)
    took = human_duration(end - (job.started or job.created))
    datums = "datum" if job.data_total == 1 else "datums"
    counts = (
        f"{job.data_total} {datums}, {job.data_processed} processed, "
        f"{job.data_skipped} skipped, {job.data_failed} failed"
    )
    if job.data_recovered:
        counts += f", {job.data_recovered} recovered"
    line = f"job {job.pipeline}@{job.id} {job.state}: {counts} in {took}"
    return f"{line}: {truncate(job.reason, REASON_WIDTH)}" if job.reason else line


class JobBars:
    """One tqdm bar per running job, on a terminal; a job's bar goes when it ends."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._bars: dict[tuple[str, str], Any] = {}

    def update(self, p: JobProgress) -> None:
        key = (p.pipeline, p.job_id)
        done = p.processed + p.skipped + p.failed + p.recovered
        bar = self._bars.get(key)
        if bar is None:
            from tqdm import tqdm  # only terminals pay for the import

            bar = tqdm(
                total=p.total,
                initial=done,  # the rate counts from here: skips are instant
                desc=job_label(p.pipeline, p.job_id),
                unit="",
                bar_format=BAR_FORMAT.format(skipped=0, failed=0),
                file=self.stream,
                leave=False,
                dynamic_ncols=True,
            )
            self._bars[key] = bar
        bar.total = p.total
        bar.bar_format = BAR_FORMAT.format(skipped=p.skipped, failed=p.failed)
        bar.n = done
        bar.refresh()  # the driver already calls at most every 0.1s: show every call
        if p.state.done:
            self.end(key)

    def end(self, key: tuple[str, str]) -> None:
        bar = self._bars.pop(key, None)
        if bar is not None:
            bar.close()

    def write(self, line: str) -> None:
        """A line above the bars."""
        from tqdm import tqdm

        tqdm.write(line, file=self.stream)

    def close(self) -> None:
        for key in list(self._bars):
            self.end(key)


class JobReporter:
    """The ``progress`` callback of :meth:`Service.drive`: bars on a terminal, and one summary
    line per job as it ends."""

    def __init__(self, client: Client, stream: TextIO) -> None:
        self.client, self.stream = client, stream
        self.bars = JobBars(stream) if stream.isatty() else None
        self._reported: set[tuple[str, str]] = set()

    def progress(self, p: JobProgress) -> None:
        if self.bars is not None:
            self.bars.update(p)
        if p.state.done:
            self.report(p.pipeline, p.job_id)

    def report(self, pipeline: str, job_id: str) -> None:
        """Print the summary line of a job that ended (once)."""
        if (pipeline, job_id) in self._reported:
            return
        self._reported.add((pipeline, job_id))
        jobs: list[JobInfo] = self.client.list_job(job_id=job_id)
        for job in jobs:
            if job.pipeline == pipeline:
                self._write(summary(job))

    def _write(self, line: str) -> None:
        if self.bars is not None:
            self.bars.write(line)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.bars is not None:
            self.bars.close()


def drive(client: Client, stream: TextIO | None = None) -> list[tuple[str, str]]:
    """Run every runnable job until the DAG is quiet, reporting on ``stream`` (stderr);
    the (pipeline, job ID) pairs run."""
    reporter = JobReporter(client, stream or sys.stderr)
    try:
        ran: list[tuple[str, str]] = client.drive(progress=reporter.progress)
    finally:
        reporter.close()
    for pipeline, job_id in ran:
        reporter.report(pipeline, job_id)
    return ran
