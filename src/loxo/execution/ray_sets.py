"""The Ray executor's record of its runs, its slots, and the datum sets in flight.

A :class:`Run` is one ``RayExecutor.run()`` call: its mailbox key, the environment it
forwards, its parallelism, its sets in flight keyed by the key of their current
assignment, and the jobs cancelled meanwhile. A :class:`Slot` is a long-lived Ray task of
the executor that runs the sets it is handed one after another, whatever their run: its
Ray options and the sets handed to it (none: idle). An :class:`InFlight` is one datum set:
the datums not finished yet, what the worker running it last reported (node, pid,
running datum and attempt, a Python call's deadline) and what the executor has decided
about it (cancelled, being killed, how often its slot died under it without progress).
When a slot's worker dies, the running datum -- as the reports tell, or the worker's
attempt record where that is newer (:meth:`InFlight.adopt`) -- loses one attempt
(:func:`lose_attempt`), as in the local executor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .ray_attempts import Record
from .runtime import Resume
from .task import DatumResult, DatumState, LogLine, TaskSet

__all__ = ["InFlight", "Run", "Slot", "failed_result", "lose_attempt"]


@dataclass(eq=False)
class Slot:
    """A long-lived Ray task: it takes sets from its own mailbox (``key``)."""

    key: str
    ref: Any  # the task's ObjectRef: resolves when the slot ends (or its worker dies)
    options: dict[str, Any]
    sets: list[InFlight] = field(default_factory=list)  # handed to it, not reported done
    # (the first runs; the next waits on the board: at most QUEUE, all of one run)
    node: str = ""  # where its worker runs, once it said so (its "slot" report)
    pid: int = 0


@dataclass(eq=False)
class Run:
    """One ``run()`` call: its mailbox, sets in flight (by assignment key), cancellations."""

    key: str
    env: dict[str, str | None]
    code_paths: list[str]
    parallelism: int = 1
    sets: dict[str, InFlight] = field(default_factory=dict)
    cancelled_jobs: set[str] = field(default_factory=set)
    poll: Any = None  # the outstanding long poll of the mailbox


@dataclass(eq=False)
class InFlight:
    """A datum set in flight, and what the worker of its current task reported."""

    run: Run
    ts: TaskSet  # the datums not finished yet (shrinks when the set is submitted again)
    options: dict[str, Any]
    resumes: dict[str, Resume] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    deaths: dict[str, int] = field(default_factory=dict)
    fruitless: int = 0
    cancelled: bool = False
    # the current assignment (to a slot)
    key: str = ""
    slot: Slot | None = None
    node: str = ""
    pid: int = 0
    datum: str | None = None
    attempt: int = 0
    python: bool = False  # a Python call is running: only killing the worker stops it
    timeout: float = 0.0
    deadline: float | None = None
    logs: list[LogLine] = field(default_factory=list)
    kill_reason: str = ""  # why the executor is killing the worker (restart, timeout)
    escalate_at: float | None = None  # then ray.cancel(force=True) if the task still runs
    progressed: bool = False
    withdrawing: bool = False  # asked back from its slot, for an idle one (no answer yet)

    @property
    def ref(self) -> Any:
        """The ObjectRef of the slot running this set (cancelling it kills the slot)."""
        return self.slot.ref if self.slot is not None else None

    def begin_task(self, key: str, slot: Slot) -> None:
        self.key, self.slot, self.node, self.pid = key, slot, "", 0
        self.datum, self.attempt, self.python, self.deadline = None, 0, False, None
        self.logs, self.kill_reason, self.escalate_at, self.progressed = [], "", None, False
        self.withdrawing = False

    def clear_kill(self) -> None:
        if self.kill_reason and not self.cancelled:
            self.kill_reason, self.escalate_at = "", None

    def remaining(self) -> tuple[Any, ...]:
        return tuple(t for t in self.ts.datums if t.datum_id not in self.done)

    def adopt(self, record: Record | None) -> bool:
        """Take the dead worker's attempt record as what ran last, if it is of the current
        assignment and newer than the reports (a later datum of the set, or a later attempt
        of the same one); True if it was taken. The datum's logs are then what the driver
        had (its resume's, or the last report's for the same datum): what the lost report
        carried is lost."""
        if record is None or record.key != self.key:
            return False
        if not 0 <= record.position < len(self.ts.datums):
            return False
        order = [t.datum_id for t in self.ts.datums]
        reported = order.index(self.datum) if self.datum in order else -1
        if (record.position, record.attempt) <= (reported, self.attempt):
            return False
        datum = order[record.position]
        if datum != self.datum:
            resume = self.resumes.get(datum)
            self.logs = list(resume.logs) if resume else []
        self.datum, self.attempt, self.python, self.progressed = datum, record.attempt, True, True
        return True


def lose_attempt(s: InFlight, why: str) -> DatumResult | None:
    """The running attempt of ``s.datum`` died with its worker: it counts as failed (the
    local executor's rule). The datum's FAILED result when no attempt is left (nor an
    ``err_cmd`` worth another try); otherwise where it stands goes to ``s.resumes``."""
    assert s.datum is not None
    tries = max(1, s.ts.datum_tries)
    prior = s.resumes[s.datum].attempts if s.datum in s.resumes else 0
    attempts = max(s.attempt, prior + 1)
    deaths = s.deaths[s.datum] = s.deaths.get(s.datum, 0) + 1
    logs = [*s.logs, LogLine(time.time(), "system", f"attempt {attempts} of {tries} failed: {why}")]
    if attempts < tries or (s.ts.transform.err_cmd and deaths <= tries):
        s.resumes[s.datum] = Resume(attempts, why, tuple(logs))
        return None
    s.done.add(s.datum)
    now = time.time()
    return DatumResult(
        s.ts.job_id, s.datum, DatumState.FAILED, attempts=attempts,
        started=now, finished=now, error=why, logs=logs,
    )  # fmt: skip


def failed_result(ts: TaskSet, datum_id: str, why: str, resume: Resume | None) -> DatumResult:
    now = time.time()
    logs = [*(resume.logs if resume else ()), LogLine(now, "system", why)]
    attempts = resume.attempts if resume else 0
    return DatumResult(
        ts.job_id, datum_id, DatumState.FAILED, attempts=attempts,
        started=now, finished=now, error=why, logs=logs,
    )  # fmt: skip
