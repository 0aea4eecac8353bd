"""The job display of ``loxo.cli.driving`` and the job formatting helpers, in-process: the
summary lines, the bars a terminal shows, and durations."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import pytest

from loxo.cli.driving import JobBars, JobReporter, summary
from loxo.cli.job_cmds import progress_text
from loxo.cli.output import human_duration, truncate
from loxo.pps.model import JobInfo, JobProgress, JobState

JOB = JobInfo(
    pipeline="edges", project="default", id="5f2c" + "0" * 28, version=1,
    state=JobState.SUCCESS, reason="", output_commit="5f2c" + "0" * 28, inputs=[],
    created=100.0, started=101.0, finished=103.3, data_total=40, data_processed=37,
    data_skipped=3, data_failed=0, data_recovered=0, download_bytes=0, upload_bytes=0,
    download_seconds=0.0, process_seconds=0.0, upload_seconds=0.0,
)  # fmt: skip


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_summary_lines() -> None:
    assert summary(JOB) == (
        f"job edges@{JOB.id} SUCCESS: 40 datums, 37 processed, 3 skipped, 0 failed in 2.3s"
    )
    failed = replace(
        JOB, state=JobState.FAILURE, data_total=1, data_processed=0, data_skipped=0,
        data_failed=1, data_recovered=2, reason="1 datum(s) failed;\nexit code 3",
    )  # fmt: skip
    assert summary(failed).endswith(
        "FAILURE: 1 datum, 0 processed, 0 skipped, 1 failed, 2 recovered in 2.3s: "
        "1 datum(s) failed; exit code 3"
    )
    running = replace(JOB, state=JobState.RUNNING, finished=None)
    assert summary(running, now=161.0).endswith(" in 1m0s")


def _progress(done: int, state: JobState = JobState.RUNNING) -> JobProgress:
    return JobProgress("edges", JOB.id, 40, done - 3, 3, 0, 0, 100.0, state)


def test_bars_show_each_running_job_and_go_when_it_ends() -> None:
    screen = Terminal()
    bars = JobBars(screen)
    bars.update(_progress(15))
    shown = screen.getvalue()
    assert "edges@5f2c0000" in shown and "15/40 datums  3 skipped  0 failed" in shown
    bars.update(_progress(40, JobState.SUCCESS))
    assert "40/40 datums" in screen.getvalue()
    bars.close()


class FakeClient:
    def __init__(self, jobs: list[JobInfo]) -> None:
        self.jobs = jobs

    def list_job(self, **kwargs: Any) -> list[JobInfo]:
        return [j for j in self.jobs if j.id == kwargs["job_id"]]

    def drive(self, *, progress: Any) -> list[tuple[str, str]]:
        progress(_progress(20))
        progress(_progress(40, JobState.SUCCESS))
        return [("edges", JOB.id)]


@pytest.mark.parametrize("tty", [False, True])
def test_reporter_prints_one_summary_per_job(tty: bool) -> None:
    from loxo.cli import driving

    stream: io.StringIO = Terminal() if tty else io.StringIO()
    ran = driving.drive(FakeClient([JOB]), stream)  # type: ignore[arg-type]
    assert ran == [("edges", JOB.id)]
    text = stream.getvalue()
    assert text.count(summary(JOB)) == 1
    assert ("20/40 datums" in text) is tty
    if not tty:
        assert text == summary(JOB) + "\n"
    assert JobReporter(FakeClient([]), io.StringIO()).bars is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0s"), (2.34, "2.3s"), (42.9, "42s"), (64, "1m4s"), (7380, "2h3m"), (97200, "1d3h")],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_truncate_and_progress() -> None:
    assert truncate("a  b\nc", 10) == "a b c"
    assert truncate("x" * 20, 10) == "xxxxxxx..."
    assert progress_text(JOB) == "37 + 3 / 40"
    assert progress_text(replace(JOB, data_failed=2, data_recovered=1)) == (
        "37 + 3 / 40, 2 failed, 1 recovered"
    )
